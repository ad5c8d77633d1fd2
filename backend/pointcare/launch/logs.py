"""Keep launch tokens out of the logs: the access log would print ``/launch?token=...`` whole.

A token in a log is a credential in a log (until it expires or is used). The filter rewrites
the line before any handler formats it; it is installed on the access loggers when the app
starts (after the server configured its logging). A parameter is redacted by its name as the
server decodes it (``%74oken`` is ``token`` to the application, so it is to the filter too),
and anything shaped like a JWT is redacted wherever it appears.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

_QUERY = re.compile(r"\?([^\s\"#]*)")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
SECRET_PARAMETERS = frozenset({"token"})
REDACTED = "[redacted]"
ACCESS_LOGGERS = ("uvicorn.access",)


def _decoded_name(raw: str) -> str:
    """The parameter's name as the application reads it, and as a second decoding would."""
    once = unquote_plus(raw)
    return unquote_plus(once).strip().lower()


def _redact_query(match: re.Match[str]) -> str:
    parts = []
    for part in match.group(1).split("&"):
        name, equals, _value = part.partition("=")
        secret = equals and _decoded_name(name) in SECRET_PARAMETERS
        parts.append(f"{name}={REDACTED}" if secret else part)
    return "?" + "&".join(parts)


def redact(text: str) -> str:
    return _JWT.sub(REDACTED, _QUERY.sub(_redact_query, text))


class RedactLaunchTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install_token_redaction() -> None:
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactLaunchTokens) for f in logger.filters):
            logger.addFilter(RedactLaunchTokens())
