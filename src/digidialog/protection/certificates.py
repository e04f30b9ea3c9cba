"""Reading certificates, private keys and CRLs from files, and naming certificates for people.

Files may be PEM (one certificate, or a bundle) or DER; what cannot be read
is refused with a :class:`CertificateInvalid` naming the file. A certificate
is named in logs and reports by its subject's common name, its serial number
and its SHA-256 fingerprint: enough to find it, nothing about a person.
"""

from __future__ import annotations

import enum
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from digidialog.protection.errors import CertificateInvalid

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
"""The private keys message protection uses: RSA (signing, decryption) or EC (signing)."""

_PEM_CERTIFICATE = b"-----BEGIN CERTIFICATE-----"
_PEM_CRL = b"-----BEGIN X509 CRL-----"


class KeyUse(enum.Enum):
    """What a certificate is used for, and the key usage that allows it."""

    SIGNING = "signing"
    """Signing messages: key usage non-repudiation (contentCommitment)."""
    ENCRYPTION = "encryption"
    """Receiving encrypted messages: key usage key encipherment."""

    @property
    def key_usage(self) -> str:
        """The key usage bit, in the words of RFC 5280."""
        return "nonRepudiation" if self is KeyUse.SIGNING else "keyEncipherment"

    def allowed_by(self, usage: x509.KeyUsage) -> bool:
        """Whether the key usage extension allows this use."""
        return usage.content_commitment if self is KeyUse.SIGNING else usage.key_encipherment


def read_bytes(path: Path) -> bytes:
    """The file's bytes, or :class:`CertificateInvalid` naming why it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise CertificateInvalid(f"{path}: cannot be read ({error.strerror})") from None


def parse_certificates(data: bytes, source: str) -> list[x509.Certificate]:
    """Every certificate in ``data`` (PEM, one or a bundle; or DER); at least one."""
    try:
        if _PEM_CERTIFICATE in data:
            certificates = x509.load_pem_x509_certificates(data)
        else:
            certificates = [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise CertificateInvalid(f"{source}: not a certificate (PEM or DER)") from None
    return certificates


def load_certificates(path: Path) -> list[x509.Certificate]:
    """Every certificate in the file ``path``."""
    return parse_certificates(read_bytes(path), str(path))


def load_certificate(path: Path) -> x509.Certificate:
    """The one certificate in the file ``path`` (a bundle is refused: which would it be?)."""
    certificates = load_certificates(path)
    if len(certificates) != 1:
        raise CertificateInvalid(f"{path}: holds {len(certificates)} certificates; give one")
    return certificates[0]


def load_private_key(path: Path, password: str | None = None) -> PrivateKey:
    """The private key in ``path`` (PEM or DER, PKCS#8 or traditional), RSA or EC."""
    data = read_bytes(path)
    secret = password.encode() if password else None
    try:
        if b"-----BEGIN" in data:
            key = serialization.load_pem_private_key(data, secret)
        else:
            key = serialization.load_der_private_key(data, secret)
    except TypeError:
        # cryptography's way of saying a password is missing, or given for an open key
        state = "is encrypted: give its password" if secret is None else "is not encrypted"
        raise CertificateInvalid(f"{path}: the key {state}") from None
    except ValueError:
        raise CertificateInvalid(f"{path}: not a private key, or the password is wrong") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise CertificateInvalid(f"{path}: an RSA or EC private key is needed")
    return key


def load_crls(path: Path) -> list[x509.CertificateRevocationList]:
    """The CRLs in ``path``: PEM (one or several) or DER."""
    data = read_bytes(path)
    try:
        if _PEM_CRL in data:
            return [x509.load_pem_x509_crl(_PEM_CRL + block)
                    for block in data.split(_PEM_CRL)[1:]]
        return [x509.load_der_x509_crl(data)]
    except ValueError:
        raise CertificateInvalid(f"{path}: not a CRL (PEM or DER)") from None


def key_matches(certificate: x509.Certificate, key: PrivateKey) -> bool:
    """Whether ``key`` is the private half of the certificate's public key."""
    mine = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    theirs = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return mine == theirs


def fingerprint(certificate: x509.Certificate) -> str:
    """The SHA-256 fingerprint, hex, as ``openssl x509 -fingerprint -sha256`` shows it."""
    return certificate.fingerprint(hashes.SHA256()).hex(":").upper()


def common_name(certificate: x509.Certificate) -> str:
    """The subject's common name (or the whole subject when it has none)."""
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = names[0].value if names else certificate.subject.rfc4514_string()
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def describe(certificate: x509.Certificate) -> str:
    """``CN=..., serial 0x..., SHA-256 AB:CD:..``: a certificate named for logs and reports."""
    return (f"CN={common_name(certificate)}, serial {certificate.serial_number:#x}, "
            f"SHA-256 {fingerprint(certificate)[:23]}..")


def not_after(certificate: x509.Certificate) -> datetime:
    """When the certificate stops being valid, aware UTC."""
    return certificate.not_valid_after_utc


def self_issued(certificate: x509.Certificate) -> bool:
    """Whether the certificate names itself as its issuer (a root, when it verifies)."""
    return certificate.issuer == certificate.subject
