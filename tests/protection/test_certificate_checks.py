"""Certificate checks: dates, key usage, a chain to the trust store, revocation by CRL.

Each failure is raised as the class whose ``errorCondition`` reports it:
expired or not yet valid ``transport:expired-certificate``; wrong key usage
``transport:invalid-certificate``; no chain to the trust store
``transport:unverified-certificate``; revoked, or revocation unknown,
``transport:revoked-certificate``.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from cryptography import x509

from digidialog.protection import errors
from digidialog.protection.certificates import KeyUse
from digidialog.protection.errors import (
    CertificateExpired,
    CertificateInvalid,
    CertificateRevoked,
    CertificateUnverified,
)
from digidialog.protection.revocation import CrlStore, Status
from digidialog.protection.validation import CertificateChecker, utc_now
from digidialog.testing.certificates import CertificateAuthority, Issued, write_crl
from tests.protection.pki import Pki


def checker(pki: Pki, crls: list[Path] | None = None, *, require: bool = False,
            trust: list[x509.Certificate] | None = None) -> CertificateChecker:
    """A checker trusting the session's root and issuing CA, with its CRL."""
    return CertificateChecker(pki.trust_store if trust is None else trust,
                              CrlStore([pki.crl] if crls is None else crls, require=require,
                                       recheck_seconds=0), remember_seconds=0)


def test_a_good_certificate_chains_through_the_issuing_ca_to_the_root(pki: Pki) -> None:
    """Leaf, issuing CA, root: all checked, revocation good on the issuing CA's current CRL."""
    check = checker(pki)
    chain = check.check(pki.portal.signing.certificate, KeyUse.SIGNING)
    assert chain == [pki.portal.signing.certificate, pki.issuing.certificate]
    findings = check.findings(pki.portal.encryption.certificate, KeyUse.ENCRYPTION)
    assert findings.problems == []
    assert findings.revocation is not None and findings.revocation.status is Status.GOOD


def test_trusting_the_root_alone_reaches_it_through_the_issuing_ca(pki: Pki) -> None:
    """With only the root trusted, the issuing CA comes from the intermediates given."""
    check = checker(pki, trust=[pki.root.certificate])
    with pytest.raises(CertificateUnverified, match="not in the trust store"):
        check.check(pki.portal.signing.certificate, KeyUse.SIGNING)
    chain = check.check(pki.portal.signing.certificate, KeyUse.SIGNING,
                        intermediates=[pki.issuing.certificate])
    assert chain[-1] == pki.root.certificate and len(chain) == 3


@pytest.mark.parametrize(("bad", "error", "said"), [
    ("expired", CertificateExpired, "expired on"),
    ("not_yet_valid", CertificateExpired, "not valid before"),
    ("authentication", CertificateInvalid, "nonRepudiation"),
    ("unknown_issuer", CertificateUnverified, "not in the trust store"),
    ("revoked", CertificateRevoked, "revoked on"),
])
def test_each_bad_signing_certificate_is_refused_with_its_condition(
        pki: Pki, bad: str, error: type[errors.ProtectionError], said: str) -> None:
    """The issue's bad certificates, one by one."""
    certificate: Issued = getattr(pki, bad)
    with pytest.raises(error, match=said) as refused:
        checker(pki).check(certificate.certificate, KeyUse.SIGNING)
    assert refused.value.condition == error.condition


def test_the_conditions_are_the_protocols(pki: Pki) -> None:
    """The classes carry the errorCondition values of the AMQP profile."""
    assert CertificateExpired.condition == "transport:expired-certificate"
    assert CertificateRevoked.condition == "transport:revoked-certificate"
    assert CertificateUnverified.condition == "transport:unverified-certificate"
    assert CertificateInvalid.condition == "transport:invalid-certificate"


def test_key_usage_is_checked_for_what_the_certificate_is_used_for(pki: Pki) -> None:
    """A signing certificate cannot encrypt, an encryption certificate cannot sign, and an
    encryption certificate must hold an RSA key."""
    check = checker(pki)
    with pytest.raises(CertificateInvalid, match="keyEncipherment"):
        check.check(pki.portal.signing.certificate, KeyUse.ENCRYPTION)
    with pytest.raises(CertificateInvalid, match="nonRepudiation"):
        check.check(pki.portal.encryption.certificate, KeyUse.SIGNING)
    ec_encryption = pki.issuing.issue("EC encryption", usage="encryption", key_type="ec")
    with pytest.raises(CertificateInvalid, match="RSA"):
        check.check(ec_encryption.certificate, KeyUse.ENCRYPTION)


def test_a_forged_issuer_name_does_not_chain(pki: Pki) -> None:
    """A certificate naming the trusted issuing CA as issuer, signed by another key."""
    impostor = CertificateAuthority(Issued(pki.issuing.certificate, pki.stranger.issued.key))
    forged = impostor.issue("forged signing")
    with pytest.raises(CertificateUnverified, match="does not verify"):
        checker(pki).check(forged.certificate, KeyUse.SIGNING)


def test_a_certificate_issued_by_an_end_entity_does_not_chain(pki: Pki) -> None:
    """The issuer is trusted-chained but is no CA (basic constraints ca=False)."""
    leaf_as_ca = CertificateAuthority(pki.other.signing, parent=pki.issuing)
    child = leaf_as_ca.issue("child of a leaf")
    with pytest.raises(CertificateUnverified, match="is not a CA"):
        checker(pki).check(child.certificate, KeyUse.SIGNING, intermediates=[
            pki.other.signing.certificate])


def test_an_expired_issuing_ca_expires_the_chain(pki: Pki) -> None:
    """A leaf still valid, under a CA that is not: expired-certificate, naming the CA."""
    now = utc_now()
    old = pki.root.intermediate("expired issuing CA", not_before=now - dt.timedelta(days=90),
                                not_after=now - dt.timedelta(days=1))
    leaf = old.issue("leaf of an expired CA", not_before=now - dt.timedelta(days=30),
                     not_after=now + dt.timedelta(days=30))
    with pytest.raises(CertificateExpired, match="its issuing CA"):
        checker(pki, crls=[]).check(leaf.certificate, KeyUse.SIGNING,
                                    intermediates=[old.certificate])


def test_a_revoked_issuing_ca_revokes_the_chain(pki: Pki, tmp_path: Path) -> None:
    """The root's CRL lists the issuing CA: every certificate under it is refused."""
    root = CertificateAuthority.root("another root")
    issuing = root.intermediate("soon revoked CA")
    leaf = issuing.issue("leaf")
    root.revoke(issuing.issued)
    crls = [write_crl(tmp_path / "root.crl", root.crl()),
            write_crl(tmp_path / "issuing.crl", issuing.crl(), der=True)]
    with pytest.raises(CertificateRevoked, match="soon revoked CA"):
        checker(pki, crls, trust=[root.certificate]).check(
            leaf.certificate, KeyUse.SIGNING, intermediates=[issuing.certificate])


def test_an_out_of_date_crl_makes_the_status_unknown(pki: Pki, tmp_path: Path) -> None:
    """Past its next update, a CRL tells nothing: revocation unknown, refused as revoked."""
    now = utc_now()
    stale = write_crl(tmp_path / "stale.crl", pki.issuing.crl(
        last_update=now - dt.timedelta(days=9), next_update=now - dt.timedelta(days=2)))
    with pytest.raises(CertificateRevoked, match="out of date") as refused:
        checker(pki, [stale]).check(pki.portal.signing.certificate, KeyUse.SIGNING)
    assert refused.value.condition == errors.REVOKED_CERTIFICATE


def test_a_forged_crl_is_not_believed(pki: Pki, tmp_path: Path) -> None:
    """A CRL naming the issuing CA but signed by another key is ignored: not checked, or, with
    CRLs required, revocation unknown."""
    forged = write_crl(tmp_path / "forged.crl",
                       pki.issuing.crl(signed_by=pki.stranger.issued.key))
    findings = checker(pki, [forged]).findings(pki.revoked.certificate, KeyUse.SIGNING)
    assert findings.revocation is not None
    assert findings.revocation.status is Status.UNCHECKED
    with pytest.raises(CertificateRevoked, match="no CRL of its issuer"):
        checker(pki, [forged], require=True).check(pki.portal.signing.certificate,
                                                   KeyUse.SIGNING)


def test_crls_can_be_required(pki: Pki) -> None:
    """With CRLs required, an issuer without one is revocation unknown."""
    with pytest.raises(CertificateRevoked, match="CRLs are required"):
        checker(pki, [], require=True).check(pki.portal.signing.certificate, KeyUse.SIGNING)
    checker(pki, require=True).check(pki.portal.signing.certificate, KeyUse.SIGNING)


def test_a_replaced_crl_file_is_read_again(pki: Pki, tmp_path: Path) -> None:
    """An operator drops in the CA's new CRL: a certificate revoked since is refused."""
    issuing = pki.root.intermediate("CA with a fresh CRL")
    leaf = issuing.issue("soon revoked leaf")
    path = write_crl(tmp_path / "fresh.crl", issuing.crl())
    check = checker(pki, [path], trust=[*pki.trust_store, issuing.certificate])
    check.check(leaf.certificate, KeyUse.SIGNING)
    issuing.revoke(leaf)
    write_crl(path, issuing.crl())
    later = path.stat().st_mtime_ns + 2_000_000_000
    os.utime(path, ns=(later, later))
    with pytest.raises(CertificateRevoked):
        check.check(leaf.certificate, KeyUse.SIGNING)


def test_findings_list_every_problem_at_once(pki: Pki) -> None:
    """For `certs check`: an expired certificate with the wrong usage shows both."""
    now = utc_now()
    both = pki.issuing.issue("expired authentication", usage="authentication",
                             not_before=now - dt.timedelta(days=90),
                             not_after=now - dt.timedelta(days=1))
    findings = checker(pki).findings(both.certificate, KeyUse.SIGNING)
    assert [type(p) for p in findings.problems] == [CertificateExpired, CertificateInvalid]
    stranger = checker(pki).findings(pki.unknown_issuer.certificate, KeyUse.SIGNING)
    assert stranger.revocation is None
    assert [type(p) for p in stranger.problems] == [CertificateUnverified]
