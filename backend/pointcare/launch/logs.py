"""Keep launch tokens out of the logs: the access log would print ``/launch?token=...`` whole.

A token in a log is a credential in a log (until it expires or is used). The filter rewrites
the query value before any handler formats the line; it is installed on the access loggers
when the app starts (after the server configured its logging).
"""

from __future__ import annotations

import logging
import re

_TOKEN_IN_QUERY = re.compile(r"([?&]token=)[^&\s\"]*")
ACCESS_LOGGERS = ("uvicorn.access",)


def redact(text: str) -> str:
    return _TOKEN_IN_QUERY.sub(r"\1[redacted]", text)


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
