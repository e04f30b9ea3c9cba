"""Each EPJ slow, down, answering 5xx, SOAP faults, Busy with Retry-After, broken XML (issue 11).

One real ``digidialog run`` serves three municipalities (Gerica, Profil,
CosDoc) on PostgreSQL and RabbitMQ. For each kind of fault, all three EPJs
fail at once while citizens write and staff answer; the daemon keeps running,
``/readyz`` names each EPJ that does not answer (``epj:<her_id>``) and why,
and once the EPJs are back the backlog drains: every message in the EPJ once,
every staff message at the portal once, nothing parked. The figures are printed
(``-s``) for docs/reliability.md.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from digidialog.testing.crash.config import Site
from digidialog.testing.crash.process import get
from digidialog.testing.crash.world import CrashWorld
from digidialog.testing.mockbase import Fault, FaultKind
from tests.proof.live import (
    at_portal,
    failing,
    in_epj,
    marker,
    one_daemon,
    ready,
    send_message,
    until,
)

OUTAGE = 12.0
"""Seconds each EPJ stays broken: long enough for every loop to meet the fault again and
again (the follow loop waits 2 s after a failure; Profil's feed used to give an event up
after 5 broken answers)."""
ALWAYS = 10**6
"""A fault's ``times``: until cleared."""


def faults_for(site: Site, kind: str) -> list[Fault]:
    """The faults that make ``site``'s EPJ behave as ``kind`` says."""
    harness = site.harness
    if kind == "slow":
        return [Fault(FaultKind.LATENCY, times=ALWAYS, delay=3.0)]  # the timeout is 2 s
    if kind == "5xx":
        return [Fault(FaultKind.HTTP_500, times=ALWAYS)]
    if kind == "soap-fault":
        code = harness.retriable_fault
        if code is None:  # Profil's "try later" is its Busy fault
            return [Fault(FaultKind.BUSY, times=ALWAYS)]
        return [Fault(FaultKind.VENDOR_FAULT, times=ALWAYS, code=code)]
    if kind == "busy-retry-after":
        return [Fault(FaultKind.BUSY, times=ALWAYS, retry_after=2)]
    if kind == "malformed-xml":
        return [Fault(FaultKind.MALFORMED_XML, times=ALWAYS)]
    if kind == "truncated-xml":
        return [Fault(FaultKind.TRUNCATED, times=ALWAYS)]
    raise ValueError(kind)


FAULTS = ["slow", "down", "5xx", "soap-fault", "busy-retry-after", "malformed-xml",
          "truncated-xml"]
FIGURES: list[str] = []


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrashWorld]:
    """One daemon serving a Gerica, a Profil and a CosDoc municipality."""
    with one_daemon(tmp_path_factory.mktemp("faults"),
                    "EPJ faults: detected (s) / drained after recovery (s)", FIGURES) as started:
        yield started


def break_epj(site: Site, kind: str) -> None:
    """Make ``site``'s EPJ fail as ``kind`` says."""
    mock = site.harness.mock
    if kind == "down":
        assert mock.server is not None
        mock.server.stop()  # connections refused; started again on the same port
        return
    for fault in faults_for(site, kind):
        mock.inject(fault)


def mend_epj(site: Site, kind: str) -> None:
    """Make ``site``'s EPJ answer again."""
    mock = site.harness.mock
    mock.clear_faults()
    if kind == "down":
        assert mock.server is not None
        mock.server.start()


@pytest.mark.services
@pytest.mark.parametrize("kind", FAULTS)
def test_an_epj_fault_is_named_and_its_backlog_drains(world: CrashWorld, kind: str) -> None:
    """During the fault: the daemon lives (/healthz 200), /readyz is 503 naming each EPJ
    with the reason; afterwards every message written meanwhile arrives once."""
    daemon = world.daemons[0]
    until(lambda: ready(daemon), 60, "ready before the fault")
    began = time.monotonic()
    for site in world.sites:
        break_epj(site, kind)
    sent: list[tuple[Site, str]] = []
    staff: list[str] = []
    try:
        for site in world.sites:
            sent.append((site, send_message(world, site, marker("melding"))))
            word = marker("svar")
            site.harness.write_staff_message(site.citizens[1], f"Beskjed {word}.")
            staff.append(word)
        detected = {}
        for site in world.sites:
            check = f"epj:{site.municipality}"
            reason = until(lambda check=check: failing(daemon, check), 30,
                           f"{check} failing during '{kind}'")
            detected[site.vendor] = (time.monotonic() - began, reason)
        assert get(daemon.url + "/readyz")[0] == 503
        assert get(daemon.url + "/healthz")[0] == 200
        time.sleep(max(0.0, OUTAGE - (time.monotonic() - began)))
        assert daemon.running(), "the daemon died during the fault"
    finally:
        for site in world.sites:
            mend_epj(site, kind)
    mended = time.monotonic()
    drained: dict[str, float] = {}

    def all_arrived() -> bool:
        for (site, msg_id), word in zip(sent, staff, strict=True):
            if site.vendor not in drained and in_epj(site, msg_id) and at_portal(world, word):
                drained[site.vendor] = time.monotonic() - mended
        return len(drained) == len(sent)

    until(all_arrived, 90, f"what was written during '{kind}' in the EPJ and at the portal")
    until(lambda: ready(daemon), 60, f"ready again after '{kind}'")
    assert [in_epj(site, msg_id) for site, msg_id in sent] == [1, 1, 1]
    assert [len(at_portal(world, word)) for word in staff] == [1, 1, 1]
    assert world.store.dead_letters.list() == []
    world.portal.assert_no_violations()
    assert daemon.running()
    for vendor, (seconds, reason) in detected.items():
        FIGURES.append(f"  {kind:<17} {vendor:<7} {seconds:5.1f} / {drained[vendor]:5.1f}   "
                       f"{reason[:90]}")


DETAIL_READS = {"profil": "GetOutboxMessages", "cosdoc": "HENT_MELDING"}
"""The call that reads a staff message's text after the feed named it."""


@pytest.mark.services
@pytest.mark.parametrize("vendor", sorted(DETAIL_READS))
def test_broken_answers_to_a_detail_read_delay_a_staff_message_never_lose_it(
        world: CrashWorld, vendor: str) -> None:
    """The feed names the staff message; reading its text gets broken replies (a proxy
    truncating them) many times over, longer than the adapter's own retries and than the
    feed's patience with one event. Once the replies are whole again it reaches the portal
    once, and nothing was parked."""
    site = next(s for s in world.sites if s.vendor == vendor)
    daemon = world.daemons[0]
    until(lambda: ready(daemon), 60, "ready before the fault")
    site.harness.mock.inject(Fault(FaultKind.TRUNCATED, times=ALWAYS,
                                   operation=DETAIL_READS[vendor]))
    word = marker("svar")
    try:
        site.harness.write_staff_message(site.citizens[0], f"Beskjed {word}.")
        until(lambda: failing(daemon, f"epj:{site.municipality}"), 30,
              "the broken replies noticed")
        time.sleep(25)  # the engine retries every 2 s, the adapter 2 times per call
        assert not at_portal(world, word)
    finally:
        site.harness.mock.clear_faults()
    until(lambda: at_portal(world, word), 60, "the staff message at the portal")
    assert len(at_portal(world, word)) == 1
    assert world.store.dead_letters.list() == []
