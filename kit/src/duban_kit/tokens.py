"""Bearer tokens of the HTTP API: who holds each (a role and a name), read from the settings, and
placeholders refused.

Every token carries a role (what it may do) and an identity (who it is: the actor recorded when it
acknowledges an alert, the integration it speaks as when it uploads). Two spellings:

- the file `DUBAN_API_TOKENS_FILE`, one `token role name` per line (`#` starts a comment);
- the variable `DUBAN_API_TOKENS`, `token:role:name` items separated by commas.

The older two-field forms (`token role`, `token:role`) still work; the name is then
`<role>-<first 4 hex digits of the token's sha256>` — never the token itself, which is never logged
or shown. A token of the `integration` role is named by the integration's id (see
`duban_contracts.subjects.INTEGRATION_ID_RE`), since that is the subject it publishes on.

A template or guessable token is refused at start, in every environment, with an error naming the
setting: shorter than `MIN_TOKEN_LENGTH`, made of one repeated character (or nearly), or containing
a placeholder word (CHANGE-ME, changeme, example, password, placeholder, xxx…, a `test` word).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from duban_contracts.subjects import INTEGRATION_ID_RE

MIN_TOKEN_LENGTH = 24
#: Fewer distinct characters than this and a token is a pattern someone typed, not a secret.
MIN_DISTINCT_CHARACTERS = 6
#: Words of templates and examples, looked for with case and separators ignored (`CHANGE-ME` → `changeme`).
PLACEHOLDER_WORDS = ("changeme", "replaceme", "example", "password", "placeholder")
#: Whole words (between separators) that mark a token typed for a test or a demo.
PLACEHOLDER_TOKENS = frozenset({"test", "testing", "dummy", "sample", "secret", "default"})
#: What a name may hold: no whitespace, and neither of the separators of `DUBAN_API_TOKENS`.
_NAME_RE = re.compile(r"^[^\s:,]{1,64}$")
_SEPARATORS = re.compile(r"[^0-9a-z]+")

FILE_SETTING = "DUBAN_API_TOKENS_FILE"
INLINE_SETTING = "DUBAN_API_TOKENS"


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    INTEGRATION = "integration"
    READER = "reader"


@dataclass(frozen=True)
class Identity:
    """Who holds a token: its name (an actor, or an integration's id) and its role."""

    name: str
    role: Role


class TokenError(ValueError):
    """A token setting that cannot be used; the message names the setting and the entry."""


def placeholder_reason(token: str) -> str | None:
    """Why `token` looks like a template value or a guess, or None when it may be a real secret."""
    if len(token) < MIN_TOKEN_LENGTH:
        return f"it is shorter than {MIN_TOKEN_LENGTH} characters"
    if len(set(token)) < MIN_DISTINCT_CHARACTERS:
        return f"it has fewer than {MIN_DISTINCT_CHARACTERS} different characters"
    lowered = token.lower()
    squeezed = _SEPARATORS.sub("", lowered)
    for word in PLACEHOLDER_WORDS:
        if word in squeezed:
            return f"it contains the placeholder {word!r}"
    if squeezed.startswith("xxx"):
        return "it starts with the placeholder 'xxx'"
    for word in _SEPARATORS.split(lowered):
        if word in PLACEHOLDER_TOKENS:
            return f"it contains the placeholder word {word!r}"
    return None


def generate_token() -> str:
    """A fresh random token (43 URL-safe characters) that passes `placeholder_reason`."""
    while True:
        token = secrets.token_urlsafe(32)
        if placeholder_reason(token) is None:
            return token


def default_name(role: Role, token: str) -> str:
    """The name of a token given without one: its role and a short digest, never the token."""
    return f"{role.value}-{hashlib.sha256(token.encode()).hexdigest()[:4]}"


def load_tokens(tokens_file: Path | None, tokens_inline: str | None) -> dict[str, Identity]:
    """Every configured token and who holds it; `TokenError` naming the setting for anything unusable."""
    entries: list[tuple[str, str, str, str | None]] = []  # (where, token, role, name)
    if tokens_file is not None:
        try:
            text = tokens_file.read_text(encoding="utf-8")
        except OSError as error:
            raise TokenError(f"{FILE_SETTING}={tokens_file}: cannot read it ({error.strerror or error})") from None
        for number, raw_line in enumerate(text.splitlines(), start=1):
            line = raw_line.strip()
            if not line or line.startswith("#"):
                continue
            fields = line.split()
            where = f"{FILE_SETTING}={tokens_file}, line {number}"
            if len(fields) not in {2, 3}:
                raise TokenError(f"{where}: expected `token role name` (or `token role`), got {len(fields)} fields")
            entries.append((where, fields[0], fields[1], fields[2] if len(fields) == 3 else None))
    if tokens_inline:
        for number, item in enumerate((i.strip() for i in tokens_inline.split(",")), start=1):
            if item:
                entries.append((f"{INLINE_SETTING}, item {number}", *_split_inline(item)))
    tokens: dict[str, Identity] = {}
    for where, token, role_text, name in entries:
        identity = _identity(where, token, role_text, name)
        if token in tokens:
            raise TokenError(f"{where}: the same token is listed twice (for {tokens[token].name} and {identity.name})")
        tokens[token] = identity
    return tokens


def _split_inline(item: str) -> tuple[str, str, str | None]:
    """`token:role:name` or the older `token:role` (a token may hold ':' in the older form)."""
    parts = item.rsplit(":", 2)
    if len(parts) == 3 and parts[1] in Role.__members__.values():
        return parts[0], parts[1], parts[2]
    token, _, role = item.rpartition(":")
    return token, role, None


def _identity(where: str, token: str, role_text: str, name: str | None) -> Identity:
    try:
        role = Role(role_text)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise TokenError(f"{where}: unknown role {role_text!r}; roles are {roles}") from None
    reason = placeholder_reason(token)
    if reason is not None:
        raise TokenError(
            f"{where}: the {role.value} token is a placeholder or too easy to guess ({reason}); "
            "use a random one, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
        )
    name = name or default_name(role, token)
    if not _NAME_RE.match(name):
        raise TokenError(f"{where}: name {name!r} must be 1–64 characters without spaces, ':' or ','")
    if role is Role.INTEGRATION and not INTEGRATION_ID_RE.match(name):
        raise TokenError(
            f"{where}: an integration token is named by its integration's id, lowercase letters, digits, "
            f"'-' or '_' (the subject it publishes on); {name!r} is not one"
        )
    return Identity(name=name, role=role)


@dataclass(frozen=True)
class TokenEntry:
    token: str
    role: Role
    name: str


def write_tokens_file(path: Path, entries: Sequence[TokenEntry], *, mode: int = 0o600) -> None:
    """`entries` as a tokens file readable by its owner only (created with that mode, never wider)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# token role name — bearer tokens of duban's HTTP API (keep this file private)"]
    lines += [f"{e.token} {e.role.value} {e.name}" for e in entries]
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write("\n".join(lines) + "\n")
    os.chmod(path, mode)  # O_CREAT's mode does not apply to a file that already existed


def generated_entries(roles: Iterable[tuple[Role, str]]) -> list[TokenEntry]:
    """A fresh random token for each (role, name)."""
    return [TokenEntry(generate_token(), role, name) for role, name in roles]
