"""Sessions, CSRF tokens and the limit on failed sign-ins.

The session cookie (Starlette's, signed with itsdangerous, HttpOnly, SameSite=Strict, Secure over
https, expiring) holds the token's fingerprint, the person's name and role as of sign-in, and the
session's CSRF token. Every POST must carry that CSRF token (form field `csrf_token` or header
`X-CSRF-Token`), the sign-in form included (a token is given to the anonymous session that shows it).
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import deque

from starlette.requests import Request

from .auth import Directory, Principal

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def csrf_valid(request: Request, presented: object) -> bool:
    expected = request.session.get("csrf")
    given = presented if isinstance(presented, str) and presented else request.headers.get(CSRF_HEADER, "")
    return isinstance(expected, str) and bool(given) and hmac.compare_digest(expected.encode(), given.encode())


def start_session(request: Request, principal: Principal) -> None:
    """A fresh session for `principal` (and a fresh CSRF token: none from before sign-in survives)."""
    request.session.clear()
    request.session.update({"fp": principal.fingerprint, "at": int(time.time())})
    request.session["csrf"] = secrets.token_urlsafe(32)


def current(request: Request, directory: Directory) -> Principal | None:
    """The signed-in person, if the session's token is still configured."""
    fp = request.session.get("fp")
    return directory.principal(fp) if isinstance(fp, str) else None


class SignInLimiter:
    """At most `allowed` failed sign-ins per client address in any `window` seconds."""

    def __init__(self, allowed: int, window: float) -> None:
        self.allowed = allowed
        self.window = window
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, address: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(address, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def retry_after(self, address: str, now: float | None = None) -> float | None:
        """Seconds until `address` may try again, or None when it may now."""
        now = time.monotonic() if now is None else now
        failures = self._recent(address, now)
        if len(failures) < self.allowed:
            return None
        return max(1.0, failures[0] + self.window - now)

    def failed(self, address: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._recent(address, now).append(now)
        if len(self._failures) > 10_000:  # many addresses: forget the quiet ones
            for key in [k for k, v in self._failures.items() if not v]:
                del self._failures[key]
