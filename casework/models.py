"""Every table, imported in one place for the app, migrations and tests."""
from .accounts.models import (ApiToken, Delegation, Department, DepartmentMember, Relative,  # noqa: F401
                              RoleAssignment, Unit, User)
from .aid.models import AidRequest, AidVisit  # noqa: F401
from .core.calendar import CalendarDay  # noqa: F401
from .core.models import (Attachment, AuditEntry, Case, CaseParty, CongressSession, Serial,  # noqa: F401
                          UnitSetting, Vote)
from .funds.models import Fund, LedgerEntry  # noqa: F401
from .handling.models import Opinion, Routing  # noqa: F401
from .motions.models import Motion  # noqa: F401
from .notifications.models import Notification  # noqa: F401
from .notifications.robots import ChatRobot, RobotOutbox  # noqa: F401
from .proposals.models import Proposal, ProposalScore  # noqa: F401
from .stats.models import StatStay  # noqa: F401
from .supervision.models import BulletinPosting, ProgressNote, Slip  # noqa: F401
from .upward.models import UpwardReport  # noqa: F401
