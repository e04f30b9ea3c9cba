"""The envelope of a portal message: enough to answer it, even when it cannot be used.

A message the codec refuses (invalid against the schema, an unsupported
process) is still answered with a negative AppRec when its MsgHead can be
read; :func:`peek_header` reads just that, forgivingly, with the same
hardened parser. Only what cannot even be peeked goes to the sender's error
queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from digidialog.errors import DigidialogError
from digidialog.helsenorge import Party, PortalMessage
from digidialog.helsenorge.msghead import m, parse_timestamp, read_party
from digidialog.helsenorge.names import MSGHEAD, q
from digidialog.xml import safe


@dataclass(frozen=True)
class Header:
    """Who sent which message, in which process: what an AppRec about it must name."""

    msg_id: str
    process: str
    generated_at: datetime | None
    sender: Party
    receiver: Party

    @classmethod
    def of(cls, message: PortalMessage) -> Header:
        """The header of a decoded message."""
        return cls(message.msg_id, message.process, message.generated_at, message.sender,
                   message.receiver)


def peek_header(data: bytes) -> Header | None:
    """The MsgHead envelope of ``data`` if it can be read at all, else ``None``."""
    try:
        root = safe.parse(data, max_markup=safe.MAX_MARKUP)
        if root.tag != q(MSGHEAD, "MsgHead"):
            return None
        info = root.find(m("MsgInfo"))
        if info is None:
            return None
        msg_id = (info.findtext(m("MsgId")) or "").strip()
        process = (info.find(m("Type")).get("V") or "").strip()  # type: ignore[union-attr]
        sender = info.find(f"{m('Sender')}/{m('Organisation')}")
        receiver = info.find(f"{m('Receiver')}/{m('Organisation')}")
        if not msg_id or not process or sender is None or receiver is None:
            return None
        raw_date = info.findtext(m("GenDate"))
        generated = parse_timestamp(raw_date, "GenDate") if raw_date else None
        return Header(msg_id, process, generated, read_party(sender), read_party(receiver))
    except (DigidialogError, ValueError, AttributeError, TypeError):
        return None
