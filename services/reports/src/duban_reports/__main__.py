"""`duban-reports` / `python -m duban_reports`: run the reports service."""

from __future__ import annotations

import asyncio

from .app import create_app
from .config import ReportsSettings


def main() -> None:
    asyncio.run(create_app(ReportsSettings.from_env()).serve())


if __name__ == "__main__":
    main()
