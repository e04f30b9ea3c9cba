"""``digidialog run`` as operators run it: a configuration file, a process, SIGTERM.

The portal simulator talks to the daemon over the same queues the daemon
serves (the embedded transport: the store's SQLite file, shared between the
two processes); the vendor is a mock; the HTTP endpoints are read for real.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from digidialog.helsenorge import Function
from digidialog.store import Store
from digidialog.testing import mocks
from digidialog.testing.harness import ConformanceHarness
from digidialog.testing.portal import PortalSimulator
from digidialog.testing.services import amqp_url
from digidialog.transport import Transport
from digidialog.transport.amqp import AmqpTransport
from digidialog.transport.embedded import EmbeddedTransport
from tests.daemon.daemon_process import config_text, running_daemon
from tests.engine.world import eventually, expire_test_queues, unique_her_id
from tests.store.conftest import fresh_postgres_schema

PUSH_USER, PUSH_PASSWORD = "profil", "push-secret"


@pytest.fixture(params=["gerica", "profil", "cosdoc"])
def epj(request: pytest.FixtureRequest) -> Iterator[ConformanceHarness]:
    """A started vendor mock."""
    harness = mocks.start(str(request.param), seed_citizens=0)
    yield harness
    harness.stop()


@pytest.fixture(params=["embedded", pytest.param("production", marks=pytest.mark.services)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The store URL and transport of the daemon's configuration."""
    if request.param == "embedded":
        yield {"store_url": f"sqlite:///{tmp_path / 'digidialog.db'}", "transport": "embedded"}
        return
    expire_test_queues()
    with fresh_postgres_schema() as url:
        yield {"store_url": url, "transport": "amqp", "amqp_url": amqp_url()}


def portal_transport(backend: dict[str, str], store: Store) -> Transport:
    """The simulator's way to the daemon's queues."""
    if backend["transport"] == "embedded":
        return EmbeddedTransport(store)
    return AmqpTransport(backend["amqp_url"])


def get(url: str) -> tuple[int, str]:
    """Status and body of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - our own daemon
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def cli(*arguments: str, config: Path) -> subprocess.CompletedProcess[str]:
    """Run a digidialog command against ``config``."""
    return subprocess.run(
        [sys.executable, "-m", "digidialog.cli.main", *arguments, "--config", str(config)],
        capture_output=True, text=True, timeout=60, check=False)


def test_the_daemon_serves_a_citizen_and_stops_cleanly(
    epj: ConformanceHarness, backend: dict[str, str], tmp_path: Path,
) -> None:
    """A message goes in and is answered, a staff answer comes back (Profil pushing to the
    daemon's own endpoint), the endpoints tell the truth, SIGTERM exits 0, and
    status/deadletter/overdue read the same store afterwards."""
    municipality, service, portal_her_id = unique_her_id(), unique_her_id(), unique_her_id()
    push = {"push_username": PUSH_USER, "push_password": PUSH_PASSWORD,
            "event_store": str(tmp_path / "profil-events.sqlite3")}
    config = tmp_path / "digidialog.toml"
    config.write_text(config_text(
        epj, store_url=backend["store_url"], municipality=municipality, service=service,
        portal_her_id=portal_her_id, transport=backend["transport"],
        amqp_url=backend.get("amqp_url"), options=push if epj.vendor == "profil" else None))
    with running_daemon(config, tmp_path) as daemon:
        assert get(daemon.url + "/healthz")[0] == 200
        assert get(daemon.url + "/readyz")[0] == 200
        if epj.vendor == "profil":
            epj.mock.push_to(f"{daemon.url}/epj/{municipality}/ProfilNotify",  # type: ignore[attr-defined]
                             PUSH_USER, PUSH_PASSWORD)
        store = Store.open(backend["store_url"])
        transport = portal_transport(backend, store)
        portal = PortalSimulator(transport, portal_her_id=portal_her_id).start()
        try:
            citizen = epj.seed_citizens(1)[0]
            sent = portal.send_citizen_message(municipality, service, citizen)
            assert portal.wait_for_receipt(sent.msg_id, timeout=20).message.receipt is not None
            eventually(lambda: epj.delivered(sent.msg_id), what="the message in the EPJ")
            epj.write_staff_message(citizen, "Svar fra hjemmesykepleien.",
                                       thread_id=sent.msg_id, in_reply_to=sent.msg_id)
            portal.wait_for(function=Function.SERVICE_REPLY, thread=sent.msg_id, timeout=20)
            portal.assert_no_violations()
        finally:
            portal.stop()
            transport.close()
            store.close()
        status, metrics = get(daemon.url + "/metrics")
        assert status == 200
        assert f'digidialog_queue_depth{{municipality="{municipality}"' in metrics
        for counter in ("digidialog_messages_received_total", "digidialog_messages_sent_total"):
            assert any(line.startswith(counter) and municipality in line
                       and not line.rstrip().endswith(" 0.0") for line in metrics.splitlines())
        assert daemon.terminate() == 0
    assert len(epj.delivered(sent.msg_id)) == 1

    shown = cli("status", "--json", config=config)
    assert shown.returncode == 0, shown.stderr
    [row] = json.loads(shown.stdout)
    assert row["municipality"] == municipality and row["dead_letters"] == 0
    assert row["checkpoint"] is not None
    letters = cli("deadletter", "list", "--json", config=config)
    assert letters.returncode == 0 and json.loads(letters.stdout) == []
    assert cli("deadletter", "retry", "7", config=config).returncode == 1
    late = cli("overdue", "--json", config=config)
    assert late.returncode == 0 and json.loads(late.stdout) == []


def test_a_bad_configuration_is_refused_before_anything_starts(tmp_path: Path) -> None:
    """Every problem named as key: reason, exit 1, no traceback, nothing created."""
    config = tmp_path / "digidialog.toml"
    config.write_text('[portal]\nher_id = "x"\n[[municipality]]\nname = "A"\nher_id = "1"\n'
                      'vendor = "acme"\n[municipality.epj]\nbase_url = "nope"\n')
    for command in (["run"], ["status"], ["deadletter", "list"], ["overdue"]):
        result = cli(*command, config=config)
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        assert "portal.her_id" in result.stderr
        assert "municipality[1].epj.base_url" in result.stderr
    assert list(tmp_path.iterdir()) == [config]
