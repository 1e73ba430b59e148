"""The console's pure parts: sign-in limits, session secrets, token holders, the chart, the labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from duban_console.auth import Directory, Principal, fingerprint
from duban_console.config import ConsoleSettings, PlaceholderSecret, check_secret, home_secret
from duban_console.security import SignInLimiter
from duban_console.views import chart, light, resolve_reason
from duban_kit.http import Role


def test_failed_sign_ins_are_limited_per_address_within_the_window() -> None:
    limiter = SignInLimiter(allowed=3, window=60)
    for second in range(3):
        assert limiter.retry_after("10.0.0.1", now=100 + second) is None
        limiter.failed("10.0.0.1", now=100 + second)
    assert limiter.retry_after("10.0.0.1", now=103) == pytest.approx(57)
    assert limiter.retry_after("10.0.0.2", now=103) is None  # another address is not held up
    assert limiter.retry_after("10.0.0.1", now=160.5) is None  # the first failure has left the window


@pytest.mark.parametrize("secret", ["change-me", "x" * 40, "my-session-secret-0123456789abcdefghij", "short"])
def test_placeholder_and_weak_session_secrets_are_refused(secret: str) -> None:
    with pytest.raises(PlaceholderSecret):
        check_secret(secret)
    with pytest.raises(ValueError, match="session secret"):
        ConsoleSettings(session_secret=secret)


def test_a_home_gets_one_private_session_secret_that_stays(tmp_path: Path) -> None:
    path = tmp_path / "var" / "console-session-secret"
    first = home_secret(path)
    check_secret(first)
    assert path.stat().st_mode & 0o777 == 0o600
    assert home_secret(path) == first


def test_a_token_signs_in_its_holder_and_the_session_keeps_only_its_fingerprint() -> None:
    directory = Directory(
        {"a-long-operator-token-123456": ("张三", Role.OPERATOR), "a-long-reader-token-1234567": ("李四", Role.READER)}
    )
    principal = directory.sign_in(" a-long-operator-token-123456 ")
    assert principal == Principal("张三", Role.OPERATOR, fingerprint("a-long-operator-token-123456"))
    assert directory.sign_in("a-long-operator-token-12345") is None
    assert directory.principal(principal.fingerprint) == principal
    assert directory.token(principal.fingerprint) == "a-long-operator-token-123456"
    assert principal.fingerprint != "a-long-operator-token-123456"


def test_the_chart_scales_completion_and_expected_progress_to_its_box() -> None:
    points = [
        {"occurred_at": "2023-01-31T16:00:00+00:00", "completion": 0.1, "expected": 0.08},
        {"occurred_at": "2023-01-31T18:00:00+00:00", "completion": 0.2, "expected": 0.09},  # same local day: wins
        {"occurred_at": "2023-12-30T16:00:00+00:00", "completion": 1.0, "expected": 1.0},
    ]
    drawn = chart(points, width=100, height=50)
    assert drawn.first == "2023-02-01"
    assert drawn.last == "2023-12-31"
    assert drawn.actual == "0.0,40.0 100.0,0.0"
    assert drawn.expected == "0.0,45.5 100.0,0.0"
    assert chart([]).empty


def test_lights_and_reasons_carry_words_not_only_colours() -> None:
    assert (light("overdue").colour, light("overdue").label) == ("red", "逾期未完成")
    assert light("on_track").symbol != light("lagging").symbol
    assert resolve_reason("manual") == "人工解除"
    assert resolve_reason("status_done") == "指标状态变为已完成"
