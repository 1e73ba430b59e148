"""`duban-console` / `python -m duban_console`: run the console (督办台)."""

from __future__ import annotations

import asyncio

from .app import create_app
from .config import ConsoleSettings


def main() -> None:
    asyncio.run(create_app(ConsoleSettings.from_env()).serve())


if __name__ == "__main__":
    main()
