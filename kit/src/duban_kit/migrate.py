"""`python -m duban_kit.migrate SERVICE SCHEMA SCRIPTS [LOG_LEVEL]`: bring one service's database to its newest
migration.

Run by `Database.migrate_apart` as a child of a starting service, so the service never loads alembic.
The database URL comes from `DUBAN_MIGRATE_DATABASE_URL`. It logs as the service does (stderr); exit code
0 when the schema is at head, else 1 and the reason on stdout.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from .db import MIGRATE_URL_VARIABLE, Database
from .logs import configure_logging


async def migrate(url: str, service: str, schema: str, scripts: Path) -> None:
    database = Database(url, schema=schema, service=service)
    try:
        await database.migrate(scripts)
    finally:
        await database.dispose()


def main(argv: list[str]) -> int:
    if len(argv) not in (3, 4) or MIGRATE_URL_VARIABLE not in os.environ:
        usage = f"usage: {MIGRATE_URL_VARIABLE}=URL python -m duban_kit.migrate SERVICE SCHEMA SCRIPTS [LOG_LEVEL]"
        print(usage, file=sys.stderr)
        return 2
    service, schema, scripts, *level = argv
    configure_logging(service, *level)
    try:
        asyncio.run(migrate(os.environ[MIGRATE_URL_VARIABLE], service, schema, Path(scripts)))
    except Exception as error:
        print(f"{type(error).__name__}: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
