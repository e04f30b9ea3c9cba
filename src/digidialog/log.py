"""Structured JSON logs with personal data masked at the boundary.

Every log event goes through :func:`mask_personal_data` before it is written:

- values under keys that hold people's data (national ids, names, subjects,
  message bodies, free text) are replaced by ``"[masked]"``;
- any 11-digit number anywhere in any value that passes the national-id check
  digits is replaced by ``"[national-id]"``, so an id pasted into an error
  message or an exception text cannot leak either.

Correlation ids (MsgId, thread id, vendor event ids) pass through unchanged.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import MutableMapping
from typing import Any

import structlog

from digidialog.domain.national_id import inspect_national_id

MASKED = "[masked]"
NATIONAL_ID = "[national-id]"

PERSONAL_KEYS = frozenset(
    {
        "fnr", "fodselsnummer", "national_id", "nationalid", "citizen_id", "patient_id",
        "name", "names", "full_name", "given_name", "family_name", "author",
        "subject", "body", "text", "tekst", "emne", "message_text", "reason", "comment",
    }
)
_ELEVEN_DIGITS = re.compile(r"(?<!\d)\d{11}(?!\d)")


def _hide_ids(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        try:
            inspect_national_id(match.group(0))
        except ValueError:
            return match.group(0)
        return NATIONAL_ID

    return _ELEVEN_DIGITS.sub(replace, text)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _hide_ids(value)
    if isinstance(value, dict):
        return {
            k: MASKED if str(k).lower() in PERSONAL_KEYS else _scrub(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_scrub(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool) and len(str(value)) == 11:
        return _hide_ids(str(value))
    return value


def mask_personal_data(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask personal data in every key and value of an event."""
    for key in list(event_dict):
        if key.lower() in PERSONAL_KEYS:
            event_dict[key] = MASKED
        else:
            event_dict[key] = _scrub(event_dict[key])
    return event_dict


_WRITING = threading.Lock()


class _StderrLogger:
    """Writes each rendered event to whatever ``sys.stderr`` is at that moment.

    structlog's PrintLogger keeps the stream it was created with; a process
    that swaps stderr (test runners, daemons redirecting output) would then
    write to a closed file. Each line is one write under a lock: ``print``
    writes the text and the newline separately, and the daemon's threads
    would then join two events on one line, which no reader can parse.
    """

    def msg(self, message: str) -> None:
        """Write one line."""
        with _WRITING:
            sys.stderr.write(message + "\n")
            sys.stderr.flush()

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


def configure(level: str = "INFO") -> None:
    """Send JSON lines, one event per line, to stderr, masked."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            mask_personal_data,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=lambda *_args: _StderrLogger(),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    """A structlog logger bound to a component name."""
    return structlog.get_logger(component=name)
