"""A simulated year of the district's reporting, for demonstrations, tests and benchmarks.

Pure: plain data in, plain data out; `random.Random(seed)` is the only source of chance and nothing
reads a clock or talks to NATS. `duban.replay` feeds a year to a running stack.
"""

from .load import load_stream
from .model import (
    DUPLICATE_CONTENT,
    DUPLICATE_ID,
    VALID,
    Delivery,
    Expected,
    FileUpload,
    SimulatedYear,
    Submission,
)
from .year import simulate_year

__all__ = [
    "DUPLICATE_CONTENT",
    "DUPLICATE_ID",
    "VALID",
    "Delivery",
    "Expected",
    "FileUpload",
    "SimulatedYear",
    "Submission",
    "load_stream",
    "simulate_year",
]
