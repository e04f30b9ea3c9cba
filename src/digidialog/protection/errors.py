"""Why a message could not be protected or unprotected, as the error condition that reports it.

Every failure of message protection is a :class:`ProtectionError` carrying
the ``errorCondition`` with which the sender is told (on its ``_error``
queue), following Helsenorge.Messaging where it names one:

========================================================  ======================================
failure                                                   ``errorCondition``
========================================================  ======================================
a certificate not valid yet, or expired (or a CA above)   ``transport:expired-certificate``
revoked on a configured CRL, or its status unknown        ``transport:revoked-certificate``
  (the issuer's CRL out of date, or required and absent)
no chain to the trust store (unknown issuer, a CA that    ``transport:unverified-certificate``
  is not one, a signature in the chain that fails)
wrong key usage; unreadable certificate; signed by        ``transport:invalid-certificate``
  another certificate than that of the party named by
  ``fromHerId``; no certificate known for that party
tampered: the signature or the content digest does not    ``transport:invalid-certificate``
  verify; undecryptable: not for any key of ours, the
  ciphertext corrupt, a refused cipher (3DES/DES)
not signed-and-enveloped CMS at all                       ``transport:invalid-field-value``
========================================================  ======================================

The classes are :class:`~digidialog.errors.FatalError`: sending cannot be
mended by retrying (the outbox parks the job with the reason), and a
received message that fails is handed on marked, never raised (see
:mod:`digidialog.protection.transport`).
"""

from __future__ import annotations

from digidialog.errors import FatalError

INVALID_CERTIFICATE = "transport:invalid-certificate"
EXPIRED_CERTIFICATE = "transport:expired-certificate"
REVOKED_CERTIFICATE = "transport:revoked-certificate"
UNVERIFIED_CERTIFICATE = "transport:unverified-certificate"
INVALID_FIELD_VALUE = "transport:invalid-field-value"


class ProtectionError(FatalError):
    """A message that cannot be protected or unprotected; ``condition`` reports it."""

    condition = INVALID_CERTIFICATE


class CertificateInvalid(ProtectionError):
    """A certificate that cannot serve: unreadable, wrong key usage, wrong key type."""

    condition = INVALID_CERTIFICATE


class CertificateExpired(ProtectionError):
    """A certificate (or a CA above it) outside its validity period."""

    condition = EXPIRED_CERTIFICATE


class CertificateRevoked(ProtectionError):
    """A certificate revoked on a CRL, or whose revocation status cannot be known."""

    condition = REVOKED_CERTIFICATE


class CertificateUnverified(ProtectionError):
    """A certificate that does not chain to the trust store."""

    condition = UNVERIFIED_CERTIFICATE


class UnknownParty(ProtectionError):
    """No certificate file for the communication party (its CPA is missing)."""

    condition = INVALID_CERTIFICATE


class WrongSigner(ProtectionError):
    """Signed, but not with the certificate of the party named by ``fromHerId``."""

    condition = INVALID_CERTIFICATE


class TamperedMessage(ProtectionError):
    """The signature or the content digest does not verify: changed after signing."""

    condition = INVALID_CERTIFICATE


class UndecryptableMessage(ProtectionError):
    """Not for any key of ours, corrupt ciphertext, or a cipher we refuse."""

    condition = INVALID_CERTIFICATE


class NotProtected(ProtectionError):
    """The body is not a CMS signed-and-enveloped message at all."""

    condition = INVALID_FIELD_VALUE
