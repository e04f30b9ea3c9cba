"""One throwaway PKI for the protection tests, and protections built on it.

A root CA and an issuing CA under it (the trust store holds both), a stranger
CA nobody trusts, the portal's and the municipality's keys, and one bad
certificate of each kind the issue names. Made once per session (RSA keys take
a moment each); a test that revokes or expires something makes its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from digidialog.protection.enveloping import DecryptionKey
from digidialog.protection.parties import PartyDirectory
from digidialog.protection.protector import CmsProtection, Identity
from digidialog.protection.revocation import CrlStore
from digidialog.protection.validation import CertificateChecker, utc_now
from digidialog.testing.certificates import (
    CertificateAuthority,
    Issued,
    PartyKeys,
    write_crl,
    write_party,
)

PORTAL = "100000"
MUNICIPALITY = "1000001"
SERVICE = "1000002"


@dataclass
class Pki:
    """The session's certificates (see the module's docstring)."""

    root: CertificateAuthority
    issuing: CertificateAuthority
    stranger: CertificateAuthority
    portal: PartyKeys
    municipality: PartyKeys
    other: PartyKeys
    """A good third party's keys (signs as someone else)."""
    expired: Issued
    not_yet_valid: Issued
    authentication: Issued
    """Key usage digitalSignature only: wrong for signing and for encryption."""
    unknown_issuer: Issued
    revoked: Issued
    previous_encryption: Issued
    """The municipality's encryption certificate before its rollover."""
    crl: Path

    @property
    def trust_store(self) -> list[x509.Certificate]:
        """The CAs the parties trust: the root and the issuing CA."""
        return self.issuing.chain()


def make_pki(folder: Path) -> Pki:
    """Every certificate above; the issuing CA's CRL (listing ``revoked``) in ``folder``."""
    root = CertificateAuthority.root()
    issuing = root.intermediate()
    now = utc_now()
    revoked = issuing.issue("revoked signing", usage="signing")
    issuing.revoke(revoked)
    return Pki(
        root=root, issuing=issuing, stranger=CertificateAuthority.root("stranger CA"),
        portal=PartyKeys.issued_by(issuing, "Helsenorge"),
        municipality=PartyKeys.issued_by(issuing, "Eksempel kommune"),
        other=PartyKeys.issued_by(issuing, "Annen part"),
        expired=issuing.issue("expired signing", not_before=now - dt.timedelta(days=400),
                              not_after=now - dt.timedelta(days=2)),
        not_yet_valid=issuing.issue("future signing", not_before=now + dt.timedelta(days=2)),
        authentication=issuing.issue("authentication", usage="authentication"),
        unknown_issuer=CertificateAuthority.root("unknown CA").issue("unknown signing"),
        revoked=revoked,
        previous_encryption=issuing.issue("Eksempel kommune old encryption", usage="encryption"),
        crl=write_crl(folder / "issuing.crl", issuing.crl()),
    )


def protection(pki: Pki, signing: Issued, encryption: Issued, parties: Path, *,
               previous: Issued | None = None, crls: Sequence[Path] | None = None,
               require_crls: bool = False, refuse_legacy: bool = True,
               trust: Sequence[x509.Certificate] | None = None,
               clock: Callable[[], dt.datetime] = utc_now,
               identities: Sequence[Identity] = ()) -> CmsProtection:
    """A protection with these keys, reading party files from ``parties`` (re-read at once)."""
    own = Identity(signing.certificate, signing.key,
                   DecryptionKey(encryption.certificate, encryption.key, "current"),
                   None if previous is None else DecryptionKey(
                       previous.certificate, previous.key, "previous"))
    checker = CertificateChecker(pki.trust_store if trust is None else trust,
                                 CrlStore([pki.crl] if crls is None else crls,
                                          require=require_crls, recheck_seconds=0),
                                 clock=clock, remember_seconds=0)
    return CmsProtection([*identities, own], PartyDirectory(parties, recheck_seconds=0),
                         checker, refuse_legacy_ciphers=refuse_legacy)


@dataclass
class TwoSides:
    """The portal's and the municipality's protection, each with its own party folder."""

    portal: CmsProtection
    municipality: CmsProtection
    portal_parties: Path
    """The portal's folder: the municipality's (and its service's) certificates."""
    municipality_parties: Path
    """The municipality's folder: the portal's certificates."""


def two_sides(pki: Pki, folder: Path, *, previous: Issued | None = None) -> TwoSides:
    """Both sides set up as in production, each knowing the other from its party files."""
    portal_parties, municipality_parties = folder / "portal-parties", folder / "parties"
    for her_id in (MUNICIPALITY, SERVICE):
        write_party(portal_parties, her_id, pki.municipality)
    write_party(municipality_parties, PORTAL, pki.portal, name="Helsenorge")
    return TwoSides(
        portal=protection(pki, pki.portal.signing, pki.portal.encryption, portal_parties),
        municipality=protection(pki, pki.municipality.signing, pki.municipality.encryption,
                                municipality_parties, previous=previous),
        portal_parties=portal_parties, municipality_parties=municipality_parties,
    )
