"""Regions as the console names them: a village by its name rather than its 12-digit code."""

from __future__ import annotations

from service.registry.workflow import region_names as region_names
