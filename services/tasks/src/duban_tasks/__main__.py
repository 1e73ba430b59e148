"""`duban-tasks` / `python -m duban_tasks`: run the tasks service."""

from __future__ import annotations

import asyncio

from .app import create_app
from .config import TasksSettings


def main() -> None:
    asyncio.run(create_app(TasksSettings.from_env()).serve())


if __name__ == "__main__":
    main()
