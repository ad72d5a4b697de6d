"""Every service's logs as JSON lines: one object per line with timestamp, service, level, logger
and message, plus the ids a line was given (`extra={"event_ids": ..., "award_id": ...}`), so one
grep follows an event to its email: event id -> award id -> credential id -> Message-ID.

Bearer secrets in URLs (claim, sign-in, unsubscribe, wallet links) and email addresses are
redacted from every line, whatever logger wrote it."""

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

SECRET_PATHS = re.compile(r"(/(?:claim|my-badges|exchanges)/|/unsubscribe/[^/\s]+/[^/\s]+/)[^/\s?\"]+")
MESSAGE_ID_HOST = "claim.cairn"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# a LogRecord's own attributes; anything else on a record came from `extra` and is logged as a field
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
_SECRET_FIELDS = re.compile(r"password|secret|token|api_key|master_key|email", re.IGNORECASE)


def redact(text: str) -> str:
    """Link secrets and email addresses out of a log text (Message-IDs keep their host part)."""
    return EMAIL.sub(_keep_message_ids, SECRET_PATHS.sub(r"\1…", text))


def _keep_message_ids(match: re.Match[str]) -> str:
    """A claim email's Message-ID (<credential uuid>@claim.cairn) is an id to follow, not an address."""
    return match.group(0) if match.group(0).endswith(f"@{MESSAGE_ID_HOST}") else "…@…"


class JsonLines(logging.Formatter):
    """One JSON object per record."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "service": self.service,
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for name, value in record.__dict__.items():
            if name in _STANDARD or name.startswith("_") or name in line:
                continue
            line[name] = "…" if _SECRET_FIELDS.search(name) else _plain(value)
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, default=str, ensure_ascii=False)


def _plain(value: Any) -> Any:
    """A field value as JSON can hold it, with any text redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return redact(str(value))


def configure(service: str, text: bool = False) -> None:
    """Replaces the root logger's handlers with one writing JSON lines (or the old text lines
    with `text`) to stderr; safe to call again, e.g. after a framework set up its own."""
    # the process's real stderr: Faust's worker swaps sys.stderr for a proxy that logs what is
    # written to it, which would feed each line back into logging
    handler = logging.StreamHandler(sys.__stderr__ or sys.stderr)
    if text:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(JsonLines(service))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error"):
        framework = logging.getLogger(name)
        for old in list(framework.handlers):
            framework.removeHandler(old)
        framework.propagate = True
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns the rest


def dict_config(service: str) -> dict[str, Any]:
    """The same JSON lines as a logging.config dictionary, for frameworks that set up logging
    themselves from one (Faust's worker: its `logging_config`)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonLines, "service": service}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.__stderr__",
            }
        },
        "root": {"level": "INFO", "handlers": ["default"]},
    }
