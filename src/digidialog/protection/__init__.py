"""Message protection towards Helsenorge: CMS sign-then-encrypt and certificate checks.

The parts, each its own module:

- :mod:`.transport`: :class:`~.transport.ProtectedTransport`, a transport
  wrapper that protects what is sent and unprotects what is received;
- :mod:`.protector`: :class:`~.protector.CmsProtection`, our keys, the
  parties' certificates and the checks, for one deployment;
- :mod:`.signing` and :mod:`.enveloping`: CMS SignedData and EnvelopedData;
- :mod:`.validation` and :mod:`.revocation`: validity, key usage, chain to
  the trust store, CRLs;
- :mod:`.parties`: the party certificate files (one per HER-id, CPA-shaped);
- :mod:`.errors`: each failure with the ``errorCondition`` that reports it;
- :mod:`.expiry`: what expires when, for ``digidialog certs check`` and metrics.

This package's top level holds only the marker that a received message
could not be unprotected (no cryptography is loaded by importing it): the
engine reads the marker to report and park such a message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PROTECTION_ERROR = "protectionError"
"""Application property of a received delivery that failed unprotection: the errorCondition."""
PROTECTION_ERROR_DESCRIPTION = "protectionErrorDescription"
"""Application property beside :data:`PROTECTION_ERROR`: why, for the sender's operator."""
MARKERS = (PROTECTION_ERROR, PROTECTION_ERROR_DESCRIPTION)


def protection_failure(meta: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(errorCondition, description)`` when the stored message's meta carries the marker.

    ``meta`` is what the receiver stored beside the body
    (:func:`digidialog.sync.jobs.envelope_meta`): the application properties
    are under ``properties``.
    """
    properties = meta.get("properties")
    if not isinstance(properties, Mapping):
        return None
    condition = properties.get(PROTECTION_ERROR)
    if not isinstance(condition, str) or not condition:
        return None
    description = properties.get(PROTECTION_ERROR_DESCRIPTION)
    return condition, description if isinstance(description, str) else ""


__all__ = ["MARKERS", "PROTECTION_ERROR", "PROTECTION_ERROR_DESCRIPTION", "protection_failure"]
