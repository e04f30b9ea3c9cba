"""Raw portal messages readdressed to a test world: from its portal to its municipality.

The official examples name other parties; left as they are, every readable
hostile case would be refused for its address (E10), and its AppRec would go to
a portal that does not exist.
"""

from __future__ import annotations

import re
import uuid

from tests.engine.world import World

_SENDER = re.compile(rb"<Sender>.*?</Sender>", re.DOTALL)
_RECEIVER = re.compile(rb"<Receiver>.*?</Receiver>", re.DOTALL)
_MSG_ID = re.compile(rb"<MsgId>([^<]{1,100})</MsgId>")
_UUID = re.compile(rb"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_HER = b'<TypeId V="HER" S="2.16.578.1.12.4.1.1.9051" DN="HER-id"/>'


def _organisation(levels: list[tuple[str, str]]) -> bytes:
    """An Organisation for each (name, HER-id), each inside the one before."""
    name, her_id = levels[0]
    inner = _organisation(levels[1:]) if len(levels) > 1 else b""
    return (b"<Organisation><OrganisationName>" + name.encode() + b"</OrganisationName><Ident>"
            b"<Id>" + her_id.encode() + b"</Id>" + _HER + b"</Ident>" + inner
            + b"</Organisation>")


def addressed(data: bytes, world: World) -> bytes:
    """``data`` from the world's portal to its municipality's service, with a MsgId of its
    own: a fresh UUID for a UUID, the same made unique for one that is not (a MsgId too long
    to answer is left as it is).

    Bytes with no MsgHead to edit (another encoding, no XML at all) pass unchanged.
    """
    portal = _organisation([("Helsenorge", world.portal.portal_her_id), ("Innbygger", "100001")])
    ours = _organisation([("Eksempel kommune", world.municipality),
                          ("Hjemmesykepleien", world.service)])
    data = _SENDER.sub(lambda _: b"<Sender>" + portal + b"</Sender>", data, count=1)
    data = _RECEIVER.sub(lambda _: b"<Receiver>" + ours + b"</Receiver>", data, count=1)
    return _MSG_ID.sub(_fresh_msg_id, data, count=1)


def _fresh_msg_id(found: re.Match[bytes]) -> bytes:
    old = found.group(1)
    new = str(uuid.uuid4()).encode() if _UUID.fullmatch(old) else \
        old + b"-" + uuid.uuid4().hex[:8].encode()
    return b"<MsgId>" + new + b"</MsgId>"
