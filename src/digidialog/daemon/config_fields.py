"""The value types of the configuration file, each with the reason an operator reads when wrong.

Every check raises :func:`problem`, whose text is shown after the key path
(``municipality[1].epj.base_url: not a URL``); pydantic's own wording never
reaches the operator for these values.
"""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BeforeValidator, ValidationInfo
from pydantic_core import PydanticCustomError

from digidialog.adapters import registry

ERROR_TYPE = "digidialog_config"
BASE_DIR = "base_dir"
"""Validation-context key: the folder relative file paths are read from (the config file's)."""

_CLOCK = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d")


def problem(reason: str) -> PydanticCustomError:
    """A validation error whose message is exactly ``reason``."""
    # pydantic formats the message with the error's context; braces would be read as fields.
    return PydanticCustomError(ERROR_TYPE, reason.replace("{", "{{").replace("}", "}}"))


def installed_vendors() -> list[str]:
    """Names of the installed EPJ adapters: the one place that knows where they are registered."""
    return registry.available()


def _text(value: Any) -> str:
    # TOML numbers are accepted where the value is a code made of digits (HER-ids, service ids).
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise problem("expected a string")
    return value


MAX_HER_ID_DIGITS = 9


def her_id(value: Any) -> str:
    """A HER-id: one to nine digits (a TOML integer is taken as its digits).

    Nine is what the national schemas can carry (TjenesteOversikt's HER-ids are
    ``xs:integer`` of nine digits at most): a longer one would be accepted here and
    then fail every nightly run's overview part.
    """
    text = _text(value)
    if not text.isascii() or not text.isdigit():
        raise problem("not a HER-id (digits only)")
    if len(text) > MAX_HER_ID_DIGITS:
        raise problem(f"not a HER-id (at most {MAX_HER_ID_DIGITS} digits)")
    return text


def code(value: Any) -> str:
    """A non-empty code (a service's vendor code or TjenesteId)."""
    text = _text(value).strip()
    if not text:
        raise problem("must not be empty")
    return text


def non_empty(value: Any) -> str:
    """Text that is not blank."""
    if not isinstance(value, str):
        raise problem("expected a string")
    if not value.strip():
        raise problem("must not be empty")
    return value


def http_url(value: Any) -> str:
    """An ``http://`` or ``https://`` URL with a host."""
    if not isinstance(value, str):
        raise problem("not a URL")
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        raise problem("not a URL") from None
    if not parts.scheme or not parts.hostname:
        raise problem("not a URL")
    if parts.scheme not in {"http", "https"}:
        raise problem(f"not an http(s) URL (the scheme is {parts.scheme!r})")
    return value


def redact_url(url: str) -> str:
    """``url`` with any password in it replaced by ``***``, for logs and status output."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def seconds(value: Any) -> float:
    """A positive number of seconds."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise problem("not a positive number of seconds")
    return float(value)


def clock_time(value: Any) -> time:
    """A wall-clock time ``"HH:MM"`` (or a TOML local time on the minute)."""
    if isinstance(value, time) and value.tzinfo is None and not (value.second or value.microsecond):
        return value
    if not isinstance(value, str) or not _CLOCK.fullmatch(value):
        raise problem("not a time of day (HH:MM, 24-hour)")
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def listen_address(value: Any) -> str:
    """``HOST:PORT`` (``[::1]:8765`` for IPv6); port 0 lets the system choose one."""
    if not isinstance(value, str):
        raise problem("not HOST:PORT")
    host, _, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not host or not port.isascii() or not port.isdigit() or int(port) > 65535:
        raise problem("not HOST:PORT")
    return value


def split_listen(value: str) -> tuple[str, int]:
    """A checked listen address as ``(host, port)``."""
    host, _, port = value.rpartition(":")
    return host.removeprefix("[").removesuffix("]"), int(port)


def vendor(value: Any) -> str:
    """The entry-point name of an installed adapter."""
    if not isinstance(value, str):
        raise problem("expected a string")
    known = installed_vendors()
    if value not in known:
        raise problem(f"no adapter named {value!r} is installed "
                      f"(installed: {', '.join(known) or 'none'})")
    return value


def existing_file(value: Any, info: ValidationInfo) -> Path:
    """A file that exists; a relative path is read from the configuration file's folder."""
    if not isinstance(value, str | Path) or not str(value):
        raise problem("expected a file path")
    path = Path(value).expanduser()
    if not path.is_absolute():
        context = info.context if isinstance(info.context, dict) else {}
        path = Path(context.get(BASE_DIR) or Path.cwd()) / path
    if not path.is_file():
        raise problem(f"no such file: {path}")
    return path


HerId = Annotated[str, BeforeValidator(her_id)]
Code = Annotated[str, BeforeValidator(code)]
NonEmpty = Annotated[str, BeforeValidator(non_empty)]
HttpUrl = Annotated[str, BeforeValidator(http_url)]
Seconds = Annotated[float, BeforeValidator(seconds)]
ClockTime = Annotated[time, BeforeValidator(clock_time)]
ListenAddress = Annotated[str, BeforeValidator(listen_address)]
Vendor = Annotated[str, BeforeValidator(vendor)]
ExistingFile = Annotated[Path, BeforeValidator(existing_file)]
