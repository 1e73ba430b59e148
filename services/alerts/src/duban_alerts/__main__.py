"""`duban-alerts` / `python -m duban_alerts`: run the alerts service."""

from __future__ import annotations

import asyncio

from .app import create_app
from .config import AlertsSettings


def main() -> None:
    asyncio.run(create_app(AlertsSettings.from_env()).serve())


if __name__ == "__main__":
    main()
