"""The alerts domain: rules, alert lifecycle and notification planning. Pure: no I/O, no clock."""

from .alert import Alert, Change, ChangeKind, UpdateKind, alert_id, fingerprint, severity_rank
from .book import AlertBook, AppliedFact, BookState, UnknownAlert, UnknownSilence, state_from_json, state_to_json
from .clusters import CaseRecord
from .config import RulesConfig, load_rules, parse_rules
from .deadlines import ActivityRecord
from .facts import ActivityFact, IncidentFact, MeasurementFact, MilestoneDue, PlanTarget, StatusFact
from .lag import StatusRecord
from .limits import Observation
from .matchers import Matcher, MatchOp, parse_matcher, parse_matchers
from .notifications import GroupLog, Notification, Silence, notification_from_json, notification_to_json
from .plan_targets import plan_targets

__all__ = [
    "ActivityFact",
    "ActivityRecord",
    "Alert",
    "AlertBook",
    "AppliedFact",
    "BookState",
    "CaseRecord",
    "Change",
    "ChangeKind",
    "GroupLog",
    "IncidentFact",
    "MatchOp",
    "Matcher",
    "MeasurementFact",
    "MilestoneDue",
    "Notification",
    "Observation",
    "PlanTarget",
    "RulesConfig",
    "Silence",
    "StatusFact",
    "StatusRecord",
    "UnknownAlert",
    "UnknownSilence",
    "UpdateKind",
    "alert_id",
    "fingerprint",
    "load_rules",
    "notification_from_json",
    "notification_to_json",
    "parse_matcher",
    "parse_matchers",
    "parse_rules",
    "plan_targets",
    "severity_rank",
    "state_from_json",
    "state_to_json",
]
