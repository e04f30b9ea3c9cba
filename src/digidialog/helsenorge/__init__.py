"""The Helsenorge side: the national message formats, read and written exactly.

``decode(bytes) -> PortalMessage`` and ``encode(PortalMessage) -> bytes`` cover
every process digidialog serves; one module per document type does the work.
"""

from digidialog.helsenorge.codec import decode, encode
from digidialog.helsenorge.message import (
    Conversation,
    Function,
    Party,
    Patient,
    PortalMessage,
    Representative,
    new_msg_id,
)
from digidialog.helsenorge.processes import Process

__all__ = [
    "Conversation",
    "Function",
    "Party",
    "Patient",
    "PortalMessage",
    "Process",
    "Representative",
    "decode",
    "encode",
    "new_msg_id",
]
