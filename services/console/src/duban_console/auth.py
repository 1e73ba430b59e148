"""Who may sign in, and what each role may do on the console's pages.

Sign-in uses the same API tokens as the services' HTTP APIs (`DUBAN_API_TOKENS` /
`DUBAN_API_TOKENS_FILE`, roles admin, operator, integration, reader). The token itself never goes
into the cookie: the session holds the token's fingerprint, looked up again on every request (a
token taken out of the configuration ends its sessions), and the token is used only to forward an
upload to ingest as that person.

`load_directory` reads them as every service does (`duban_kit.tokens.load_tokens`): each token has a
role and a holder's name, and that name is the person recorded for whatever they do here.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from duban_kit.tokens import Role, load_tokens

from .config import ConsoleSettings

ROLE_ZH = {Role.ADMIN: "管理员", Role.OPERATOR: "值班人员", Role.INTEGRATION: "数据接口", Role.READER: "只读用户"}


class Permission:
    """What a role may do beyond seeing (admin may do everything)."""

    ACKNOWLEDGE = frozenset({Role.OPERATOR, Role.ADMIN})
    RESOLVE = frozenset({Role.OPERATOR, Role.ADMIN})
    UPLOAD = frozenset({Role.OPERATOR, Role.INTEGRATION, Role.ADMIN})
    CORRECT = frozenset({Role.OPERATOR, Role.ADMIN})
    GENERATE = frozenset({Role.OPERATOR, Role.ADMIN})
    SILENCE = frozenset({Role.ADMIN})


@dataclass(frozen=True)
class Principal:
    """A signed-in person: the name their actions are recorded under, and their role."""

    name: str
    role: Role
    fingerprint: str

    @property
    def role_zh(self) -> str:
        return ROLE_ZH[self.role]

    def may(self, allowed: frozenset[Role]) -> bool:
        return self.role in allowed


def fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Directory:
    def __init__(self, holders: Mapping[str, tuple[str, Role]]) -> None:
        """`holders`: token → (holder's name, role)."""
        self._entries = [
            (token.encode(), Principal(name=name, role=role, fingerprint=fingerprint(token)), token)
            for token, (name, role) in holders.items()
        ]
        self._by_fingerprint = {principal.fingerprint: (principal, token) for _, principal, token in self._entries}

    def __len__(self) -> int:
        return len(self._entries)

    def sign_in(self, presented: str) -> Principal | None:
        wanted = presented.strip().encode()
        found = None
        for token, principal, _ in self._entries:  # every one compared, in constant time each
            if hmac.compare_digest(token, wanted):
                found = principal
        return found

    def principal(self, token_fingerprint: str) -> Principal | None:
        entry = self._by_fingerprint.get(token_fingerprint)
        return entry[0] if entry else None

    def token(self, token_fingerprint: str) -> str | None:
        entry = self._by_fingerprint.get(token_fingerprint)
        return entry[1] if entry else None


def load_directory(settings: ConsoleSettings) -> Directory:
    """The API's tokens and their holders, as every service reads them (`duban_kit.tokens`)."""
    identities = load_tokens(settings.api_tokens_file, settings.api_tokens)
    return Directory({token: (identity.name, identity.role) for token, identity in identities.items()})
