"""Stopping and starting this machine's RabbitMQ and PostgreSQL, for the disruptive tests.

The tests marked ``disruptive`` take the broker or the database away from a
running daemon and bring it back. :func:`broker_down` and :func:`postgres_down`
are context managers that do so: whatever happens inside, on the way out the
server is started again and answers (and RabbitMQ has its AMQP 1.0 plugin), so
that a failing test never leaves the machine without its services.

The commands are the Debian packages' own: ``rabbitmqctl stop_app``/``start_app``
(the node keeps running, its durable queues and persistent messages survive;
``rabbitmqctl`` addresses the node ``RABBITMQ_NODENAME`` names, the machine's
one by default) and ``pg_ctlcluster --skip-systemctl-redirect <version> <name>
stop``/``start`` for the cluster that listens on the test database's port
(``DIGIDIALOG_TEST_POSTGRES``, see :mod:`digidialog.testing.services`). They
need the privileges to run them (root, in CI and in the development container);
every other process using the servers sees them restart.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from digidialog.testing.services import DEFAULT_AMQP, DEFAULT_POSTGRES, listening

AMQP_PLUGIN = "rabbitmq_amqp1_0"
COMMAND_TIMEOUT = 120.0
"""Seconds one command (a stop, a start) may take before the test fails."""
ANSWER_TIMEOUT = 90.0
"""Seconds a started server has to answer again."""


class RestartUnavailable(RuntimeError):
    """The commands that stop and start a server are not on this machine."""


def _command(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RestartUnavailable(f"{name} is not installed here")
    return found


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True,  # noqa: S603 - fixed commands
                   timeout=COMMAND_TIMEOUT)


def _wait(answers: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while not answers():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not answer within {ANSWER_TIMEOUT:g} s")
        time.sleep(0.2)


# ------------------------------------------------------------------ RabbitMQ


def broker_commands_available() -> bool:
    """Whether ``rabbitmqctl`` and ``rabbitmq-plugins`` are here."""
    return all(shutil.which(name) for name in ("rabbitmqctl", "rabbitmq-plugins"))


def stop_broker() -> None:
    """Stop the RabbitMQ application (the Erlang node stays up); every connection drops."""
    _run(_command("rabbitmqctl"), "-q", "stop_app")


def start_broker() -> None:
    """Start the RabbitMQ application (the whole node, if it went down too), enable the
    AMQP 1.0 plugin, and wait until the AMQP port answers."""
    rabbitmqctl = _command("rabbitmqctl")
    started = subprocess.run(  # noqa: S603 - a fixed command
        [rabbitmqctl, "-q", "start_app"], capture_output=True, timeout=COMMAND_TIMEOUT,
        check=False)
    if started.returncode != 0:  # the node itself is down: start it
        _run(_command("rabbitmq-server"), "-detached")
    _run(rabbitmqctl, "-q", "await_startup", "--timeout", str(int(ANSWER_TIMEOUT)))
    _run(_command("rabbitmq-plugins"), "--quiet", "enable", AMQP_PLUGIN)
    # Not services.amqp_url(): that skips the test while the broker is down.
    url = os.environ.get("DIGIDIALOG_TEST_AMQP", DEFAULT_AMQP)
    _wait(lambda: listening(url, 5672), "RabbitMQ's AMQP port")


@contextmanager
def broker_down() -> Iterator[None]:
    """RabbitMQ stopped inside the block, started (and answering) again after it."""
    try:
        stop_broker()
        yield
    finally:
        start_broker()


# ------------------------------------------------------------------ PostgreSQL


def postgres_cluster() -> tuple[str, str]:
    """The version and name of the cluster that listens on the test database's port
    (``15``, ``main`` on the development machine), as ``pg_lsclusters`` lists them."""
    port = make_url(_postgres_url()).port or 5432
    listed = subprocess.run(  # noqa: S603 - a fixed command
        [_command("pg_lsclusters"), "--no-header"], capture_output=True, text=True,
        timeout=COMMAND_TIMEOUT, check=True).stdout
    for line in listed.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[2] == str(port):
            return fields[0], fields[1]
    raise RestartUnavailable(f"no PostgreSQL cluster of this machine listens on port {port}")


def postgres_commands_available() -> bool:
    """Whether ``pg_ctlcluster`` and ``pg_lsclusters`` are here."""
    return all(shutil.which(name) for name in ("pg_ctlcluster", "pg_lsclusters"))


def _pg_ctlcluster(action: str, *options: str, check: bool = True) -> None:
    version, name = postgres_cluster()
    subprocess.run(  # noqa: S603 - fixed commands
        [_command("pg_ctlcluster"), "--skip-systemctl-redirect", version, name, action,
         *options], capture_output=True, timeout=COMMAND_TIMEOUT, check=check)


def _postgres_url() -> str:
    # Not services.postgres_url(): that skips the test when the server is down, as it is.
    return os.environ.get("DIGIDIALOG_TEST_POSTGRES", DEFAULT_POSTGRES)


def postgres_answers() -> bool:
    """Whether the test database takes a new connection and answers ``SELECT 1``."""
    engine = create_engine(_postgres_url(), connect_args={"connect_timeout": 2})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure means "not yet"
        return False
    finally:
        engine.dispose()


def stop_postgres() -> None:
    """Stop the cluster at once (``-m fast``: open transactions are rolled back)."""
    _pg_ctlcluster("stop", "-m", "fast")


def start_postgres() -> None:
    """Start the cluster (unless it runs) and wait until the test database answers."""
    if not postgres_answers():
        _pg_ctlcluster("start", check=False)  # fails when it runs already: fine
    _wait(postgres_answers, "PostgreSQL")


@contextmanager
def postgres_down() -> Iterator[None]:
    """PostgreSQL stopped inside the block, started (and answering) again after it."""
    try:
        stop_postgres()
        yield
    finally:
        start_postgres()
