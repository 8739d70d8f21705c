"""Masking credentials and session tokens in the command line's debug output.

botocore's DEBUG log prints request headers, signed canonical requests and
response bodies; ``--debug`` must show them without the secrets in them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
from collections.abc import Iterable, Iterator
from typing import Any, Optional

__all__ = ["DEBUG_LOGGERS", "RedactingFilter", "RedactingFormatter", "Redactor", "debug_logging"]

DEBUG_LOGGERS = ("kvarchive", "botocore", "boto3", "urllib3")

_SECRET_PATTERNS = (
    # Streaming-session URLs: ...?SessionToken=...
    re.compile(r"(SessionToken=)[^&\s'\"\\<>]+", re.IGNORECASE),
    # Headers, dict reprs, JSON, canonical requests: x-amz-security-token:..., 'token': b'...'
    re.compile(
        r"((?:x-amz-security-token|security_token|session_?token|secret_?access_?key|secret_key)"
        r"['\"]?\s*[:=]\s*b?['\"]?)[^'\"\s,&}\\]+",
        re.IGNORECASE,
    ),
    # Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...
    re.compile(r"(Authorization['\"]?\s*[:=]\s*b?['\"]?)[^'\"\n\\]+", re.IGNORECASE),
)
_MASK = "***"
_SECRET_VARIABLES = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


class Redactor:
    """Masks credentials and session tokens in text: known values and known shapes."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    @classmethod
    def from_environment(cls) -> Redactor:
        """A redactor that knows the secrets in the AWS environment variables."""
        return cls(os.environ.get(name, "") for name in _SECRET_VARIABLES)

    def add(self, secret: Optional[str]) -> None:
        """Mask ``secret`` wherever it appears (values too short to be secrets are ignored)."""
        if secret and len(secret) >= 8:
            self._secrets.add(secret)

    def add_credentials(self, session: Any) -> None:
        """Mask the secret key and token of a boto3 session's credentials."""
        from botocore.exceptions import BotoCoreError

        try:
            credentials = session.get_credentials()
        except BotoCoreError:
            return
        if credentials is not None:
            frozen = credentials.get_frozen_credentials()
            self.add(frozen.secret_key)
            self.add(frozen.token)

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, _MASK)
        for pattern in _SECRET_PATTERNS:
            text = pattern.sub(lambda m: m.group(1) + _MASK, text)
        return text


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
