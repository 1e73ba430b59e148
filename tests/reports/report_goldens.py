"""Golden files: compare rendered bytes with tests/reports/golden/, or rewrite them with UPDATE_GOLDEN=1."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

GOLDEN_DIR = Path(__file__).parent / "golden"


def assert_matches_golden(name: str, rendered: bytes) -> None:
    path = GOLDEN_DIR / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rendered)
        return
    assert path.exists(), f"no golden file {path}; run the tests once with UPDATE_GOLDEN=1 and review it"
    expected = path.read_bytes()
    if rendered != expected:
        raise AssertionError(
            f"{name} differs from its golden file (UPDATE_GOLDEN=1 rewrites it):\n{_diff(expected, rendered)}"
        )


def _diff(expected: bytes, rendered: bytes) -> str:
    try:
        old, new = expected.decode("utf-8").splitlines(), rendered.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return f"binary: {len(expected)} bytes expected, {len(rendered)} rendered"
    return "\n".join(list(difflib.unified_diff(old, new, "golden", "rendered", lineterm=""))[:60])
