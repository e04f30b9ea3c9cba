"""``/readyz`` names each EPJ (``epj:<her_id>``) from the engine's own calls, never probing it.

The adapter is a real one against the Gerica mock, with the mock's faults:
what the EPJ does to the engine's calls is what the check reports.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from digidialog.adapters.soap import CallPolicy
from digidialog.daemon.epj_health import EpjReachability, WatchedAdapter
from digidialog.errors import VendorRejected, VendorUnavailable
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
