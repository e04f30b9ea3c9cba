"""Proxies the municipality has registered: who may act for which citizen, how far and how long.

Helsenorge checks a relative's proxy before it lets them write or cancel, and
tells the municipality only the relation (Pasientrelasjon). A municipality
that knows more (a guardianship that ended, a fullmakt limited to
appointments) registers it here, and the engine holds the relative to it.
"""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import Connection, delete, select

from digidialog.domain import Proxy
from digidialog.domain.timezone import OSLO
from digidialog.store.database import Database
from digidialog.store.schema import proxies


class Proxies:
    """Registered proxies per municipality and citizen."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def put(self, conn: Connection, municipality: str, proxy: Proxy) -> None:
        """Register ``proxy`` (replacing an earlier registration of the same holder)."""
        valid_to = (None if proxy.valid_to is None
                    else datetime.combine(proxy.valid_to, time.max, tzinfo=OSLO))
        values = {"body": proxy.model_dump(mode="json"), "valid_to": valid_to,
                  "updated_at": self._db.now()}
        statement = self._db.insert(proxies).values(
            municipality=municipality, citizen_id=proxy.citizen_id,
            holder_id=proxy.holder.national_id, **values)
        conn.execute(statement.on_conflict_do_update(
            index_elements=["municipality", "citizen_id", "holder_id"], set_=values))

    def remove(self, conn: Connection, municipality: str, citizen_id: str,
               holder_id: str) -> bool:
        """Withdraw a registration; whether there was one."""
        result = conn.execute(delete(proxies).where(
            proxies.c.municipality == municipality, proxies.c.citizen_id == citizen_id,
            proxies.c.holder_id == holder_id))
        return result.rowcount > 0

    def of(self, municipality: str, citizen_id: str, holder_id: str | None = None
           ) -> list[Proxy]:
        """The citizen's registered proxies (only ``holder_id``'s, when given)."""
        query = select(proxies.c.body).where(proxies.c.municipality == municipality,
                                             proxies.c.citizen_id == citizen_id)
        if holder_id is not None:
            query = query.where(proxies.c.holder_id == holder_id)
        with self._db.read() as connection:
            rows = connection.execute(query.order_by(proxies.c.holder_id)).all()
        return [Proxy.model_validate(row.body) for row in rows]
