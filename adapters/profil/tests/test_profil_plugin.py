"""The ``profil`` entry point: found, checked, and able to make an adapter and a mock."""

from __future__ import annotations

from pathlib import Path

from digidialog.adapters import registry
from digidialog.adapters.contract import EpjAdapter, PeriodCancellation
from digidialog.adapters.registry import AdapterSettings
from digidialog.testing import mocks
from digidialog_profil.adapter import ProfilAdapter
from digidialog_profil.mock.server import ProfilMock
from digidialog_profil.mock.state import SERVICE_IDS


def test_the_plugin_is_registered_and_passes_the_checks() -> None:
    """``registry.load("profil")`` finds the entry point and validates it."""
    assert "profil" in registry.available()
    plugin = registry.load("profil")
    assert plugin.name == "profil"
    assert plugin.adapter_class is ProfilAdapter


def test_the_plugin_makes_a_mock_and_an_adapter_that_talk(tmp_path: Path) -> None:
    """A seeded mock, started the way ``digidialog mock-epj`` starts it, answers an adapter
    made from plain settings."""
    plugin = registry.load("profil")
    harness = mocks.start("profil", seed_citizens=4)
    mock = harness.mock
    assert isinstance(mock, ProfilMock)
    details = mocks.connection_details(harness.settings())
    try:
        adapter = plugin.create(AdapterSettings(
            base_url=details["base_url"], username=mock.username, password=mock.password,
            options={"event_store": str(tmp_path / "events.sqlite3")}))
        assert isinstance(adapter, EpjAdapter)
        capabilities = adapter.capabilities
        assert capabilities.period_cancellation is PeriodCancellation.EXPANDED
        assert capabilities.local_times and capabilities.soap_version == "1.2"
        assert {s.code for s in adapter.services()} == {str(i) for i in SERVICE_IDS.values()}
        assert len(list(adapter.citizens())) == 4
        adapter.close()
    finally:
        harness.stop()


def test_the_adapter_can_host_its_own_push_endpoint(tmp_path: Path) -> None:
    """With ``push_listen`` the adapter serves NotifyEvent itself, on the same store its
    feed reads, and stops serving when closed."""
    mock = ProfilMock(seed_citizens=1)
    mock.start()
    adapter = ProfilAdapter(AdapterSettings(
        base_url=mock.base_url, username=mock.username, password=mock.password,
        options={"event_store": str(tmp_path / "events.sqlite3"),
                 "push_listen": "127.0.0.1:0", "push_username": "p",
                 "push_password": "secret"}))
    try:
        assert adapter.push_url is not None
        mock.push_to(adapter.push_url, "p", "secret", attempts=2, backoff=0.01)
        citizen = next(iter(mock.state.clients))
        mock.write_staff_message(citizen, SERVICE_IDS["HSP"], "Hei")
        assert [e.kind for e in adapter.changes(None).events] == ["staff_message"]
    finally:
        adapter.close()
        mock.stop()
