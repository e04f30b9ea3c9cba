"""Mutual-TLS files are checked before the first call: a wrong one is named in one line.

Before, a missing ``--ca`` was a 237-line traceback (``OSError: Could not find a
suitable TLS CA certificate bundle``) and a file that is not PEM a 313-line one
ending in ``UnicodeDecodeError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from digidialog.adapters import registry
from digidialog.adapters.registry import AdapterSettings
from digidialog.adapters.tls import TlsFileError, check_tls_files
from digidialog.cli.main import app

runner = CliRunner()


@dataclass(frozen=True)
class Files:
    """A certificate, its key and a CA file, all well-formed PEM."""

    cert: Path
    key: Path
    ca: Path


def _self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(days=1))
                   .not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def files(tmp_path: Path) -> Files:
    """A matching certificate and key, and a CA certificate."""
    cert, key = _self_signed(tmp_path, "client")
    ca, _ = _self_signed(tmp_path, "ca")
    return Files(cert, key, ca)


def _epj(files: Files, **replace: Path) -> list[str]:
    paths = {"--client-cert": files.cert, "--client-key": files.key, "--ca": files.ca, **{
        f"--{option.replace('_', '-')}": path for option, path in replace.items()}}
    options = [part for option, path in paths.items() for part in (option, str(path))]
    # Port 9 would refuse: the check must come first, or the error would be about the port.
    return ["epj", "services", "--vendor", "cosdoc", "--url", "https://127.0.0.1:9", *options]


def test_good_files_pass(files: Files) -> None:
    """A matching certificate and key and a CA certificate raise nothing."""
    check_tls_files(client_cert=files.cert, client_key=files.key, ca=files.ca)


@pytest.mark.parametrize("option", ["client_cert", "client_key", "ca"])
def test_a_missing_file_is_named_with_its_option(files: Files, tmp_path: Path,
                                                 option: str) -> None:
    """One line on stderr naming the option and the path; exit status 1; no traceback."""
    missing = tmp_path / "nowhere.pem"
    result = runner.invoke(app, _epj(files, **{option: missing}))
    assert result.exit_code == 1
    flag = "--" + option.replace("_", "-")
    assert result.stderr == f"error: {flag} {missing}: no such file\n"


@pytest.mark.parametrize(
    ("option", "content", "says"),
    [
        ("client_cert", bytes(range(256)) * 8, "is not PEM"),
        ("client_key", bytes(range(256)) * 8, "is not PEM"),
        ("ca", b"\x30\x82\x01\x0a" + bytes(200), "is DER, not PEM"),
        ("ca", b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n",
         "the PEM certificate in it is damaged"),
    ],
    ids=["binary-cert", "binary-key", "der-ca", "damaged-ca"],
)
def test_a_file_that_is_not_pem_is_named(files: Files, tmp_path: Path, option: str,
                                         content: bytes, says: str) -> None:
    """Binary, DER or damaged content: the option, the file and what is wrong with it."""
    wrong = tmp_path / "wrong.pem"
    wrong.write_bytes(content)
    result = runner.invoke(app, _epj(files, **{option: wrong}))
    assert result.exit_code == 1
    flag = "--" + option.replace("_", "-")
    assert result.stderr.startswith(f"error: {flag} {wrong}: {says}")
    assert result.stderr.count("\n") == 1


def test_swapped_and_foreign_files_are_told_apart(files: Files, tmp_path: Path) -> None:
    """A key given as certificate, a certificate as key, another certificate's key, a folder."""
    cases = [
        ({"client_cert": files.key}, f"--client-cert {files.key}: holds a private key"),
        ({"client_key": files.cert}, f"--client-key {files.cert}: holds a certificate"),
        ({"client_key": _self_signed(tmp_path, "other")[1]},
         f"--client-key {tmp_path / 'other.key'}: not the key of the certificate in "
         f"--client-cert {files.cert}"),
        ({"ca": tmp_path}, f"--ca {tmp_path}: is a directory, not a file"),
    ]
    for replace, says in cases:
        result = runner.invoke(app, _epj(files, **replace))
        assert result.exit_code == 1
        assert result.stderr.startswith(f"error: {says}"), result.stderr


def test_a_key_with_a_passphrase_is_refused_before_openssl_asks(files: Files,
                                                               tmp_path: Path) -> None:
    """requests cannot pass a passphrase: OpenSSL would prompt on the terminal."""
    key = serialization.load_pem_private_key(files.key.read_bytes(), password=None)
    locked = tmp_path / "locked.key"
    locked.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret")))
    with pytest.raises(TlsFileError, match="protected by a passphrase"):
        check_tls_files(client_cert=files.cert, client_key=locked, ca=files.ca)


def test_the_cosdoc_adapter_checks_its_settings_too(files: Files, tmp_path: Path) -> None:
    """The daemon's path (plugin.create) names the setting, before any connection."""
    plugin = registry.load("cosdoc")
    with pytest.raises(TlsFileError, match=r"^ca .*nowhere\.pem: no such file$"):
        plugin.create(AdapterSettings(base_url="https://127.0.0.1:9", client_cert=files.cert,
                                      client_key=files.key, ca=tmp_path / "nowhere.pem"))
