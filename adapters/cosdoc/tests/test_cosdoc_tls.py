"""Mutual TLS: only a client the mock's CA signed gets in; only the configured CA is trusted."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cosdoc_support import FAST_RETRY, Running, running
from cryptography import x509

from digidialog.adapters import registry
from digidialog.adapters.registry import AdapterSettings
from digidialog.errors import AuthenticationFailed, FatalError
from digidialog.testing import mocks
from digidialog_cosdoc.adapter import CosDocAdapter
from digidialog_cosdoc.mock import certs
from digidialog_cosdoc.plugin import plugin


@pytest.fixture
def cosdoc() -> Iterator[Running]:
    """A running mock."""
    with running(seed_citizens=1) as started:
        yield started


@pytest.fixture
def stranger(tmp_path: Path) -> certs.CertificateFiles:
    """A complete certificate set from another CA."""
    return certs.write_set(tmp_path / "stranger")


def test_a_client_certificate_from_another_ca_is_refused(
    cosdoc: Running, stranger: certs.CertificateFiles
) -> None:
    """The handshake fails: AuthenticationFailed, final, not retried, and nothing served."""
    adapter = CosDocAdapter(cosdoc.mock.base_url, client_cert=stranger.client_cert,
                            client_key=stranger.client_key, ca=cosdoc.files.ca, policy=FAST_RETRY)
    began = time.monotonic()
    with pytest.raises(AuthenticationFailed, match="TLS handshake"):
        adapter.services()
    assert time.monotonic() - began < 2
    assert cosdoc.mock.requests_seen == []


def test_a_client_without_a_certificate_is_refused(cosdoc: Running) -> None:
    """No client certificate at all: the mock will not talk."""
    with pytest.raises(requests.exceptions.SSLError):
        requests.post(cosdoc.mock.service_url, data=b"x", timeout=3,
                      verify=str(cosdoc.files.ca))
    assert cosdoc.mock.requests_seen == []


def test_a_server_the_configured_ca_did_not_sign_is_refused(
    cosdoc: Running, stranger: certs.CertificateFiles
) -> None:
    """The client checks the server against its CA: another CA's server is not CosDoc."""
    adapter = CosDocAdapter(cosdoc.mock.base_url, client_cert=cosdoc.files.client_cert,
                            client_key=cosdoc.files.client_key, ca=stranger.ca,
                            policy=FAST_RETRY)
    with pytest.raises(AuthenticationFailed, match="certificate verify failed"):
        adapter.services()
    assert cosdoc.mock.requests_seen == []


def test_the_environment_cannot_replace_the_configured_ca(
    cosdoc: Running, stranger: certs.CertificateFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    """REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE would override a requests session's CA; the
    adapter ignores them, both ways."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(stranger.ca))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(stranger.ca))
    assert cosdoc.adapter().services()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cosdoc.files.ca))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(cosdoc.files.ca))
    adapter = CosDocAdapter(cosdoc.mock.base_url, client_cert=cosdoc.files.client_cert,
                            client_key=cosdoc.files.client_key, ca=stranger.ca,
                            policy=FAST_RETRY)
    with pytest.raises(AuthenticationFailed):
        adapter.services()


def test_the_server_certificate_names_the_host(tmp_path: Path) -> None:
    """Generated server certificates carry the host names and addresses they serve."""
    files = certs.write_set(tmp_path, hosts=["cosdoc.test", "10.0.0.7"])
    text = files.server_cert.read_bytes()
    certificate = x509.load_pem_x509_certificate(text)
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert names.value.get_values_for_type(x509.DNSName) == ["cosdoc.test"]
    assert [str(a) for a in names.value.get_values_for_type(x509.IPAddress)] == [
        "10.0.0.7"]
    assert files.client_key.stat().st_mode & 0o077 == 0
    assert files.server_key.stat().st_mode & 0o077 == 0


def test_the_plugin_is_registered_and_checked() -> None:
    """The entry point loads, passes the registry's checks, and names itself cosdoc."""
    loaded = registry.load("cosdoc")
    assert loaded is plugin
    assert registry.check_plugin("cosdoc", loaded) is plugin


def test_the_plugin_starts_a_mock_a_client_can_use() -> None:
    """The mock entry point, started as ``digidialog mock-epj`` starts it, gives the base URL
    and the three files; create() connects with them."""
    harness = mocks.start("cosdoc", seed_citizens=2)
    details = mocks.connection_details(harness.settings())
    try:
        assert set(details) == {"base_url", "client_cert", "client_key", "ca"}
        assert details["base_url"].startswith("https://127.0.0.1:")
        adapter = plugin.create(AdapterSettings(
            base_url=details["base_url"], client_cert=Path(details["client_cert"]),
            client_key=Path(details["client_key"]), ca=Path(details["ca"]), timeout=3.0))
        assert len(list(adapter.citizens())) == 2
        adapter.close()
    finally:
        harness.stop()
    assert not Path(details["ca"]).exists(), "temporary certificates are removed on stop"


def test_the_plugin_needs_all_three_files() -> None:
    """Without a client certificate, key and CA there is no CosDoc adapter."""
    with pytest.raises(FatalError, match="mutual TLS"):
        plugin.create(AdapterSettings(base_url="https://cosdoc.invalid", username="u"))
