"""Finding the real servers tests need: PostgreSQL and an AMQP 1.0 broker (RabbitMQ).

Tests that need a server ask :func:`postgres_url` or :func:`amqp_url`. When the
server is absent the test is skipped with the reason, except when
``DIGIDIALOG_REQUIRE_SERVICES=1`` (CI sets it): then it fails, so that a CI run
that lost its servers can never be green.

``DIGIDIALOG_TEST_POSTGRES`` and ``DIGIDIALOG_TEST_AMQP`` override the defaults
(``postgresql+psycopg://postgres@127.0.0.1:5432/test`` and
``amqp://guest:guest@127.0.0.1:5672``).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672"


def services_required() -> bool:
    """Whether a missing server is a failure rather than a skip."""
    return os.environ.get("DIGIDIALOG_REQUIRE_SERVICES") == "1"


def unavailable(reason: str) -> None:
    """Skip the calling test, or fail it when services are required."""
    if services_required():
        pytest.fail(f"{reason} (DIGIDIALOG_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


def listening(url: str, default_port: int) -> bool:
    """Whether something accepts connections at ``url``'s host and port."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1",
                                       parts.port or default_port), timeout=1.0):
            return True
    except OSError:
        return False


def postgres_url() -> str:
    """The SQLAlchemy URL of a PostgreSQL server for tests, or skip/fail."""
    url = os.environ.get("DIGIDIALOG_TEST_POSTGRES", DEFAULT_POSTGRES)
    if not listening(url, 5432):
        unavailable(f"PostgreSQL is not listening at {urlsplit(url).netloc}")
    return url


def amqp_url() -> str:
    """The URL of an AMQP 1.0 broker for tests, or skip/fail."""
    url = os.environ.get("DIGIDIALOG_TEST_AMQP", DEFAULT_AMQP)
    if not listening(url, 5672):
        unavailable(f"no AMQP broker is listening at {urlsplit(url).hostname}")
    return url


@contextmanager
def fresh_postgres_schema(base: str | None = None, *, prefix: str = "t") -> Iterator[str]:
    """A URL whose connections work in a new, empty schema of ``base``; dropped on exit.

    ``base`` defaults to :func:`postgres_url` (which skips or fails when there
    is no server); the schema is named in the connection's ``search_path``, so
    every test (or benchmark) sees only its own rows.
    """
    base = base or postgres_url()
    schema = f"{prefix}_{uuid.uuid4().hex[:16]}"
    # pre_ping: the schema is dropped on a pooled connection that a PostgreSQL restart
    # (the disruptive tests') may have killed since it was created.
    admin = create_engine(base, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()
