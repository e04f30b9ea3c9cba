"""The daemon's message protection, built from ``[portal.cms]`` and ``[municipality.cms]``.

Everything is read and checked here, before anything starts: each
certificate and key (a key that does not fit its certificate, a wrong or
missing password, an encryption key that is not RSA), the trust store, the
CRLs, and the portal's party file. Every problem is named by its key in one
:class:`~digidialog.daemon.config.ConfigError`, as a bad configuration file is.
Problems of our certificates themselves (expired, wrong key usage, no chain)
do not stop the daemon; they are logged and shown by ``digidialog certs check``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from digidialog.daemon.config import ConfigError
from digidialog.daemon.config_cms import CmsConfig, CmsKeysConfig
from digidialog.daemon.config_models import DaemonConfig
from digidialog.protection.certificates import (
    PrivateKey,
    key_matches,
    load_certificate,
    load_certificates,
    load_private_key,
)
from digidialog.protection.enveloping import DecryptionKey
from digidialog.protection.errors import ProtectionError
from digidialog.protection.parties import PartyDirectory, read_party
from digidialog.protection.protector import CmsProtection, Identity
from digidialog.protection.revocation import CrlStore
from digidialog.protection.validation import CertificateChecker, utc_now

SOURCE = "message protection"
CERTIFICATE_SUFFIXES = frozenset({".pem", ".crt", ".cer", ".der"})
"""Files read from a trust store folder."""


def build_protection(config: DaemonConfig, *,
                     clock: Callable[[], datetime] = utc_now) -> CmsProtection | None:
    """The configured protection, or ``None`` with ``protection = "none"``."""
    portal = config.portal
    if portal.protection != "cms" or portal.cms is None:
        return None
    cms = portal.cms
    problems: list[str] = []
    identities = [_identity(cms, "portal.cms", problems, name="default")]
    for index, municipality in enumerate(config.municipalities):
        if municipality.cms is not None:
            her_ids = frozenset({municipality.her_id, *(s.her_id for s in municipality.services)})
            identities.append(_identity(municipality.cms, f"municipality[{index + 1}].cms",
                                        problems, name=municipality.her_id, her_ids=her_ids))
    trust_store = _trust_store(cms, problems)
    crls: CrlStore | None = None
    try:
        crls = CrlStore(cms.crls, require=cms.require_crls)
    except ProtectionError as error:
        problems.append(f"portal.cms.crls: {error}")
    parties = PartyDirectory(cms.parties)
    portal_file = parties.path_of(portal.her_id)
    if not portal_file.is_file():
        problems.append(f"portal.cms.parties: no certificate file for the portal "
                        f"{portal.her_id} ({portal_file})")
    else:
        try:
            read_party(portal_file)
        except ProtectionError as error:
            problems.append(f"portal.cms.parties: {error}")
    if problems or crls is None:
        raise ConfigError(SOURCE, problems)
    checker = CertificateChecker(trust_store, crls, clock=clock)
    return CmsProtection([i for i in identities if i is not None], parties, checker,
                         refuse_legacy_ciphers=cms.refuse_legacy_ciphers)


def _identity(keys: CmsKeysConfig, prefix: str, problems: list[str], *, name: str,
              her_ids: frozenset[str] = frozenset()) -> Identity | None:
    before = len(problems)
    signing = _pair(keys.signing_certificate, keys.signing_key, keys.signing_key_password,
                    f"{prefix}.signing", problems)
    encryption = _decryption(_pair(
        keys.encryption_certificate, keys.encryption_key, keys.encryption_key_password,
        f"{prefix}.encryption", problems), "current", f"{prefix}.encryption_key", problems)
    previous = None
    if keys.previous_encryption_certificate and keys.previous_encryption_key:
        previous = _decryption(_pair(
            keys.previous_encryption_certificate, keys.previous_encryption_key,
            keys.previous_encryption_key_password, f"{prefix}.previous_encryption", problems),
            "previous", f"{prefix}.previous_encryption_key", problems)
    if len(problems) > before or signing is None or encryption is None:
        return None
    return Identity(signing_certificate=signing[0], signing_key=signing[1],
                    encryption=encryption, previous_encryption=previous, her_ids=her_ids,
                    name=name)


def _decryption(pair: tuple[x509.Certificate, PrivateKey] | None, label: str, key: str,
                problems: list[str]) -> DecryptionKey | None:
    if pair is None:
        return None
    certificate, private = pair
    if not isinstance(private, rsa.RSAPrivateKey):
        problems.append(f"{key}: an RSA key is needed (CMS key transport)")
        return None
    return DecryptionKey(certificate, private, label)


def _pair(certificate_path: Path, key_path: Path, password: SecretStr | None, prefix: str,
          problems: list[str]) -> tuple[x509.Certificate, PrivateKey] | None:
    certificate = key = None
    try:
        certificate = load_certificate(certificate_path)
    except ProtectionError as error:
        problems.append(f"{prefix}_certificate: {error}")
    try:
        key = load_private_key(key_path, password.get_secret_value() if password else None)
    except ProtectionError as error:
        problems.append(f"{prefix}_key: {error}")
    if certificate is None or key is None:
        return None
    if not key_matches(certificate, key):
        problems.append(f"{prefix}_key: does not fit {prefix.rpartition('.')[2]}_certificate "
                        f"({certificate_path.name})")
        return None
    return certificate, key


def _trust_store(cms: CmsConfig, problems: list[str]) -> list[x509.Certificate]:
    found: list[x509.Certificate] = []
    for index, entry in enumerate(cms.trust_store):
        files = sorted(p for p in entry.iterdir()
                       if p.suffix.lower() in CERTIFICATE_SUFFIXES) if entry.is_dir() else [entry]
        if not files:
            problems.append(f"portal.cms.trust_store[{index + 1}]: {entry} holds no certificate "
                            f"files ({', '.join(sorted(CERTIFICATE_SUFFIXES))})")
        for path in files:
            try:
                found.extend(load_certificates(path))
            except ProtectionError as error:
                problems.append(f"portal.cms.trust_store[{index + 1}]: {error}")
    return found
