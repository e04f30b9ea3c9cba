"""The one place where database errors become digidialog errors.

Everything the store does runs inside :func:`translate_errors`. What a retry
can mend (the connection dropped, the server restarts, the file is locked by
another writer, a serialization failure or deadlock) becomes
:class:`~digidialog.errors.StoreUnavailable`; what it cannot (a constraint the
code violated, SQL the database refuses, a URL naming no usable database)
becomes :class:`~digidialog.errors.FatalError`. Nothing from SQLAlchemy, the
drivers or Alembic leaks past the store.

Messages carry the driver's own text without the SQL's parameters (they can
hold a national id), with any run of eleven or more digits masked.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from alembic.util.exc import CommandError
from sqlalchemy import exc

from digidialog.errors import DigidialogError, FatalError, StoreUnavailable

_ID_SHAPED = re.compile(r"\d{11,}")
_MAX_CHARS = 300

# Error classes a retry can mend, besides any error that invalidated its connection.
_RETRIABLE: tuple[type[BaseException], ...] = (
    exc.OperationalError,   # connection lost, server shutting down, database locked, deadlock
    exc.InterfaceError,     # the driver's connection is closed or broken
    exc.DisconnectionError,
    exc.TimeoutError,       # no pooled connection free in time
    sqlite3.OperationalError,
)


def describe(error: BaseException) -> str:
    """A short, parameter-free, id-masked text for ``error``."""
    original = getattr(error, "orig", None)
    source = original if isinstance(original, BaseException) else error
    text = str(source).strip().splitlines()[0] if str(source).strip() else ""
    text = _ID_SHAPED.sub(lambda digits: "*" * len(digits.group()), text)
    if len(text) > _MAX_CHARS:
        text = text[: _MAX_CHARS - 1] + "…"
    return f"{type(source).__name__}: {text}" if text else type(source).__name__


def translate(error: BaseException) -> DigidialogError:
    """The digidialog error that stands for a database, driver or migration error."""
    if isinstance(error, _RETRIABLE) or (
        isinstance(error, exc.DBAPIError) and error.connection_invalidated
    ):
        return StoreUnavailable(f"database unavailable: {describe(error)}")
    return FatalError(f"database error: {describe(error)}")


@contextmanager
def translate_errors() -> Iterator[None]:
    """Run the body, turning SQLAlchemy, driver and Alembic errors into digidialog errors."""
    try:
        yield
    except (exc.SQLAlchemyError, sqlite3.Error, CommandError) as error:
        raise translate(error) from error
