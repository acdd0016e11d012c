"""Every controller the app serves, in one list."""

from service.controllers.auth import AuthController, UserController
from service.controllers.registry import HouseholdController, PovertyLineController, RegionController
from service.controllers.system import SystemController

ROUTE_HANDLERS = [
    AuthController,
    UserController,
    RegionController,
    HouseholdController,
    PovertyLineController,
    SystemController,
]
