"""The files of mutual TLS, checked before the first call to an EPJ.

requests opens the certificate, key and CA files only when it connects, and
then fails deep inside urllib3 and OpenSSL (``OSError: Could not find the TLS
certificate file``, or a ``UnicodeDecodeError`` for a file that is not PEM).
:func:`check_tls_files` reads them first and says which one is wrong and why,
naming the setting or command-line option the operator used.
"""

from __future__ import annotations

import ssl
import stat
from collections.abc import Mapping
from pathlib import Path

from digidialog.errors import FatalError

MAX_PEM_BYTES = 1024 * 1024
"""Larger than any certificate chain or key; a bigger file is the wrong file."""

SETTING_NAMES: Mapping[str, str] = {
    "client_cert": "client_cert", "client_key": "client_key", "ca": "ca"}
"""How the three files are named in :class:`~digidialog.adapters.registry.AdapterSettings`."""

_CERTIFICATE = b"-----BEGIN CERTIFICATE-----"
_KEY_END = b"PRIVATE KEY-----"


class TlsFileError(FatalError):
    """A certificate, key or CA file that cannot be used; the message names it."""


def check_tls_files(*, client_cert: Path | None, client_key: Path | None, ca: Path | None,
                    names: Mapping[str, str] = SETTING_NAMES) -> None:
    """Check each given file, and that the key belongs to the certificate.

    ``names`` says what to call each file in an error (``--client-cert`` on the
    command line). Raises :class:`TlsFileError`, one line naming the file.
    """
    if client_cert is not None:
        _certificates(client_cert, names["client_cert"])
    if ca is not None:
        _certificates(ca, names["ca"])
    if client_key is not None:
        _private_key(client_key, names["client_key"])
        if client_cert is not None:
            _key_matches(client_cert, client_key, names)


def _read(path: Path, name: str) -> bytes:
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise TlsFileError(f"{name} {path}: is a directory, not a file")
        if not stat.S_ISREG(mode):
            raise TlsFileError(f"{name} {path}: is not a regular file")
        with path.open("rb") as handle:
            data = handle.read(MAX_PEM_BYTES + 1)
    except FileNotFoundError:
        raise TlsFileError(f"{name} {path}: no such file") from None
    except PermissionError:
        raise TlsFileError(f"{name} {path}: permission denied") from None
    except OSError as error:
        raise TlsFileError(
            f"{name} {path}: cannot be read ({error.strerror or 'I/O error'})") from None
    if len(data) > MAX_PEM_BYTES:
        raise TlsFileError(f"{name} {path}: larger than {MAX_PEM_BYTES} bytes, not a PEM file")
    return data


def _not_pem(data: bytes) -> str:
    # DER is an ASN.1 SEQUENCE: its first byte is 0x30.
    if data[:1] == b"\x30":
        return "is DER, not PEM (openssl can convert it)"
    return "is not PEM"


def _context() -> ssl.SSLContext:
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def _certificates(path: Path, name: str) -> None:
    data = _read(path, name)
    if _CERTIFICATE not in data:
        if _KEY_END in data:
            raise TlsFileError(f"{name} {path}: holds a private key, not a certificate")
        raise TlsFileError(f"{name} {path}: {_not_pem(data)} (no {_CERTIFICATE.decode()} line)")
    try:
        # OpenSSL, as requests will use it: every certificate in the file must load.
        _context().load_verify_locations(cadata=data.decode("ascii"))
    except (ssl.SSLError, UnicodeDecodeError, ValueError):
        raise TlsFileError(f"{name} {path}: the PEM certificate in it is damaged") from None


def _key_matches(client_cert: Path, client_key: Path, names: Mapping[str, str]) -> None:
    try:
        _context().load_cert_chain(certfile=client_cert, keyfile=client_key)
    except ssl.SSLError as error:
        if "KEY_VALUES_MISMATCH" in str(error) or "key values mismatch" in str(error):
            raise TlsFileError(f"{names['client_key']} {client_key}: not the key of the "
                               f"certificate in {names['client_cert']} {client_cert}") from None
        raise TlsFileError(f"{names['client_key']} {client_key}: the PEM private key in it "
                           "is damaged or of an unsupported kind") from None


def _private_key(path: Path, name: str) -> None:
    data = _read(path, name)
    if _KEY_END not in data:
        if _CERTIFICATE in data:
            raise TlsFileError(f"{name} {path}: holds a certificate, not a private key")
        raise TlsFileError(f"{name} {path}: {_not_pem(data)} (no -----BEGIN ... "
                           f"{_KEY_END.decode()} line)")
    if b"ENCRYPTED" in data:
        # requests cannot be given a passphrase; OpenSSL would ask for one on the terminal.
        raise TlsFileError(f"{name} {path}: is protected by a passphrase; give the key "
                           "without one (and keep it readable by this user only)")
    if b"-----END " not in data.split(b"-----BEGIN ", 1)[-1]:
        raise TlsFileError(f"{name} {path}: the PEM private key in it is damaged "
                           "or of an unsupported kind")
