"""``/readyz`` names each EPJ (``epj:<her_id>``) from the engine's own calls, never probing it.

The adapter is a real one against the Gerica mock, with the mock's faults:
what the EPJ does to the engine's calls is what the check reports.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from digidialog.adapters.soap import CallPolicy
from digidialog.daemon.epj_health import EpjReachability, WatchedAdapter, watch
from digidialog.domain.timezone import OSLO
from digidialog.errors import VendorRejected, VendorUnavailable
from digidialog.sync.nightly.appointments import DailyExport
from digidialog.testing import mocks
from digidialog.testing.harness import ConformanceHarness
from digidialog.testing.mockbase import Fault, FaultKind

MUNICIPALITY = "1000001"


@pytest.fixture
def gerica() -> Iterator[ConformanceHarness]:
    """A started Gerica mock with one citizen."""
    harness = mocks.start("gerica", seed_citizens=0)
    harness.seed_citizens(1)
    yield harness
    harness.stop()


class Clock:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_nothing_asked_yet_is_no_reason_to_fail() -> None:
    """Before the engine has called the EPJ, the check passes."""
    EpjReachability().check(MUNICIPALITY)()


def test_the_check_follows_the_engines_calls(gerica: ConformanceHarness) -> None:
    """A call that cannot get through fails the check, with the reason and how long; a call
    the EPJ answers, even with a refusal on the merits, makes it pass again; no call is made
    by the check itself."""
    clock = Clock()
    reachability = EpjReachability(clock=clock)
    adapter = WatchedAdapter(gerica.adapter(policy=CallPolicy(timeout=2.0, attempts=1)),
                             MUNICIPALITY, reachability)
    check = reachability.check(MUNICIPALITY)
    adapter.services()
    check()

    gerica.mock.inject(Fault(FaultKind.HTTP_500, times=2))
    with pytest.raises(VendorUnavailable):
        adapter.services()
    clock.now += 30
    with pytest.raises(VendorUnavailable):
        adapter.services()
    seen = len(gerica.mock.requests_seen)
    with pytest.raises(ConnectionError, match=r"not answered for 30 s .*VendorUnavailable"):
        check()
    assert len(gerica.mock.requests_seen) == seen, "the check called the EPJ"

    code = next(iter(gerica.final_faults))
    gerica.mock.inject(Fault(FaultKind.VENDOR_FAULT, code=code))
    with pytest.raises(VendorRejected):
        adapter.services()
    check()


def test_a_pushing_epjs_local_reading_proves_nothing() -> None:
    """Profil's events are read from the adapter's own store: reading them while Profil is
    away must not make the check pass."""
    harness = mocks.start("profil", seed_citizens=0)
    try:
        reachability = EpjReachability()
        adapter = WatchedAdapter(harness.adapter(policy=CallPolicy(timeout=2.0, attempts=1)),
                                 MUNICIPALITY, reachability)
        harness.mock.inject(Fault(FaultKind.HTTP_500))
        with pytest.raises(VendorUnavailable):
            adapter.services()
        batch = adapter.changes(None)
        adapter.acknowledge(batch)
        with pytest.raises(ConnectionError):
            reachability.check(MUNICIPALITY)()
    finally:
        harness.stop()


def test_the_reason_never_carries_a_national_id() -> None:
    """An adapter error that quotes eleven digits is shown without them."""
    reachability = EpjReachability()
    reachability.failed(MUNICIPALITY, VendorUnavailable("no answer about 13116900216"))
    with pytest.raises(ConnectionError) as raised:
        reachability.check(MUNICIPALITY)()
    assert "13116900216" not in str(raised.value)
    assert "***********" in str(raised.value)


def test_an_adapter_with_a_daily_export_keeps_it_through_the_wrapper() -> None:
    """The nightly job streams CosDoc's daily export when the adapter has one: wrapped for
    ``/readyz`` it must still have it (hidden, the nightly read citizen by citizen), and the
    export's first record counts as an answer."""
    harness = mocks.start("cosdoc", seed_citizens=0)
    try:
        citizen = harness.seed_citizens(1)[0]
        start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
        harness.seed_visits(citizen, 2, start)
        reachability = EpjReachability()
        adapter = watch(harness.adapter(policy=CallPolicy(timeout=2.0, attempts=1)),
                        MUNICIPALITY, reachability)
        assert isinstance(adapter, DailyExport)
        day = start.astimezone(OSLO).date()
        exported = list(adapter.export_appointments(day))
        assert {owner for owner, _ in exported} == {citizen}
        assert len(exported) == 2
        assert reachability.outcome(MUNICIPALITY) is not None
        reachability.check(MUNICIPALITY)()

        harness.mock.inject(Fault(FaultKind.HTTP_500))
        with pytest.raises(VendorUnavailable):
            list(adapter.export_appointments(day))
        with pytest.raises(ConnectionError):
            reachability.check(MUNICIPALITY)()
    finally:
        harness.stop()


def test_an_adapter_without_an_export_is_not_given_one(gerica: ConformanceHarness) -> None:
    """Gerica has no daily export: the wrapper must not pretend it has."""
    adapter = watch(gerica.adapter(), MUNICIPALITY, EpjReachability())
    assert not isinstance(adapter, DailyExport)
