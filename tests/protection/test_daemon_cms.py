"""``digidialog run`` and ``digidialog certs check`` with ``[portal] protection = "cms"``.

The daemon as a real process, with its keys in files (encrypted, the password
from the environment), serves a citizen whose portal sends over a
ProtectedTransport; its signing certificate expires in ten days, so it logs
that and ``/metrics`` flags it. ``certs check`` reports per party what is
loaded, when it expires and whether chain and key usage are right (exit 1 when
something is wrong); a key that does not open stops the daemon before it starts.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from digidialog.protection.transport import ProtectedTransport
from digidialog.store import Store
from digidialog.testing import mocks
from digidialog.testing.certificates import PartyKeys, write_party
from digidialog.testing.harness import ConformanceHarness
from digidialog.testing.portal import PortalSimulator
from digidialog.transport.embedded import EmbeddedTransport
from tests.daemon.daemon_process import config_text, running_daemon
from tests.daemon.test_daemon_process import get
from tests.engine.world import eventually, unique_her_id
from tests.protection.configs import KEY_PASSWORD, KEY_PASSWORD_VARIABLE, cms_table
from tests.protection.pki import Pki, protection

SOON = dt.timedelta(days=10)


@pytest.fixture
def epj() -> Iterator[ConformanceHarness]:
    """A started Gerica mock."""
    harness = mocks.start("gerica", seed_citizens=0)
    yield harness
    harness.stop()


def cli(*arguments: str, config: Path) -> subprocess.CompletedProcess[str]:
    """A digidialog command against ``config``, the key password in its environment."""
    return subprocess.run(
        [sys.executable, "-m", "digidialog.cli.main", *arguments, "--config", str(config)],
        capture_output=True, text=True, timeout=60, check=False)


def protected_config(pki: Pki, folder: Path, epj: ConformanceHarness, keys: PartyKeys, *,
                     municipality: str, service: str, portal_her_id: str) -> Path:
    """The daemon's configuration: embedded transport, SQLite, and [portal.cms] with ``keys``."""
    text = config_text(epj, store_url=f"sqlite:///{folder / 'digidialog.db'}",
                       municipality=municipality, service=service, portal_her_id=portal_her_id)
    text = text.replace(f'her_id = "{portal_her_id}"',
                        f'her_id = "{portal_her_id}"\nprotection = "cms"', 1)
    config = folder / "digidialog.toml"
    config.write_text(text + cms_table(pki, folder, portal_her_id=portal_her_id, keys=keys))
    return config


def test_the_daemon_serves_a_protected_portal_and_warns_of_expiry(
        pki: Pki, epj: ConformanceHarness, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Message in (decrypted, verified), AppRec out (signed, encrypted), the message in the
    EPJ; the soon-expiring signing certificate logged and flagged in /metrics."""
    monkeypatch.setenv(KEY_PASSWORD_VARIABLE, KEY_PASSWORD)
    municipality, service, portal_her_id = unique_her_id(), unique_her_id(), unique_her_id()
    keys = PartyKeys(pki.issuing.issue("Eksempel kommune signing",
                                       not_after=dt.datetime.now(dt.UTC) + SOON),
                     pki.municipality.encryption)
    config = protected_config(pki, tmp_path, epj, keys, municipality=municipality,
                              service=service, portal_her_id=portal_her_id)
    portal_parties = tmp_path / "portal-parties"
    for her_id in (municipality, service):
        write_party(portal_parties, her_id, keys)
    with running_daemon(config, tmp_path) as daemon:
        store = Store.open(f"sqlite:///{tmp_path / 'digidialog.db'}")
        transport = ProtectedTransport(EmbeddedTransport(store), protection(
            pki, pki.portal.signing, pki.portal.encryption, portal_parties))
        portal = PortalSimulator(transport, portal_her_id=portal_her_id).start()
        try:
            citizen = epj.seed_citizens(1)[0]
            sent = portal.send_citizen_message(municipality, service, citizen)
            receipt = portal.wait_for_receipt(sent.msg_id, timeout=20)
            assert receipt.message.receipt is not None
            assert receipt.message.receipt.status.value == "ok"
            eventually(lambda: epj.delivered(sent.msg_id), what="the message in the EPJ")
            portal.assert_no_violations()
        finally:
            portal.stop()
            transport.close()
            store.close()
        status, metrics = get(daemon.url + "/metrics")
        assert status == 200
        assert ('digidialog_certificate_expiring{holder="default",owner="own",use="signing"} 1.0'
                in metrics)
        assert (f'digidialog_certificate_expiring{{holder="{portal_her_id}",owner="party",'
                'use="encryption"} 0.0') in metrics
        warned = eventually(lambda: [e for e in daemon.events()
                                     if e.get("event") == "certificate expires soon"],
                            what="the expiry warning")
        assert warned[0]["use"] == "signing" and warned[0]["days_left"] in (9, 10)
        assert KEY_PASSWORD not in "\n".join(daemon.lines)
        assert daemon.terminate() == 0


def test_certs_check_reports_every_party(pki: Pki, epj: ConformanceHarness, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Our certificates and the portal's: all right (exit 0); then a party whose signing
    certificate is revoked and one whose file is broken: exit 1, each problem named."""
    monkeypatch.setenv(KEY_PASSWORD_VARIABLE, KEY_PASSWORD)
    config = protected_config(pki, tmp_path, epj, pki.municipality, municipality="1000001",
                              service="1000002", portal_her_id="100000")
    good = cli("certs", "check", "--json", config=config)
    assert good.returncode == 0, good.stderr
    report = json.loads(good.stdout)
    assert report["ok"] is True
    assert {(r["owner"], r["holder"], r["use"]) for r in report["certificates"]} == {
        ("own", "default", "signing"), ("own", "default", "encryption"),
        ("party", "100000", "signing"), ("party", "100000", "encryption")}
    assert all(r["chain"] == "ok" and r["key_usage"] == "ok" and r["revocation"] == "ok"
               for r in report["certificates"])
    table = cli("certs", "check", config=config)
    assert table.returncode == 0 and "100000 (portal)" in table.stdout

    parties = tmp_path / "cms" / "parties"
    write_party(parties, "100077", signing=pki.revoked.certificate,
                encryption=pki.other.encryption.certificate)
    (parties / "100078.toml").write_text('her_id = "100078"\n')
    bad = cli("certs", "check", config=config)
    assert bad.returncode == 1
    assert "problem: 100077 signing: transport:revoked-certificate" in bad.stdout
    assert "problem: unreadable party file" in bad.stdout and "100078" in bad.stdout


def test_certs_check_without_protection_says_so(epj: ConformanceHarness, tmp_path: Path) -> None:
    """``protection = "none"``: nothing to check, exit 0."""
    config = tmp_path / "digidialog.toml"
    config.write_text(config_text(epj, store_url=f"sqlite:///{tmp_path / 'd.db'}",
                                  municipality="1000001", service="1000002",
                                  portal_her_id="100000"))
    done = cli("certs", "check", config=config)
    assert done.returncode == 0
    assert "message protection is off" in done.stdout


def test_a_key_that_does_not_open_stops_the_daemon_before_it_starts(
        pki: Pki, epj: ConformanceHarness, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong key password: refused with the key named, exit 1, the password not shown."""
    monkeypatch.setenv(KEY_PASSWORD_VARIABLE, "not-the-password")
    config = protected_config(pki, tmp_path, epj, pki.municipality, municipality="1000001",
                              service="1000002", portal_her_id="100000")
    done = cli("run", config=config)
    assert done.returncode == 1
    assert "error: the daemon cannot start: message protection: refused" in done.stderr
    assert "portal.cms.signing_key: " in done.stderr
    assert "not-the-password" not in done.stderr
    checked = cli("certs", "check", config=config)
    assert checked.returncode == 1 and "portal.cms.encryption_key: " in checked.stderr
