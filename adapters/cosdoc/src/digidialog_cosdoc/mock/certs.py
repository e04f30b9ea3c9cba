"""Throwaway certificates for mutual TLS: a CA, a server and a client, and the TLS contexts.

CosDoc authenticates both ends with certificates: the client presents one,
and checks the server's against a configured CA. The mock and the tests need
a complete, private set of those, made on the spot and never reused:

- :func:`make_authority` creates a self-signed CA;
- :func:`issue` signs a server certificate (serverAuth, with the host names
  and addresses it answers on) or a client certificate (clientAuth);
- :func:`write_set` writes a CA, a server and a client certificate with their
  keys to a directory (keys readable by the owner only);
- :func:`server_context` is the mock's TLS context: it *requires* a client
  certificate signed by the CA it trusts.

Keys are elliptic-curve (P-256): as strong as RSA-3072 and generated in a
millisecond, so every test can have fresh ones.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = dt.timedelta(days=30)
_CLOCK_SKEW = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def certificate_pem(self) -> bytes:
        """The certificate in PEM."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        """The private key in unencrypted PKCS#8 PEM."""
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


@dataclass(frozen=True)
class CertificateFiles:
    """Where a written set lives: what the server needs and what a client needs."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "digidialog test"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def make_authority(common_name: str = "digidialog CosDoc test CA") -> Issued:
    """A self-signed CA that may sign end-entity certificates only."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    now = _now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(certificate, key)


def _alternative_names(hosts: list[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def issue(authority: Issued, common_name: str, *, server: bool, hosts: list[str] | None = None
          ) -> Issued:
    """An end-entity certificate signed by ``authority``, for a server or for a client.

    A server certificate names ``hosts`` (DNS names or IP addresses) as subject
    alternative names, since clients check the address they connected to.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    now = _now()
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(authority.certificate.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=True, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.key.public_key()),
            critical=False,
        )
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(_alternative_names(hosts or ["localhost", "127.0.0.1"])),
            critical=False,
        )
    return Issued(builder.sign(authority.key, hashes.SHA256()), key)


def _write(path: Path, data: bytes, *, secret: bool) -> Path:
    # Keys are created owner-only from the start rather than chmod-ed afterwards,
    # so there is no moment in which another user could read them.
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    descriptor = os.open(path, flags, 0o600 if secret else 0o644)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    return path


def write_set(directory: Path, *, hosts: list[str] | None = None,
              authority: Issued | None = None) -> CertificateFiles:
    """Write a CA, a server certificate for ``hosts`` and a client certificate to ``directory``.

    Pass ``authority`` to sign with an existing CA (to make a certificate that
    a server trusting another CA will refuse, sign it with a CA of its own).
    """
    directory.mkdir(parents=True, exist_ok=True)
    ca = authority or make_authority()
    server = issue(ca, "cosdoc-mock", server=True, hosts=hosts)
    client = issue(ca, "digidialog", server=False)
    return CertificateFiles(
        ca=_write(directory / "ca.pem", ca.certificate_pem(), secret=False),
        server_cert=_write(directory / "server.pem", server.certificate_pem(), secret=False),
        server_key=_write(directory / "server.key", server.key_pem(), secret=True),
        client_cert=_write(directory / "client.pem", client.certificate_pem(), secret=False),
        client_key=_write(directory / "client.key", client.key_pem(), secret=True),
    )


def server_context(files: CertificateFiles) -> ssl.SSLContext:
    """The mock's TLS context: its own certificate, and a client certificate required,
    signed by the CA in ``files``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(files.server_cert, files.server_key)
    context.load_verify_locations(cafile=files.ca)
    context.verify_mode = ssl.CERT_REQUIRED
    return context
