"""The nightly job as operators meet it: inside ``digidialog run`` at the configured time, and
``digidialog sync nightly`` in the foreground, killed with SIGKILL and run again.

The portal simulator answers the status questions over the daemon's queues
(the embedded transport shares the store's SQLite file between processes).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from digidialog.domain import DigitalStatus
from digidialog.domain.timezone import OSLO
from digidialog.helsenorge import Function
from digidialog.store import Store
from digidialog.testing import mocks
from digidialog.testing.harness import ConformanceHarness
from digidialog.testing.portal import PortalSimulator
from digidialog.testing.portal.build import digital_status_reply
from digidialog.transport import async_queue, error_queue
from digidialog.transport.amqp import AmqpTransport
from tests.daemon.daemon_process import config_text, running_daemon
from tests.daemon.test_daemon_process import backend, cli, get, portal_transport
from tests.engine.world import eventually, unique_her_id

__all__ = ["backend"]  # the fixture, shared with the daemon's own process test

WELCOME = "Velkommen til digital dialog!"


@pytest.fixture
def gerica() -> Iterator[ConformanceHarness]:
    """A started Gerica mock."""
    harness = mocks.start("gerica", seed_citizens=0)
    yield harness
    harness.stop()


def declare(backend: dict[str, str], municipality: str, portal_her_id: str) -> None:
    """On the broker, the queues both sides use (the daemon declares its own later)."""
    if backend["transport"] != "amqp":
        return
    declaring = AmqpTransport(backend["amqp_url"])
    declaring.declare_queues([async_queue(municipality), async_queue(portal_her_id),
                              error_queue(municipality), error_queue(portal_her_id)])
    declaring.close()


def nightly_config(harness: ConformanceHarness, path: Path, *, store_url: str,
                   municipality: str, service: str, portal_her_id: str, nightly: str,
                   transport: str = "embedded", amqp_url: str | None = None) -> Path:
    """A configuration with a ``nightly`` time and a welcome message."""
    text = config_text(harness, store_url=store_url, municipality=municipality,
                       service=service, portal_her_id=portal_her_id, transport=transport,
                       amqp_url=amqp_url, nightly=nightly)
    vendor = f'vendor = "{harness.vendor}"\n'
    text = text.replace(vendor, f"{vendor}welcome_message = {json.dumps(WELCOME)}\n")
    path.write_text(text)
    return path


def test_the_daemon_runs_the_nightly_job_at_its_time(
        gerica: ConformanceHarness, backend: dict[str, str], tmp_path: Path) -> None:
    """With ``nightly`` just passed, the daemon runs tonight's job: SIDAB answered, the EPJ
    told, overview and welcome sent; /metrics and ``status`` report the run."""
    municipality, service, portal_her_id = unique_her_id(), unique_her_id(), unique_her_id()
    now = datetime.now(OSLO)
    at = max(now - timedelta(minutes=1), now.replace(hour=0, minute=0)).strftime("%H:%M")
    config = nightly_config(gerica, tmp_path / "digidialog.toml",
                            store_url=backend["store_url"], municipality=municipality,
                            service=service, portal_her_id=portal_her_id, nightly=at,
                            transport=backend["transport"], amqp_url=backend.get("amqp_url"))
    active, inactive = gerica.seed_citizens(2)
    declare(backend, municipality, portal_her_id)  # the SDAB goes before the daemon runs
    store = Store.open(backend["store_url"])
    transport = portal_transport(backend, store)
    portal = PortalSimulator(transport, portal_her_id=portal_her_id)
    portal.declare_digitally_active(active)
    portal.start()
    try:
        portal.send_digital_status(municipality, active, DigitalStatus.ACTIVE)
        with running_daemon(config, tmp_path) as daemon:
            done = eventually(lambda: (r := store.nightly.runs.latest(municipality))
                              and r.state == "completed" and r, timeout=60,
                              what="tonight's run completed")
            assert done.trigger == "schedule"
            portal.wait_for(function=Function.SERVICE_OVERVIEW, citizen=active, timeout=20)
            portal.wait_for(function=Function.SERVICE_NOTICE, citizen=active, timeout=20)
            assert gerica.digitally_active(active) and not gerica.digitally_active(inactive)
            status, metrics = get(daemon.url + "/metrics")
            assert status == 200
            assert f'digidialog_nightly_last_outcome{{municipality="{municipality}"}} 1.0' \
                in metrics
            assert daemon.terminate() == 0
        assert not portal.overviews(inactive)
        portal.assert_no_violations()
    finally:
        portal.stop()
        transport.close()
        store.close()
    shown = cli("status", "--json", config=config)
    [row] = json.loads(shown.stdout)
    assert row["nightly"]["state"] == "completed"


def test_sync_nightly_killed_then_run_again_finishes_and_sends_nothing_twice(
        gerica: ConformanceHarness, backend: dict[str, str], tmp_path: Path) -> None:
    """SIGKILL while it waits for the portal's answers; run again, it takes the dead
    process's run over at once, finishes it, exits 0, and the portal hears each thing once."""
    municipality, service, portal_her_id = unique_her_id(), unique_her_id(), unique_her_id()
    later = (datetime.now(OSLO) + timedelta(hours=12)).strftime("%H:%M")
    config = nightly_config(gerica, tmp_path / "digidialog.toml",
                            store_url=backend["store_url"], municipality=municipality,
                            service=service, portal_her_id=portal_her_id, nightly=later,
                            transport=backend["transport"], amqp_url=backend.get("amqp_url"))
    citizens = gerica.seed_citizens(3)
    declare(backend, municipality, portal_her_id)
    store = Store.open(backend["store_url"])
    transport = portal_transport(backend, store)
    portal = PortalSimulator(transport, portal_her_id=portal_her_id)
    portal.declare_digitally_active(*citizens)
    portal.digital_users.answering = False
    portal.start()
    command = [sys.executable, "-m", "digidialog.cli.main", "sync", "nightly",
               "--config", str(config), "--drain", "20"]
    try:
        first = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        try:
            eventually(lambda: (r := store.nightly.runs.latest(municipality))
                       and r.part == "answers", timeout=60, what="the run waiting for answers")
            portal.wait_for(function=Function.DIGITAL_STATUS_QUERY, timeout=20)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=20)
        [question] = portal.status_questions()
        active = list(question.message.persons)
        portal.send_message(digital_status_reply(portal.portal, question.message,
                                                 datetime.now(OSLO), active))
        second = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True,
                                timeout=120, check=False)
        assert second.returncode == 0, second.stdout + second.stderr
        assert "completed" in second.stdout
        overviews = portal.wait_for(function=Function.SERVICE_OVERVIEW, count=3, timeout=20)
        assert Counter(o.citizen_id for o in overviews) == Counter(citizens)
        assert len(portal.status_questions()) == 1
        assert not [r for r in portal.received() if r.duplicate]
        [run] = store.nightly.runs.of_night(municipality, datetime.now(OSLO).date().isoformat())
        assert run.state == "completed"
        assert all(gerica.digitally_active(c) for c in citizens)
        assert "Traceback" not in second.stderr
        for line in second.stderr.splitlines():
            assert not any(c in line for c in citizens), "a national id in the logs"
    finally:
        portal.stop()
        transport.close()
        store.close()
