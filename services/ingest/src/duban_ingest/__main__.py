"""`duban-ingest` / `python -m duban_ingest`: run the ingest service."""

from __future__ import annotations

import asyncio

from .app import create_app
from .config import IngestSettings


def main() -> None:
    asyncio.run(create_app(IngestSettings.from_env()).serve())


if __name__ == "__main__":
    main()
