"""Masking credentials and session tokens wherever text may show them.

What a secret looks like is said here once: the session token of a
streaming-session URL, credential headers and fields, signatures. The
command line masks its ``--debug`` output with it (``kvarchive.cli._debug``),
the notebook player its repr, the emulator its request log.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Optional

__all__ = ["SESSION_TOKEN", "Redactor", "mask_session_token"]

SESSION_TOKEN = re.compile(r"(SessionToken=)[^&\s'\"\\<>]+", re.IGNORECASE)
"""The session token in a streaming-session URL; group 1 is the ``SessionToken=`` before it."""

_SECRET_PATTERNS = (
    SESSION_TOKEN,
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

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, _MASK)
        for pattern in _SECRET_PATTERNS:
            text = pattern.sub(lambda m: m.group(1) + _MASK, text)
        return text


def mask_session_token(url: str) -> str:
    """``url`` with its session token masked (a streaming-session URL's ``SessionToken``)."""
    return SESSION_TOKEN.sub(lambda match: match.group(1) + _MASK, url)
