"""python -m service <command>: see service/cli.py."""

import sys

from service.cli import main

sys.exit(main())
