"""Which certificates belong to which communication party: one file per HER-id.

In production the communication agreement (CPA) names each party's signing
and encryption certificates. Here they come from a folder with one TOML file
per party, named by its HER-id and shaped like the CPA's party information::

    # parties/100000.toml
    her_id = "100000"                              # the file's name, repeated on purpose
    name = "Helsenorge"                            # optional, for reports
    cpa_id = "0f7c...-..."                         # optional, the agreement's id
    signing_certificate = "100000-signing.pem"     # path from this file, or the PEM itself
    encryption_certificate = "100000-encryption.pem"

A party whose file is missing or unreadable is refused with
:class:`UnknownParty`; the log names the file (the error does not: its text
goes back to the sender). Files are read when first needed and re-read when they
change (checked at most every ``recheck_seconds``), so a party's new
certificates are taken without a restart.
"""

from __future__ import annotations

import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from digidialog.log import get_logger
from digidialog.protection.certificates import load_certificate, parse_certificates
from digidialog.protection.errors import CertificateInvalid, ProtectionError, UnknownParty

log = get_logger("protection.parties")

KEYS = frozenset({"her_id", "name", "cpa_id", "signing_certificate", "encryption_certificate"})
_PEM = "-----BEGIN CERTIFICATE-----"


@dataclass(frozen=True)
class Party:
    """A communication party's certificates, from its file."""

    her_id: str
    signing: x509.Certificate
    encryption: x509.Certificate
    source: Path
    name: str | None = None
    cpa_id: str | None = None


def read_party(path: Path) -> Party:
    """The party file ``path``; :class:`CertificateInvalid` names the key that is wrong."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CertificateInvalid(f"{path}: cannot be read ({error.strerror})") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise CertificateInvalid(f"{path}: not valid TOML ({error})") from None
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise CertificateInvalid(f"{path}: {unknown[0]}: unknown key")
    her_id = _text(data, "her_id", path)
    if her_id != path.stem:
        raise CertificateInvalid(f"{path}: her_id: {her_id!r} is not the file's name "
                                 f"({path.stem}.toml)")
    return Party(
        her_id=her_id,
        signing=_certificate(data, "signing_certificate", path),
        encryption=_certificate(data, "encryption_certificate", path),
        source=path, name=_optional(data, "name", path), cpa_id=_optional(data, "cpa_id", path),
    )


def _text(data: dict[str, Any], key: str, path: Path) -> str:
    value = data.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise CertificateInvalid(f"{path}: {key}: required (text)")
    return value.strip()


def _optional(data: dict[str, Any], key: str, path: Path) -> str | None:
    return _text(data, key, path) if key in data else None


def _certificate(data: dict[str, Any], key: str, path: Path) -> x509.Certificate:
    value = _text(data, key, path)
    try:
        if value.startswith(_PEM):
            found = parse_certificates(value.encode(), f"{path}: {key}")
            if len(found) != 1:
                raise CertificateInvalid(f"{path}: {key}: holds {len(found)} certificates")
            return found[0]
        return load_certificate(path.parent / value)
    except CertificateInvalid as error:
        raise CertificateInvalid(f"{path}: {key}: {error}") from None


class PartyDirectory:
    """The party files in one folder, read on demand and kept current."""

    def __init__(self, folder: Path, *, recheck_seconds: float = 60.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.folder = folder
        self._recheck = recheck_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, int, Party]] = {}

    def path_of(self, her_id: str) -> Path:
        """Where the file of ``her_id`` is (or would be)."""
        return self.folder / f"{her_id}.toml"

    def get(self, her_id: str | None) -> Party:
        """The party ``her_id``; :class:`UnknownParty` when it has no file, or a bad one."""
        if not her_id or not her_id.isascii() or not her_id.isdigit():
            raise UnknownParty(f"no party to look up: the HER-id {her_id!r} is not one")
        now = self._monotonic()
        with self._lock:
            cached = self._cache.get(her_id)
        if cached is not None and now - cached[0] < self._recheck:
            return cached[2]
        path = self.path_of(her_id)
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            log.warning("party certificate file missing", her_id=her_id, file=str(path))
            raise UnknownParty(f"no certificates for party {her_id}: its communication "
                               "agreement (CPA) is not installed here") from None
        if cached is not None and cached[1] == mtime:
            party = cached[2]
        else:
            try:
                party = read_party(path)
            except ProtectionError as error:
                log.warning("party certificate file unreadable", her_id=her_id,
                            problem=str(error))
                raise UnknownParty(f"the certificates of party {her_id} cannot be read "
                                   "here") from None
        with self._lock:
            self._cache[her_id] = (now, mtime, party)
        return party

    def all(self) -> tuple[list[Party], list[str]]:
        """Every party file in the folder, and the problem of each one that cannot be read."""
        parties: list[Party] = []
        problems: list[str] = []
        for path in sorted(self.folder.glob("*.toml")):
            try:
                parties.append(read_party(path))
            except ProtectionError as error:
                problems.append(str(error))
        return parties, problems
