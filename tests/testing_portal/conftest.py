"""Fixtures: a loopback transport, a simulator on it and a fake engine facing it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from digidialog.testing.portal import PortalSimulator

from ._engine import FakeEngine
from ._loopback import LoopbackTransport


@pytest.fixture
def transport() -> LoopbackTransport:
    """Queues in memory for this test alone."""
    return LoopbackTransport()


@pytest.fixture
def portal(transport: LoopbackTransport) -> Iterator[PortalSimulator]:
    """The simulator, not receiving until the test pumps or starts it."""
    simulator = PortalSimulator(transport, names={"1000001": "Eksempel kommune",
                                                  "1000002": "Hjemmesykepleien"})
    yield simulator
    simulator.stop()


@pytest.fixture
def engine(transport: LoopbackTransport) -> FakeEngine:
    """The fake municipality the simulator talks to."""
    return FakeEngine(transport)
