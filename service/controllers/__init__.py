"""Every controller the app serves, in one list."""

from service.controllers.auth import AuthController, UserController
from service.controllers.awards import AwardController
from service.controllers.distributions import DistributionController, register_objection_hooks
from service.controllers.ledger import LedgerController
from service.controllers.notices import NoticeController
from service.controllers.order_farming import OrderFarmingController
from service.controllers.payments import PAYMENT_CONTROLLERS
from service.controllers.pages import PAGE_HANDLERS
from service.controllers.registry import (
    STATUS_LISTENERS, HouseholdController, PovertyLineController, RegionController,
)
from service.controllers.statements import StatementController
from service.controllers.system import SystemController
from service.controllers.ventures import VentureController, poverty_shares_follow_status

STATUS_LISTENERS.append(poverty_shares_follow_status)
register_objection_hooks()

ROUTE_HANDLERS = [
    AuthController,
    UserController,
    RegionController,
    HouseholdController,
    PovertyLineController,
    SystemController,
    LedgerController,
    VentureController,
    OrderFarmingController,
    DistributionController,
    *PAYMENT_CONTROLLERS,
    AwardController,
    NoticeController,
    StatementController,
    *PAGE_HANDLERS,
]
