"""decode(bytes) -> PortalMessage and encode(PortalMessage) -> bytes, for every served process.

The two directions live in :mod:`decoder` and :mod:`encoder`; this module is
the one place callers import them from.
"""

from digidialog.helsenorge.decoder import decode
from digidialog.helsenorge.encoder import encode

__all__ = ["decode", "encode"]
