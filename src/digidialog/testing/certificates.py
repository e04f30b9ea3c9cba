"""Throwaway PKI for message protection: a CA, good and bad certificates, CRLs, party files.

Tests, benchmarks and the demo make their own keys on the spot; no private
key is ever committed. :class:`CertificateAuthority` is a self-signed root (or
an intermediate under one) that issues end-entity certificates for signing
(key usage non-repudiation) or encryption (key encipherment), revokes them and
publishes CRLs. What a test needs to break is a keyword away: a certificate
that expired (``not_after`` in the past), one not valid yet, one with the
wrong key usage (``usage="authentication"``), one revoked, one from an issuer
nobody trusts (a second CA).

:func:`write_party` writes a party certificate file (one per HER-id, as
:mod:`digidialog.protection.parties` reads it) and :func:`write_keys` a
party's own certificates and private keys (owner-only files), so that a test
can build the same configuration an operator writes.

Keys are RSA 2048 by default: key transport in CMS enveloping needs RSA
(Helsenorge's certificates are RSA). Signing certificates may be EC
(``key_type="ec"``).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

Usage = Literal["signing", "encryption", "authentication", "both"]
"""``signing``: non-repudiation; ``encryption``: key and data encipherment;
``authentication``: digital signature only (wrong for both message uses);
``both``: non-repudiation and key encipherment on one certificate."""

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey

DEFAULT_VALIDITY = dt.timedelta(days=365)
CLOCK_SKEW = dt.timedelta(hours=1)


def utc_now() -> dt.datetime:
    """The current instant, in UTC."""
    return dt.datetime.now(dt.UTC)


def new_key(key_type: Literal["rsa", "ec"] = "rsa") -> PrivateKey:
    """A fresh private key: RSA 2048 or EC P-256."""
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def name(common_name: str, organisation: str = "digidialog test") -> x509.Name:
    """A distinguished name with an organisation and a common name."""
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "NO"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _key_usage(usage: Usage) -> x509.KeyUsage:
    flags = {
        "digital_signature": usage == "authentication", "content_commitment": False,
        "key_encipherment": False, "data_encipherment": False, "key_agreement": False,
        "key_cert_sign": False, "crl_sign": False, "encipher_only": False,
        "decipher_only": False,
    }
    if usage in ("signing", "both"):
        flags["content_commitment"] = True
    if usage in ("encryption", "both"):
        flags["key_encipherment"] = flags["data_encipherment"] = True
    return x509.KeyUsage(**flags)


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key."""

    certificate: x509.Certificate
    key: PrivateKey

    def certificate_pem(self) -> bytes:
        """The certificate in PEM."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def key_pem(self, password: bytes | None = None) -> bytes:
        """The private key in PKCS#8 PEM, encrypted with ``password`` when given."""
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password) if password
            else serialization.NoEncryption())
        return self.key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8, encryption)


@dataclass
class CertificateAuthority:
    """A throwaway CA that issues, revokes and publishes CRLs.

    Make a root with :meth:`root`; an intermediate with :meth:`intermediate`.
    """

    issued: Issued
    parent: CertificateAuthority | None = None
    revoked: dict[int, dt.datetime] = field(default_factory=dict)

    @classmethod
    def root(cls, common_name: str = "digidialog test root CA", *,
             not_before: dt.datetime | None = None,
             not_after: dt.datetime | None = None) -> CertificateAuthority:
        """A self-signed root CA."""
        key = new_key()
        now = utc_now()
        certificate = _ca_builder(
            name(common_name), name(common_name), key.public_key(),
            not_before or now - CLOCK_SKEW, not_after or now + 10 * DEFAULT_VALIDITY,
            issuer_key=key, path_length=1,
        ).sign(key, hashes.SHA256())
        return cls(Issued(certificate, key))

    @property
    def certificate(self) -> x509.Certificate:
        """The CA's own certificate."""
        return self.issued.certificate

    def chain(self) -> list[x509.Certificate]:
        """This CA's certificate and those above it, up to the root."""
        above = self.parent.chain() if self.parent else []
        return [self.certificate, *above]

    def intermediate(self, common_name: str = "digidialog test issuing CA", *,
                     not_before: dt.datetime | None = None,
                     not_after: dt.datetime | None = None) -> CertificateAuthority:
        """A CA under this one, which may issue end-entity certificates only."""
        key = new_key()
        now = utc_now()
        certificate = _ca_builder(
            name(common_name), self.certificate.subject, key.public_key(),
            not_before or now - CLOCK_SKEW, not_after or now + 5 * DEFAULT_VALIDITY,
            issuer_key=self.issued.key, path_length=0,
        ).sign(self.issued.key, hashes.SHA256())
        return CertificateAuthority(Issued(certificate, key), parent=self)

    def issue(self, common_name: str, *, usage: Usage = "signing",
              not_before: dt.datetime | None = None, not_after: dt.datetime | None = None,
              key_type: Literal["rsa", "ec"] = "rsa", key: PrivateKey | None = None,
              organisation: str = "digidialog test") -> Issued:
        """An end-entity certificate for ``usage``, valid a year unless told otherwise."""
        private = key or new_key(key_type)
        public = private.public_key()
        now = utc_now()
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name(common_name, organisation))
            .issuer_name(self.certificate.subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - CLOCK_SKEW)
            .not_valid_after(not_after or now + DEFAULT_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(usage), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self.issued.key.public_key()), critical=False)
            .sign(self.issued.key, hashes.SHA256())
        )
        return Issued(certificate, private)

    def revoke(self, issued: Issued | x509.Certificate, at: dt.datetime | None = None) -> None:
        """Put the certificate on this CA's next CRL."""
        certificate = issued.certificate if isinstance(issued, Issued) else issued
        self.revoked[certificate.serial_number] = at or utc_now() - dt.timedelta(minutes=1)

    def crl(self, *, last_update: dt.datetime | None = None,
            next_update: dt.datetime | None = None,
            signed_by: PrivateKey | None = None) -> x509.CertificateRevocationList:
        """A CRL of what this CA revoked; ``signed_by`` another key makes a forged one."""
        now = utc_now()
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.certificate.subject)
            .last_update(last_update or now - dt.timedelta(minutes=5))
            .next_update(next_update or now + dt.timedelta(days=7))
        )
        for serial, at in self.revoked.items():
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(at)
                .build())
        signer = signed_by or self.issued.key
        return builder.sign(signer, hashes.SHA256())


def _ca_builder(subject: x509.Name, issuer: x509.Name, public: PublicKey,
                not_before: dt.datetime, not_after: dt.datetime, *, issuer_key: PrivateKey,
                path_length: int) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer_key.public_key()), critical=False)
    )


@dataclass(frozen=True)
class PartyKeys:
    """A communication party's two certificates with their keys."""

    signing: Issued
    encryption: Issued

    @classmethod
    def issued_by(cls, ca: CertificateAuthority, party: str, *,
                  signing_key_type: Literal["rsa", "ec"] = "rsa") -> PartyKeys:
        """A signing and an encryption certificate for ``party`` from ``ca``."""
        return cls(ca.issue(f"{party} signing", usage="signing", key_type=signing_key_type,
                            organisation=party),
                   ca.issue(f"{party} encryption", usage="encryption", organisation=party))


def write_file(path: Path, data: bytes, *, secret: bool = False) -> Path:
    """Write ``data``; a secret is created owner-only from the start (never chmod-ed later)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    return path


def write_pem(path: Path, *certificates: x509.Certificate) -> Path:
    """Certificates in one PEM file (a bundle when several)."""
    return write_file(path, b"".join(c.public_bytes(serialization.Encoding.PEM)
                                     for c in certificates))


def write_crl(path: Path, crl: x509.CertificateRevocationList, *, der: bool = False) -> Path:
    """A CRL in PEM (or DER)."""
    encoding = serialization.Encoding.DER if der else serialization.Encoding.PEM
    return write_file(path, crl.public_bytes(encoding))


@dataclass(frozen=True)
class KeyFiles:
    """Where :func:`write_keys` put a party's own certificates and keys."""

    signing_certificate: Path
    signing_key: Path
    encryption_certificate: Path
    encryption_key: Path


def write_keys(folder: Path, keys: PartyKeys, *, prefix: str = "",
               password: bytes | None = None) -> KeyFiles:
    """A party's own certificates and (owner-only) private keys, as an operator keeps them."""
    return KeyFiles(
        signing_certificate=write_pem(folder / f"{prefix}signing.pem", keys.signing.certificate),
        signing_key=write_file(folder / f"{prefix}signing.key",
                               keys.signing.key_pem(password), secret=True),
        encryption_certificate=write_pem(folder / f"{prefix}encryption.pem",
                                         keys.encryption.certificate),
        encryption_key=write_file(folder / f"{prefix}encryption.key",
                                  keys.encryption.key_pem(password), secret=True),
    )


def write_party(folder: Path, her_id: str, keys: PartyKeys | None = None, *,
                signing: x509.Certificate | None = None,
                encryption: x509.Certificate | None = None,
                name: str | None = None, cpa_id: str | None = None) -> Path:
    """The certificate file of party ``her_id`` (``<folder>/<her_id>.toml``), with its PEMs.

    The certificates come from ``keys`` or are given one by one (to pair a good
    signing certificate with a bad encryption one, say).
    """
    signing = signing or (keys.signing.certificate if keys else None)
    encryption = encryption or (keys.encryption.certificate if keys else None)
    if signing is None or encryption is None:
        raise ValueError("give keys, or both signing and encryption certificates")
    write_pem(folder / f"{her_id}-signing.pem", signing)
    write_pem(folder / f"{her_id}-encryption.pem", encryption)
    lines = [f'her_id = "{her_id}"']
    if name is not None:
        lines.append(f'name = "{name}"')
    if cpa_id is not None:
        lines.append(f'cpa_id = "{cpa_id}"')
    lines += [f'signing_certificate = "{her_id}-signing.pem"',
              f'encryption_certificate = "{her_id}-encryption.pem"']
    return write_file(folder / f"{her_id}.toml", ("\n".join(lines) + "\n").encode())
