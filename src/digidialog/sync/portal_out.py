"""What the inbox handlers send to the portal: keyed jobs added in the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection

from digidialog.helsenorge import PortalMessage
from digidialog.store import Store
from digidialog.sync import jobs, outgoing
from digidialog.sync.context import Municipality
from digidialog.sync.header import Header


class PortalOut:
    """One municipality's way to the portal, from inside a transaction."""

    def __init__(self, store: Store, municipality: Municipality,
                 clock: Callable[[], datetime]) -> None:
        self.store = store
        self.municipality = municipality
        self.clock = clock

    def send(self, conn: Connection, key: str, message: PortalMessage,
             citizen_id: str | None = None) -> None:
        """Add the job that sends ``message``, once under ``key``, when ``conn`` commits."""
        jobs.enqueue_portal_message(self.store, conn, municipality=self.municipality.her_id,
                                    key=key, message=message,
                                    portal_her_id=self.municipality.portal_her_id,
                                    at=self.clock(), citizen_id=citizen_id)

    def acknowledge(self, conn: Connection, message: PortalMessage, now: datetime) -> None:
        """The AppRec OK ``message`` asked for (``Ack J``), if it asked."""
        if message.ack:
            self.send(conn, f"apprec:{message.msg_id}",
                      outgoing.application_receipt(Header.of(message), now))
