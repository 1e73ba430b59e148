"""The HTTP API's bearer tokens: each a role and a holder's name, read from the file or the variable, and
template or guessable tokens refused at start with an error naming the setting."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from duban_kit.tokens import (
    Identity,
    Role,
    TokenEntry,
    TokenError,
    generate_token,
    load_tokens,
    placeholder_reason,
    write_tokens_file,
)
from duban_tasks.config import TasksSettings

from .tools import DEPLOY

SECRETS_TEMPLATE = DEPLOY / "k8s" / "secrets.template.yaml"


def short_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:4]


def test_a_tokens_file_gives_each_token_its_role_and_its_holders_name(tmp_path: Path) -> None:
    admin, duty, school = generate_token(), generate_token(), generate_token()
    path = tmp_path / "tokens"
    path.write_text(
        f"# token role name\n\n{admin} admin 局办-王\n{duty} operator duty-officer\n"
        f"{school} integration bz-ez-campus\n",
        encoding="utf-8",
    )

    assert load_tokens(path, None) == {
        admin: Identity("局办-王", Role.ADMIN),
        duty: Identity("duty-officer", Role.OPERATOR),
        school: Identity("bz-ez-campus", Role.INTEGRATION),
    }


def test_the_variable_form_is_token_role_name(tmp_path: Path) -> None:
    reader, operator = generate_token(), generate_token()
    tokens = load_tokens(None, f"{reader}:reader:grafana, {operator}:operator:admin")
    assert tokens == {reader: Identity("grafana", Role.READER), operator: Identity("admin", Role.OPERATOR)}


def test_the_two_field_forms_still_work_and_are_named_by_role_and_digest_never_by_the_token(tmp_path: Path) -> None:
    in_file, inline = generate_token(), generate_token()
    path = tmp_path / "tokens"
    path.write_text(f"{in_file} operator\n", encoding="utf-8")

    tokens = load_tokens(path, f"{inline}:reader")

    assert tokens == {
        in_file: Identity(f"operator-{short_digest(in_file)}", Role.OPERATOR),
        inline: Identity(f"reader-{short_digest(inline)}", Role.READER),
    }
    assert all(token not in identity.name for token, identity in tokens.items())


@pytest.mark.parametrize(
    "token",
    [
        "CHANGE-ME-AT-LEAST-16-CHARS-AND-THEN-SOME",
        "please-changeme-0123456789abcdef",
        "dev-admin-token-change-me",  # the old docker-compose default
        "an-example-token-0123456789abcdef",
        "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
        "xxx-0123456789abcdefghijklmnop",
        "test-0123456789abcdefghijklmnop",
        "admin_test_token_0123456789abcdef",
        "my-password-is-0123456789abcdef",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "abababababababababababababababab",
        "Zq8vR2mT4wX9kL1p",  # random, but 16 characters: shorter than 24
    ],
)
def test_placeholders_and_short_or_patterned_tokens_are_refused(token: str) -> None:
    assert placeholder_reason(token) is not None
    with pytest.raises(TokenError, match=r"DUBAN_API_TOKENS, item 1: the admin token is a placeholder"):
        load_tokens(None, f"{token}:admin:someone")


def template_tokens() -> list[str]:
    """Every token value deploy/k8s/secrets.template.yaml holds (its tokens file and Prometheus's)."""
    [secret] = [
        d
        for d in yaml.safe_load_all(SECRETS_TEMPLATE.read_text(encoding="utf-8"))
        if d["metadata"]["name"] == "duban-api-tokens"
    ]
    lines = [line.split()[0] for line in secret["stringData"]["api-tokens"].splitlines() if line.strip()]
    return [*lines, secret["stringData"]["prometheus.token"].strip()]


@pytest.mark.parametrize("token", template_tokens())
def test_the_values_of_the_secrets_template_are_refused(token: str) -> None:
    assert placeholder_reason(token) is not None


def test_the_secrets_template_as_a_tokens_file_is_refused_naming_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "api-tokens"
    [secret] = [
        d
        for d in yaml.safe_load_all(SECRETS_TEMPLATE.read_text(encoding="utf-8"))
        if d["metadata"]["name"] == "duban-api-tokens"
    ]
    path.write_text(secret["stringData"]["api-tokens"], encoding="utf-8")
    with pytest.raises(TokenError, match=rf"DUBAN_API_TOKENS_FILE={path}, line 1: the admin token is a placeholder"):
        load_tokens(path, None)


def test_a_service_refuses_to_start_with_a_placeholder_token_naming_the_setting() -> None:
    with pytest.raises(ValidationError, match="DUBAN_API_TOKENS, item 2: the reader token is a placeholder"):
        TasksSettings(api_tokens=f"{generate_token()}:admin:ops,CHANGE-ME-0123456789abcdefgh:reader:grafana")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{token} superuser alice", "unknown role 'superuser'"),
        ("{token} integration Bz.Ez", "an integration token is named by its integration's id"),
        ("{token}", "expected `token role name`"),
        ("{token} admin alice extra", "expected `token role name`"),
    ],
)
def test_a_malformed_line_is_refused_naming_the_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "tokens"
    path.write_text("# tokens\n" + line.format(token=generate_token()) + "\n", encoding="utf-8")
    with pytest.raises(TokenError, match=rf"DUBAN_API_TOKENS_FILE={path}, line 2: {message}"):
        load_tokens(path, None)


def test_a_missing_tokens_file_is_refused_naming_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"DUBAN_API_TOKENS_FILE=.*nowhere: cannot read it"):
        TasksSettings(api_tokens_file=tmp_path / "nowhere")


def test_the_same_token_twice_is_refused() -> None:
    token = generate_token()
    with pytest.raises(TokenError, match="the same token is listed twice"):
        load_tokens(None, f"{token}:admin:alice,{token}:reader:bob")


def test_generated_tokens_pass_and_a_written_tokens_file_is_private(tmp_path: Path) -> None:
    entries = [TokenEntry(generate_token(), role, role.value) for role in Role]
    path = tmp_path / "var" / "api-tokens"

    write_tokens_file(path, entries)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_tokens(path, None) == {e.token: Identity(e.name, e.role) for e in entries}
    assert len({e.token for e in entries}) == len(entries)
