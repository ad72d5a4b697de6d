"""Keeps link secrets out of the access log: claim, sign-in, unsubscribe and wallet-exchange
URLs carry bearer secrets in their path, so the log shows them redacted."""

import logging

from cairn.adapters.logs import SECRET_PATHS


def redact(text: str) -> str:
    return SECRET_PATHS.sub(r"\1…", text)


class RedactSecrets(logging.Filter):
    """For uvicorn.access, whose records carry the request line in their args."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        record.msg = redact(str(record.msg))
        return True


def install() -> None:
    logging.getLogger("uvicorn.access").addFilter(RedactSecrets())
