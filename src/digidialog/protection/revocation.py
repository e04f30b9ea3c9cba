"""Revocation against configured CRL files, re-read when an operator replaces them.

CRLs are published by each CA daily or so; an operator (or a cron job)
drops the new file in place. :class:`CrlStore` looks at the files' change
times at most every ``recheck_seconds`` and re-reads those that changed; a
file that cannot be read just then (half written) keeps its previous CRLs
and is logged. A CRL is only believed when its signature verifies with the
key of the CA that issued the certificate in question.

A certificate's status is ``good`` (a current CRL of its issuer does not list
it), ``revoked`` (a CRL of its issuer lists it), ``unknown`` (its issuer's
CRLs are all past their next update, or CRLs are required and its issuer has
none), or ``unchecked`` (no CRL of its issuer is configured, and none is
required).
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509

from digidialog.log import get_logger
from digidialog.protection.certificates import describe, fingerprint, load_crls
from digidialog.protection.errors import CertificateInvalid

log = get_logger("protection.revocation")


class Status(enum.Enum):
    """What the CRLs say about a certificate."""

    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"
    UNCHECKED = "unchecked"


@dataclass(frozen=True)
class Revocation:
    """A certificate's revocation status and why."""

    status: Status
    detail: str


class CrlStore:
    """The configured CRL files, kept current."""

    def __init__(self, paths: Sequence[Path] = (), *, require: bool = False,
                 recheck_seconds: float = 60.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        """Read every file now; one that cannot be read is refused (a configuration error)."""
        self.paths = tuple(paths)
        self.require = require
        self._recheck = recheck_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._files: dict[Path, tuple[int, list[x509.CertificateRevocationList]]] = {}
        self._verified: dict[tuple[int, str], bool] = {}
        for path in self.paths:
            self._files[path] = (_mtime(path), load_crls(path))
        self._checked_at = monotonic()

    def crls(self) -> list[x509.CertificateRevocationList]:
        """Every CRL held now, after re-reading files that changed."""
        self._refresh()
        with self._lock:
            return [crl for _, crls in self._files.values() for crl in crls]

    def status(self, certificate: x509.Certificate, issuer: x509.Certificate,
               now: datetime) -> Revocation:
        """What the CRLs of ``issuer`` say about ``certificate`` at ``now``."""
        crls = [crl for crl in self.crls()
                if crl.issuer == issuer.subject and self._signed_by(crl, issuer)]
        name = describe(certificate)
        if not crls:
            if self.require:
                return Revocation(Status.UNKNOWN, f"{name}: no CRL of its issuer is configured, "
                                  "and CRLs are required")
            return Revocation(Status.UNCHECKED, "no CRL of its issuer is configured")
        for crl in crls:
            entry = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
            if entry is not None:
                return Revocation(Status.REVOKED, f"{name}: revoked on "
                                  f"{entry.revocation_date_utc:%Y-%m-%d %H:%M} UTC")
        current = [crl for crl in crls if crl.next_update_utc is None
                   or crl.next_update_utc >= now]
        if not current:
            latest = max(crl.next_update_utc for crl in crls if crl.next_update_utc)
            return Revocation(Status.UNKNOWN, f"{name}: its issuer's CRL is out of date since "
                              f"{latest:%Y-%m-%d %H:%M} UTC")
        return Revocation(Status.GOOD, "not on its issuer's current CRL")

    def _signed_by(self, crl: x509.CertificateRevocationList,
                   issuer: x509.Certificate) -> bool:
        key = (id(crl), fingerprint(issuer))
        with self._lock:
            known = self._verified.get(key)
        if known is None:
            try:
                known = crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
            except (TypeError, ValueError):
                known = False
            if not known:
                log.warning("crl signature does not verify: ignored",
                            crl_issuer=crl.issuer.rfc4514_string())
            with self._lock:
                self._verified[key] = known
        return known

    def _refresh(self) -> None:
        now = self._monotonic()
        with self._lock:
            if now - self._checked_at < self._recheck:
                return
            self._checked_at = now
            changed = [(path, mtime) for path, (seen, _) in self._files.items()
                       if (mtime := _mtime(path)) != seen]
        for path, mtime in changed:
            try:
                crls = load_crls(path)
            except CertificateInvalid as error:
                log.warning("crl file unreadable: previous CRLs kept", file=str(path),
                            error=str(error))
                continue
            with self._lock:
                self._files[path] = (mtime, crls)
                self._verified.clear()
            log.info("crl file re-read", file=str(path), crls=len(crls))


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1
