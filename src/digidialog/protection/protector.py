"""Sign-then-encrypt and decrypt-then-verify for one deployment: our keys, the parties', the checks.

:class:`CmsProtection` is what the transport wrapper calls. Sending, it signs
with the signing key of the HER-id the message is from, checks the
receiver's encryption certificate (from its party file) and encrypts for it.
Receiving, it decrypts with whichever of our keys the message was encrypted
for (each current key first, then each previous one: a rollover), checks
the signing certificate of the party named by ``fromHerId`` and verifies
that this certificate signed it.

Our own certificates are checked when the protection is made: a problem is
logged (the daemon still runs, as Helsenorge.Messaging does, so that the
operator sees it in one place) and kept in :attr:`CmsProtection.own_problems`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509

from digidialog.log import get_logger
from digidialog.protection.certificates import KeyUse, PrivateKey, describe
from digidialog.protection.enveloping import DecryptionKey, decrypt, encrypt
from digidialog.protection.errors import ProtectionError
from digidialog.protection.parties import PartyDirectory
from digidialog.protection.signing import sign, verify
from digidialog.protection.validation import CertificateChecker

log = get_logger("protection")


@dataclass(frozen=True)
class Identity:
    """Our own keys as one communication party (or several HER-ids sharing them).

    ``her_ids`` are the HER-ids these keys speak for (a municipality and its
    services); empty for the default keys, used for every other HER-id.
    """

    signing_certificate: x509.Certificate
    signing_key: PrivateKey
    encryption: DecryptionKey
    previous_encryption: DecryptionKey | None = None
    her_ids: frozenset[str] = field(default_factory=frozenset)
    name: str = "default"

    def certificates(self) -> list[tuple[str, x509.Certificate, KeyUse]]:
        """Each certificate with what it is for: ``(label, certificate, use)``."""
        found = [("signing", self.signing_certificate, KeyUse.SIGNING),
                 ("encryption", self.encryption.certificate, KeyUse.ENCRYPTION)]
        if self.previous_encryption is not None:
            found.append(("previous encryption", self.previous_encryption.certificate,
                          KeyUse.ENCRYPTION))
        return found


class CmsProtection:
    """Protects what we send and unprotects what we receive, for every HER-id of ours."""

    def __init__(self, identities: Sequence[Identity], parties: PartyDirectory,
                 checker: CertificateChecker, *, refuse_legacy_ciphers: bool = True) -> None:
        if not identities:
            raise ValueError("message protection needs keys of our own")
        self.identities = tuple(identities)
        self.parties = parties
        self.checker = checker
        self.refuse_legacy_ciphers = refuse_legacy_ciphers
        # Every current key before any previous one: a rollover falls back, never leads.
        self._keys = [i.encryption for i in self.identities] + [
            i.previous_encryption for i in self.identities if i.previous_encryption]
        self.own_problems = self._check_own()

    def identity_for(self, her_id: str | None) -> Identity:
        """The keys that speak for ``her_id`` (the default ones when none names it)."""
        for identity in self.identities:
            if her_id is not None and her_id in identity.her_ids:
                return identity
        defaults = [i for i in self.identities if not i.her_ids]
        if defaults:
            return defaults[0]
        raise ProtectionError(f"no keys of ours speak for HER-id {her_id}")

    def protect(self, content: bytes, *, sender: str | None, receiver: str | None) -> bytes:
        """``content`` signed as ``sender`` and encrypted for ``receiver`` (DER CMS)."""
        identity = self.identity_for(sender)
        party = self.parties.get(receiver)
        self.checker.check(party.encryption, KeyUse.ENCRYPTION)
        signed = sign(content, identity.signing_certificate, identity.signing_key)
        return encrypt(signed, party.encryption)

    def unprotect(self, body: bytes, *, sender: str | None) -> bytes:
        """The content of ``body``, decrypted and verified as signed by party ``sender``."""
        signed, key = decrypt(body, self._keys, refuse_legacy=self.refuse_legacy_ciphers)
        if key.label != "current":
            log.info("message decrypted with a previous key", key=key.label,
                     certificate=describe(key.certificate))
        party = self.parties.get(sender)
        self.checker.check(party.signing, KeyUse.SIGNING)
        return verify(signed, party.signing)

    def _check_own(self) -> list[str]:
        problems: list[str] = []
        for identity in self.identities:
            for label, certificate, use in identity.certificates():
                for problem in self.checker.findings(certificate, use).problems:
                    problems.append(f"our {label} certificate ({identity.name}): {problem}")
                    log.error("own certificate has a problem", keys=identity.name, use=label,
                              condition=problem.condition, problem=str(problem))
        return problems
