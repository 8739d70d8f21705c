"""``--debug``: DEBUG logs of kvarchive, botocore and friends on stderr, secrets masked.

botocore's DEBUG log prints request headers, signed canonical requests and
response bodies; ``--debug`` must show them without the secrets in them, so
every record goes through a :class:`~kvarchive._redact.Redactor` that also
knows the values of the credentials in use.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from typing import Any

from kvarchive._redact import Redactor

__all__ = ["DEBUG_LOGGERS", "debug_logging", "mask_credentials"]

DEBUG_LOGGERS = ("kvarchive", "botocore", "boto3", "urllib3")


def mask_credentials(redactor: Redactor, session: Any) -> None:
    """Have ``redactor`` mask the secret key and token of a boto3 session's credentials."""
    from botocore.exceptions import BotoCoreError

    try:
        credentials = session.get_credentials()
    except BotoCoreError:
        return
    if credentials is not None:
        frozen = credentials.get_frozen_credentials()
        redactor.add(frozen.secret_key)
        redactor.add(frozen.token)


class RedactingFilter(logging.Filter):
    """Rewrites each record with secrets masked, before any handler formats it."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: the handler reports it, and the formatter masks
            return True
        record.msg, record.args = self.redactor(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor(record.stack_info)
        return True


class RedactingFormatter(logging.Formatter):
    """A formatter whose output has secrets masked, whatever the record held."""

    def __init__(self, redactor: Redactor, fmt: str) -> None:
        super().__init__(fmt)
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor(super().format(record))


@contextlib.contextmanager
def debug_logging(redactor: Redactor) -> Iterator[None]:
    """Send DEBUG logs of kvarchive, botocore and friends to stderr, secrets masked."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter(redactor))
    handler.setFormatter(
        RedactingFormatter(redactor, "%(asctime)s %(name)s [%(levelname)s] %(message)s")
    )
    loggers = [logging.getLogger(name) for name in DEBUG_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.removeHandler(handler)
            logger.setLevel(level)
        handler.close()
