"""Certificate checks: validity dates, key usage, a chain to the trust store, revocation.

Done for the sender's signing certificate on every received message and for
the receiver's encryption certificate on every sent one (and, by
``digidialog certs check``, for our own). The first failure is raised as the
:mod:`~digidialog.protection.errors` class whose ``errorCondition`` reports
it, in the order Helsenorge.Messaging checks: dates, key usage, chain,
revocation.

The trust store is the set of CA certificates the operator trusts (roots, or
issuing CAs); every certificate in it is a trust anchor, and a chain ends at
the first anchor it reaches. Each link is verified with
``Certificate.verify_directly_issued_by`` (issuer name and signature), and
each CA on the way must be a CA (basic constraints, path length, key usage
keyCertSign) and valid at the time.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import rsa

from digidialog.protection.certificates import KeyUse, describe, fingerprint
from digidialog.protection.errors import (
    CertificateExpired,
    CertificateInvalid,
    CertificateRevoked,
    CertificateUnverified,
    ProtectionError,
)
from digidialog.protection.revocation import CrlStore, Revocation, Status

MAX_CHAIN = 8
"""Longest chain followed, leaf included: a loop of cross-signed CAs must end somewhere."""
REMEMBER_SECONDS = 60.0
"""How long a certificate that passed every check is taken as good without checking again
(as long as the CRL files are re-read: a revocation is seen within about twice this)."""
MAX_REMEMBERED = 10_000


def utc_now() -> datetime:
    """The current instant, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Findings:
    """Every check of one certificate, each ``None`` when it passed, else the problem."""

    validity: ProtectionError | None
    usage: ProtectionError | None
    chain: ProtectionError | None
    revocation: Revocation | None
    """``None`` when the chain could not be built (nothing to check against)."""

    @property
    def problems(self) -> list[ProtectionError]:
        """The failed checks, in the order they are checked."""
        found = [p for p in (self.validity, self.usage, self.chain) if p is not None]
        if self.revocation is not None and self.revocation.status in (Status.REVOKED,
                                                                      Status.UNKNOWN):
            found.append(CertificateRevoked(self.revocation.detail))
        return found


class CertificateChecker:
    """Checks certificates against the trust store and the CRLs, at the clock's time."""

    def __init__(self, trust_store: Iterable[x509.Certificate], crls: CrlStore | None = None,
                 *, clock: Callable[[], datetime] = utc_now,
                 remember_seconds: float = REMEMBER_SECONDS) -> None:
        self.anchors = {fingerprint(c): c for c in trust_store}
        self.crls = crls or CrlStore()
        self.clock = clock
        self.remember = timedelta(seconds=remember_seconds)
        self._lock = threading.Lock()
        self._passed: dict[tuple[str, KeyUse, tuple[str, ...]],
                          tuple[datetime, list[x509.Certificate]]] = {}

    def check(self, certificate: x509.Certificate, use: KeyUse, *,
              intermediates: Sequence[x509.Certificate] = ()) -> list[x509.Certificate]:
        """Raise the first problem of ``certificate`` for ``use``; the chain (leaf first).

        A certificate that passed is not checked again for :data:`REMEMBER_SECONDS`
        (nor past the end of its chain's validity): every message of a party
        brings the same certificate.
        """
        now = self.clock()
        key = (fingerprint(certificate), use, tuple(fingerprint(i) for i in intermediates))
        with self._lock:
            remembered = self._passed.get(key)
        if remembered is not None and remembered[0] - self.remember <= now < remembered[0]:
            return remembered[1]
        check_validity(certificate, now)
        check_usage(certificate, use)
        chain = self.chain(certificate, now, intermediates)
        revocation = self.revocation(chain, now)
        if revocation.status in (Status.REVOKED, Status.UNKNOWN):
            raise CertificateRevoked(revocation.detail)
        if self.remember:
            until = min(now + self.remember, *(c.not_valid_after_utc for c in chain))
            with self._lock:
                if len(self._passed) > MAX_REMEMBERED:
                    self._passed.clear()
                self._passed[key] = (until, chain)
        return chain

    def findings(self, certificate: x509.Certificate, use: KeyUse, *,
                 intermediates: Sequence[x509.Certificate] = ()) -> Findings:
        """Every check of ``certificate`` for ``use``, not stopping at the first problem."""
        now = self.clock()
        validity = _caught(lambda: check_validity(certificate, now))
        usage = _caught(lambda: check_usage(certificate, use))
        try:
            chain = self.chain(certificate, now, intermediates)
        except ProtectionError as error:
            return Findings(validity, usage, error, None)
        return Findings(validity, usage, None, self.revocation(chain, now))

    def chain(self, leaf: x509.Certificate, now: datetime,
              intermediates: Sequence[x509.Certificate] = ()) -> list[x509.Certificate]:
        """``leaf`` and its issuers up to a trust anchor; raises when there is no such path."""
        pool = [*self.anchors.values(), *intermediates]
        chain = [leaf]
        current = leaf
        while fingerprint(current) not in self.anchors:
            if len(chain) >= MAX_CHAIN:
                raise CertificateUnverified(f"{describe(leaf)}: no trust anchor within "
                                            f"{MAX_CHAIN} certificates")
            issuer = _issuer(current, pool)
            _may_issue(issuer, cas_below=len(chain) - 1)
            check_validity(issuer, now, what="its issuing CA ")
            chain.append(issuer)
            current = issuer
        return chain

    def revocation(self, chain: Sequence[x509.Certificate], now: datetime) -> Revocation:
        """The worst status of the chain's certificates below the anchor (leaf's when all good)."""
        worst: Revocation | None = None
        for certificate, issuer in itertools.pairwise(chain):
            found = self.crls.status(certificate, issuer, now)
            if found.status in (Status.REVOKED, Status.UNKNOWN):
                return found
            worst = worst or found
        return worst or Revocation(Status.UNCHECKED, "a trust anchor itself")


def check_validity(certificate: x509.Certificate, now: datetime, *, what: str = "") -> None:
    """Raise :class:`CertificateExpired` when ``now`` is outside the validity period."""
    if now < certificate.not_valid_before_utc:
        raise CertificateExpired(f"{what}{describe(certificate)}: not valid before "
                                 f"{certificate.not_valid_before_utc:%Y-%m-%d %H:%M} UTC")
    if now > certificate.not_valid_after_utc:
        raise CertificateExpired(f"{what}{describe(certificate)}: expired on "
                                 f"{certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")


def check_usage(certificate: x509.Certificate, use: KeyUse) -> None:
    """Raise :class:`CertificateInvalid` unless the key usage allows ``use``."""
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise CertificateInvalid(f"{describe(certificate)}: has no key usage; "
                                 f"{use.key_usage} is needed for {use.value}") from None
    if not use.allowed_by(usage):
        raise CertificateInvalid(f"{describe(certificate)}: key usage does not allow "
                                 f"{use.value} ({use.key_usage} is needed)")
    if use is KeyUse.ENCRYPTION and not isinstance(certificate.public_key(), rsa.RSAPublicKey):
        raise CertificateInvalid(f"{describe(certificate)}: an encryption certificate "
                                 "must hold an RSA key (CMS key transport)")


def _issuer(certificate: x509.Certificate, pool: Sequence[x509.Certificate]) -> x509.Certificate:
    candidates = [c for c in pool if c.subject == certificate.issuer]
    for candidate in candidates:
        try:
            certificate.verify_directly_issued_by(candidate)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return candidate
    issuer = certificate.issuer.rfc4514_string()
    if candidates:
        raise CertificateUnverified(f"{describe(certificate)}: the signature of its issuer "
                                    f"{issuer} does not verify")
    raise CertificateUnverified(f"{describe(certificate)}: its issuer {issuer} is not in the "
                                "trust store")


def _may_issue(issuer: x509.Certificate, *, cas_below: int) -> None:
    try:
        constraints = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        raise CertificateUnverified(f"{describe(issuer)}: is not a CA, yet issued a "
                                    "certificate in the chain")
    if constraints.path_length is not None and cas_below > constraints.path_length:
        raise CertificateUnverified(f"{describe(issuer)}: its path length "
                                    f"{constraints.path_length} allows fewer CAs below it")
    try:
        usage = issuer.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not usage.key_cert_sign:
        raise CertificateUnverified(f"{describe(issuer)}: its key usage does not allow "
                                    "signing certificates")


def _caught(check: Callable[[], None]) -> ProtectionError | None:
    try:
        check()
    except ProtectionError as error:
        return error
    return None
