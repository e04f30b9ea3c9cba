"""Which certificates message protection holds, what is wrong with each, and what expires soon.

:func:`inventory` lists our own certificates (per set of keys) and every
party's (per party file), each with the findings of every check; it is what
``digidialog certs check`` prints and what the daemon's metrics show.
:class:`ExpiryWatch` logs a warning for each certificate that expires within
the warning period (30 days by default), and an error for one that has
expired: once a day per certificate, however often it is asked.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cryptography import x509

from digidialog.log import get_logger
from digidialog.protection.certificates import KeyUse, describe
from digidialog.protection.protector import CmsProtection
from digidialog.protection.validation import Findings, utc_now

log = get_logger("protection.expiry")

DEFAULT_WARNING = timedelta(days=30)


@dataclass(frozen=True)
class HeldCertificate:
    """One certificate in use: whose (``own`` keys or a ``party``), which, and its findings."""

    owner: str
    """``own`` (our keys) or ``party`` (a communication party's file)."""
    holder: str
    """The party's HER-id, or the name of our set of keys (``default``, a municipality)."""
    use: str
    """``signing``, ``encryption`` or ``previous encryption``."""
    certificate: x509.Certificate
    findings: Findings

    @property
    def expires(self) -> datetime:
        """When it stops being valid, UTC."""
        return self.certificate.not_valid_after_utc

    def days_left(self, now: datetime) -> int:
        """Whole days until it expires (negative once it has)."""
        return (self.expires - now).days

    @property
    def key(self) -> tuple[str, str, str]:
        """``(owner, holder, use)``: what names it in metrics."""
        return self.owner, self.holder, self.use


@dataclass(frozen=True)
class Inventory:
    """Every certificate held, and every party file that could not be read."""

    certificates: list[HeldCertificate]
    unreadable: list[str]


def inventory(protection: CmsProtection) -> Inventory:
    """Our certificates and every party's, each with every check's finding."""
    checker = protection.checker
    held = [
        HeldCertificate("own", identity.name, label, certificate,
                        checker.findings(certificate, use))
        for identity in protection.identities
        for label, certificate, use in identity.certificates()
    ]
    parties, unreadable = protection.parties.all()
    for party in parties:
        held.append(HeldCertificate("party", party.her_id, "signing", party.signing,
                                    checker.findings(party.signing, KeyUse.SIGNING)))
        held.append(HeldCertificate("party", party.her_id, "encryption", party.encryption,
                                    checker.findings(party.encryption, KeyUse.ENCRYPTION)))
    return Inventory(held, unreadable)


class ExpiryWatch:
    """Logs certificates that expire within ``warning`` (once a day each)."""

    def __init__(self, protection: CmsProtection, *, warning: timedelta = DEFAULT_WARNING,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.protection = protection
        self.warning = warning
        self.clock = clock
        self._lock = threading.Lock()
        self._told: dict[tuple[str, str, str, int], date] = {}

    def expiring(self, held: HeldCertificate, now: datetime) -> bool:
        """Whether ``held`` expires within the warning period (or already has)."""
        return held.expires - now <= self.warning

    def check(self) -> list[HeldCertificate]:
        """The certificates expiring within the warning period; each logged once a day."""
        now = self.clock()
        expiring = [h for h in inventory(self.protection).certificates
                    if self.expiring(h, now)]
        for held in expiring:
            told = (*held.key, held.certificate.serial_number)
            with self._lock:
                if self._told.get(told) == now.date():
                    continue
                self._told[told] = now.date()
            fields = {"owner": held.owner, "holder": held.holder, "use": held.use,
                      "certificate": describe(held.certificate),
                      "expires": held.expires.isoformat(), "days_left": held.days_left(now)}
            if held.expires < now:
                log.error("certificate has expired", **fields)
            else:
                log.warning("certificate expires soon", **fields)
        return expiring
