"""The shipped ``mock_epj`` fixture: every installed vendor's mock, reached through its plugin."""

from __future__ import annotations

import pytest

from digidialog.adapters import registry
from digidialog.testing.pytest_plugin import MockClient, StartMock

EXAMPLE_KINDS = {"staff_message", "visit_completed", "cancellation_decided"}


def test_all_three_vendors_are_installed() -> None:
    """The workspace registers the three vendor plugins, each passing the registry's checks."""
    assert {"gerica", "profil", "cosdoc"} <= set(registry.available())
    for name in ("gerica", "profil", "cosdoc"):
        assert registry.load(name).name == name


@pytest.mark.parametrize("vendor", ["gerica", "profil", "cosdoc"])
def test_mock_epj_fixture_serves_each_vendor(mock_epj: StartMock, vendor: str) -> None:
    """A test asks for a vendor's mock and talks to it through the registered adapter."""
    _mock, client = mock_epj(vendor, seed_citizens=3)
    adapter = client.adapter()
    try:
        services = adapter.services()
        citizens = list(adapter.citizens())
    finally:
        adapter.close()
    assert any(s.open_for_dialog for s in services)
    assert len(citizens) == 3


def _kinds(client: MockClient) -> set[str]:
    adapter = client.adapter()
    try:
        return {event.kind for event in adapter.changes(None, limit=50).events}
    finally:
        adapter.close()


@pytest.mark.parametrize("vendor", ["gerica", "profil", "cosdoc"])
def test_the_feed_starts_empty_unless_examples_are_asked_for(mock_epj: StartMock,
                                                             vendor: str) -> None:
    """By default a mock's change feed is empty (engine tests start from nothing); with
    ``example_changes`` it holds a staff message, a visit done and a cancellation decided."""
    _quiet_mock, quiet = mock_epj(vendor, seed_citizens=2)
    _lively_mock, lively = mock_epj(vendor, seed_citizens=2, example_changes=True)
    assert _kinds(quiet) == set()
    assert _kinds(lively) >= EXAMPLE_KINDS
