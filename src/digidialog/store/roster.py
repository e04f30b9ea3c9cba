"""Which services an EPJ offers (open to digital dialog or not) and who receives each.

The EPJ is the source; this is the copy the engine answers from when it must
not wait for the EPJ (the portal's synchronous questions) and the list the
nightly job compares against. It is written each time the engine reads the
EPJ's services or a service's recipients.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, select

from digidialog.store.database import Database
from digidialog.store.schema import roster_recipients, roster_services


@dataclass(frozen=True)
class RosterService:
    """A service as the EPJ last listed it."""

    code: str
    name: str
    open_for_dialog: bool


class Roster:
    """Services and their recipients, per municipality."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def put_services(self, conn: Connection, municipality: str,
                     services: Iterable[RosterService], at: datetime) -> None:
        """Replace the municipality's list of services with ``services``."""
        services = list(services)
        conn.execute(delete(roster_services).where(
            roster_services.c.municipality == municipality,
            roster_services.c.code.not_in([s.code for s in services])))
        for service in services:
            values = {"name": service.name, "open_for_dialog": service.open_for_dialog,
                      "seen_at": at}
            statement = self._db.insert(roster_services).values(
                municipality=municipality, code=service.code, **values)
            conn.execute(statement.on_conflict_do_update(
                index_elements=["municipality", "code"], set_=values))

    def services(self, municipality: str) -> dict[str, RosterService]:
        """The municipality's services by code, as last listed."""
        with self._db.read() as connection:
            rows = connection.execute(select(roster_services).where(
                roster_services.c.municipality == municipality)).all()
        return {r.code: RosterService(r.code, r.name, r.open_for_dialog) for r in rows}

    def put_recipients(self, conn: Connection, municipality: str, service_code: str,
                       citizen_ids: Iterable[str], at: datetime) -> None:
        """Replace who receives ``service_code`` with ``citizen_ids``."""
        citizen_ids = sorted(set(citizen_ids))
        conn.execute(delete(roster_recipients).where(
            roster_recipients.c.municipality == municipality,
            roster_recipients.c.service_code == service_code))
        if citizen_ids:
            conn.execute(roster_recipients.insert(), [
                {"municipality": municipality, "service_code": service_code,
                 "citizen_id": citizen, "seen_at": at} for citizen in citizen_ids])

    def add_recipient(self, conn: Connection, municipality: str, service_code: str,
                      citizen_id: str, at: datetime) -> None:
        """Record that ``citizen_id`` receives ``service_code`` (one citizen read)."""
        statement = self._db.insert(roster_recipients).values(
            municipality=municipality, service_code=service_code, citizen_id=citizen_id,
            seen_at=at)
        conn.execute(statement.on_conflict_do_update(
            index_elements=["municipality", "service_code", "citizen_id"],
            set_={"seen_at": at}))

    def services_of(self, municipality: str, citizen_id: str) -> set[str]:
        """The codes of the services the citizen receives, as last read."""
        with self._db.read() as connection:
            rows = connection.execute(select(roster_recipients.c.service_code).where(
                roster_recipients.c.municipality == municipality,
                roster_recipients.c.citizen_id == citizen_id)).all()
        return {row.service_code for row in rows}

    def knows(self, municipality: str) -> bool:
        """Whether the municipality's services were ever listed."""
        with self._db.read() as connection:
            return connection.execute(select(roster_services.c.code).where(
                roster_services.c.municipality == municipality).limit(1)).first() is not None
