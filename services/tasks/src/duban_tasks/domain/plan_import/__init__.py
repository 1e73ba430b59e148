"""A draft plan from the text of a Chinese work plan (工作计划, 工作要点, 为民办实事 …)."""

from .comparison import Comparison, TargetKey, compare, keys_of
from .importer import ImportResult, UnreadPhrase, import_plan
from .reading import Draft, Reading, Unread, read_commitments

__all__ = [
    "Comparison",
    "Draft",
    "ImportResult",
    "Reading",
    "TargetKey",
    "Unread",
    "UnreadPhrase",
    "compare",
    "import_plan",
    "keys_of",
    "read_commitments",
]
