"""A draft plan from the text of a Chinese work plan (工作计划, 工作要点, 为民办实事 …)."""

from .importer import ImportResult, UnreadPhrase, import_plan
from .reading import Draft, Reading, Unread, read_commitments
from .scoring import Gold, GoldError, Score, ScoredTarget, combined, load_gold, score, score_plan, targets_of

__all__ = [
    "Draft",
    "Gold",
    "GoldError",
    "ImportResult",
    "Reading",
    "Score",
    "ScoredTarget",
    "Unread",
    "UnreadPhrase",
    "combined",
    "import_plan",
    "load_gold",
    "read_commitments",
    "score",
    "score_plan",
    "targets_of",
]
