"""The release services: the only code that changes releases (DESIGN.md rule 1).

Each takes the acting user, checks permission, validates, changes rows in one transaction
and appends the audit event. Views, the API, the CLI and jobs call these, as
`services.create_release(...)`; the modules below split them by topic.
"""

from relman.releases.services.common import EDITABLE, check_number_rule
from relman.releases.services.deployed import record_deployed
from relman.releases.services.evidence import (
    add_comment,
    add_deliverable,
    complete_checklist_item,
)
from relman.releases.services.lifecycle import (
    advance,
    cancel,
    close,
    create_release,
    return_to_stage,
    roll_back,
    transition,
    update_release,
)
from relman.releases.services.scope import (
    change_items,
    change_teams,
    involved_departments,
    release_impact,
    requester_departments,
    review_impact,
)
from relman.releases.services.state import (
    ActionView,
    ReleaseState,
    StageView,
    flow_of,
    release_state,
    snapshot,
)

__all__ = [
    "EDITABLE",
    "ActionView",
    "ReleaseState",
    "StageView",
    "add_comment",
    "add_deliverable",
    "advance",
    "cancel",
    "change_items",
    "change_teams",
    "check_number_rule",
    "close",
    "complete_checklist_item",
    "create_release",
    "flow_of",
    "involved_departments",
    "record_deployed",
    "release_impact",
    "release_state",
    "requester_departments",
    "return_to_stage",
    "review_impact",
    "roll_back",
    "snapshot",
    "transition",
    "update_release",
]
