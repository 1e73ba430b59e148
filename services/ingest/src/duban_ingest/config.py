"""Settings of the ingest service (environment: DUBAN_* or DUBAN_INGEST_*)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import ClassVar, Literal, Self

from pydantic import Field, SecretStr, model_validator

from duban_kit.settings import ServiceSettings
from duban_kit.tokens import placeholder_reason

from .domain.normalise import Limits

#: The defaults, and the reason for each, are `Limits`' own (domain/normalise.py).
_DEFAULT = Limits()
#: Where a development deployment keeps the privacy secret it generated (under var/).
DEVELOPMENT_SECRET_FILE = "privacy-secret"
MIN_SECRET_CHARS = 32


class IngestSettings(ServiceSettings):
    service_name: ClassVar[str] = "ingest"

    plan_file: Path | None = Field(
        default=None, description="The plan targets are matched against; default the bundled 2023 plan."
    )
    registry_file: Path | None = Field(
        default=None, description="The registry of reporting units; default the bundled one."
    )
    integrations_file: Path | None = Field(
        default=None,
        description="Which units each integration may speak for (domain/integrations.py). Unset: every "
        "integration may submit for every unit (development default).",
    )
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, description="Largest file accepted by POST /submissions.")
    max_rows: int = Field(default=50_000, description="Most data rows in one uploaded file.")
    max_json_bytes: int = Field(
        default=2 * 1024 * 1024,
        description="Largest JSON body of POST /submissions: a batch of some thousands of submissions "
        "(its depth is held to max_json_depth, as an inbound message's is).",
    )
    max_cells_per_row: int = Field(
        default=1024,
        description="Most cells in one spreadsheet row, counted while reading (a form is a few dozen columns "
        "wide; Excel 2003 stopped at 256). Stops a one-row bomb after 1,024 cells instead of 1,000,000.",
    )
    max_cells: int = Field(
        default=500_000,
        description="Most cells in one uploaded file, counted while reading: max_rows rows of 10 columns. "
        "openpyxl reads about 100,000 cells a second, so the largest file parses well inside the time budget.",
    )
    sheet_workers: int = Field(
        default=2, ge=1, description="Worker processes that parse uploaded spreadsheets (off the event loop)."
    )
    sheet_parse_seconds: float = Field(
        default=30.0, gt=0, description="Time budget for parsing one uploaded spreadsheet; over it → 422."
    )
    sheet_parse_memory_bytes: int | None = Field(
        default=512 * 1024 * 1024,
        description="Address-space limit of a parsing worker (RLIMIT_AS; an idle one uses about 50 MiB); "
        "a file that needs more → 422. None: no limit.",
    )

    max_submission_bytes: int = Field(
        default=_DEFAULT.max_submission_bytes, gt=0, description="Largest inbound message read (else too_large)."
    )
    max_json_depth: int = Field(
        default=_DEFAULT.max_json_depth, ge=1, description="Deepest JSON nesting read (else too_deep)."
    )
    implausible_factor: float = Field(
        default=_DEFAULT.implausible_factor, gt=0, description="An increment is at most this × the annual target."
    )
    cumulative_factor: float = Field(
        default=_DEFAULT.cumulative_factor, gt=0, description="A cumulative total is at most this × the annual target."
    )
    growth_min: float = Field(default=_DEFAULT.growth_min, description="Lowest growth accepted (-1 is -100%).")
    growth_max: float = Field(default=_DEFAULT.growth_max, description="Highest growth accepted (10 is 1000%).")
    class_size_min: int = Field(default=_DEFAULT.class_size_min, ge=0, description="Smallest class size accepted.")
    class_size_max: int = Field(default=_DEFAULT.class_size_max, ge=1, description="Largest class size accepted.")
    exercise_minutes_max: float = Field(
        default=_DEFAULT.exercise_minutes_max, gt=0, description="Most daily exercise minutes accepted."
    )

    environment: Literal["development", "production"] = Field(
        default="development",
        description="`production` requires a real DUBAN_PRIVACY_SECRET; `development` generates one into var/.",
    )
    privacy_secret: SecretStr | None = Field(
        default=None,
        description="Key of the pseudonyms personal names are replaced by (HMAC-SHA256), at least "
        f"{MIN_SECRET_CHARS} characters, e.g. `openssl rand -hex 32`. The same secret must be kept for as "
        "long as cases are to be linked across submissions, and given to every ingest replica.",
    )

    @model_validator(mode="after")
    def _real_secret_in_production(self) -> Self:
        if self.environment != "production":
            return self
        problem = secret_problem(self.privacy_secret.get_secret_value() if self.privacy_secret else None)
        if problem:
            raise ValueError(f"DUBAN_PRIVACY_SECRET {problem[0]} / {problem[1]}")
        return self

    def limits(self) -> Limits:
        """The normalisation limits these settings give (the others keep `Limits`' defaults)."""
        return Limits(
            max_submission_bytes=self.max_submission_bytes,
            max_json_depth=self.max_json_depth,
            implausible_factor=self.implausible_factor,
            cumulative_factor=self.cumulative_factor,
            growth_min=self.growth_min,
            growth_max=self.growth_max,
            class_size_min=self.class_size_min,
            class_size_max=self.class_size_max,
            exercise_minutes_max=self.exercise_minutes_max,
        )

    def privacy_key(self) -> bytes:
        """The key names are pseudonymised with: the configured secret, or in development one generated
        once into var/ (so that pseudonyms stay the same across restarts of the same home)."""
        if self.privacy_secret is not None:
            return self.privacy_secret.get_secret_value().encode("utf-8")
        if self.environment == "production":  # pragma: no cover - refused when the settings are made
            raise ValueError("DUBAN_PRIVACY_SECRET is required in production")
        return development_secret(self.var_dir / DEVELOPMENT_SECRET_FILE)


def secret_problem(value: str | None) -> tuple[str, str] | None:
    """Why `value` cannot be a production privacy secret (Chinese, English), or None if it can.

    Placeholders are recognised as API tokens' are (`duban_kit.tokens.placeholder_reason`).
    """
    if not value:
        return "未设置：生产环境必须配置随机密钥", "is not set: production needs a random secret"
    if len(value) < MIN_SECRET_CHARS:
        return (
            f"过短（{len(value)} 个字符），至少 {MIN_SECRET_CHARS} 个",
            f"is too short ({len(value)} characters, at least {MIN_SECRET_CHARS})",
        )
    reason = placeholder_reason(value)
    if reason:
        return f"是占位值或易猜（{reason}），请用 openssl rand -hex 32 生成", f"is a placeholder ({reason})"
    return None


def development_secret(path: Path) -> bytes:
    """The secret in `path`, created (random, readable by its owner only) the first time.

    Written to a temporary file and linked into place, so a second process of the same home never
    reads a half-written secret: it either finds the whole file or loses the race and reads the winner's.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_hex(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_bytes().strip()
