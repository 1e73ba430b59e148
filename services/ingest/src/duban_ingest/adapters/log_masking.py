"""Log lines of the ingest process carry no personal data: a filter on the log handlers masks them.

Ingest does not log submissions' content itself, but an error it logs (a handler's exception, a
database error quoting the parameters of a statement) may quote one; the filter masks the rendered
message and any traceback before a handler writes them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..domain.privacy import mask_personal_data


class MaskingFilter(logging.Filter):
    """Masks a record's message and traceback in place (the record is then written as masked)."""

    def __init__(self, mask: Callable[[str], str] = mask_personal_data) -> None:
        super().__init__()
        self._mask = mask

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self._mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._mask(record.exc_text)
        return True


def install(log_filter: MaskingFilter, logger: logging.Logger | None = None) -> None:
    """Add the filter to every handler of `logger` (the root logger by default)."""
    for handler in (logger or logging.getLogger()).handlers:
        if log_filter not in handler.filters:
            handler.addFilter(log_filter)


def uninstall(log_filter: MaskingFilter, logger: logging.Logger | None = None) -> None:
    for handler in (logger or logging.getLogger()).handlers:
        handler.removeFilter(log_filter)
