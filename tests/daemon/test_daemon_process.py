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
from digidialog.transport.embedded import EmbeddedTransport
from tests.daemon.daemon_process import config_text, running_daemon
from tests.engine.world import eventually, unique_her_id


@pytest.fixture
def gerica() -> Iterator[ConformanceHarness]:
    """A started Gerica mock with two citizens."""
    harness = mocks.start("gerica", seed_citizens=0)
    harness.seed_citizens(2)
    yield harness
    harness.stop()


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


def test_the_daemon_serves_a_citizen_and_stops_cleanly(gerica: ConformanceHarness,
                                                       tmp_path: Path) -> None:
    """A message goes in and is answered, the endpoints tell the truth, SIGTERM exits 0,
    and status/deadletter/overdue read the same store afterwards."""
    municipality, service, portal_her_id = unique_her_id(), unique_her_id(), unique_her_id()
    store_url = f"sqlite:///{tmp_path / 'digidialog.db'}"
    config = tmp_path / "digidialog.toml"
    config.write_text(config_text(gerica, store_url=store_url, municipality=municipality,
                                  service=service, portal_her_id=portal_her_id))
    with running_daemon(config, tmp_path) as daemon:
        assert get(daemon.url + "/healthz")[0] == 200
        assert get(daemon.url + "/readyz")[0] == 200
        store = Store.open(store_url)
        transport = EmbeddedTransport(store)
        portal = PortalSimulator(transport, portal_her_id=portal_her_id).start()
        try:
            citizen = gerica.seed_citizens(1)[0]
            sent = portal.send_citizen_message(municipality, service, citizen)
            assert portal.wait_for_receipt(sent.msg_id, timeout=20).message.receipt is not None
            eventually(lambda: gerica.delivered(sent.msg_id), what="the message in the EPJ")
            gerica.write_staff_message(citizen, "Svar fra hjemmesykepleien.",
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
        assert daemon.terminate() == 0
    assert gerica.delivered(sent.msg_id) == [gerica.delivered(sent.msg_id)[0]]

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
