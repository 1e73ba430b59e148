"""`duban up` keeps machine logs in var/log/: the terminal gets progress, the summary and warnings in words."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from duban.cli import log_to_file_and_warn_in_words


@pytest.fixture
def restored_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:], root.level = handlers, level


@pytest.mark.usefixtures("restored_root_logger")
def test_json_lines_go_to_the_log_file_and_only_warnings_reach_the_terminal_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = log_to_file_and_warn_in_words(tmp_path / "var" / "log" / "runtime.log")
    log = logging.getLogger("duban.runtime")

    log.info("provisioned 23 consumers")
    log.warning("port 4222 is taken; the embedded NATS uses port 58887 instead")

    terminal = capsys.readouterr()
    assert terminal.out == ""
    assert terminal.err == "注意 warning: port 4222 is taken; the embedded NATS uses port 58887 instead\n"
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [(line["level"], line["message"], line["service"]) for line in lines] == [
        ("INFO", "provisioned 23 consumers", "runtime"),
        ("WARNING", "port 4222 is taken; the embedded NATS uses port 58887 instead", "runtime"),
    ]
