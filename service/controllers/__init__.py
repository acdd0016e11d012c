"""Every controller the app serves, in one list."""

from service.controllers.auth import AuthController, UserController
from service.controllers.ledger import LedgerController
from service.controllers.registry import (
    STATUS_LISTENERS, HouseholdController, PovertyLineController, RegionController,
)
from service.controllers.system import SystemController
from service.controllers.ventures import VentureController, poverty_shares_follow_status

STATUS_LISTENERS.append(poverty_shares_follow_status)

ROUTE_HANDLERS = [
    AuthController,
    UserController,
    RegionController,
    HouseholdController,
    PovertyLineController,
    SystemController,
    LedgerController,
    VentureController,
]
