"""What every service's Alembic `env.py` runs: migrations on the connection `Database.migrate` opened."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, create_engine


def run_migrations(context: Any, metadata: MetaData) -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:  # the plain `alembic` command line: use the configured URL
        url = context.config.get_main_option("sqlalchemy.url")
        with create_engine(url).connect() as connection:
            _run(context, connection, metadata)
            connection.commit()
        return
    _run(context, connection, metadata)


def _render_item(type_: str, obj: Any, _autogen_context: Any) -> str | bool:
    """Migrations spell duban's own column types as the plain SQLAlchemy types they store as."""
    from .types import UtcDateTime

    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(context: Any, connection: Any, metadata: MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def create_messaging_tables(op: Any) -> None:
    """The inbox and outbox, as every service's first migration creates them."""
    import sqlalchemy as sa

    op.create_table(
        "inbox",
        sa.Column("event_id", sa.String(100), primary_key=True),
        sa.Column("consumer", sa.String(100), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(100), nullable=False, unique=True),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
