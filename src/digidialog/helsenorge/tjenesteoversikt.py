"""TjenesteOversikt 1.0: a citizen's complete list of services open for dialog.

Note the element name ``TjenesteOmråde``, with an å, as the national schema
spells it.
"""

from __future__ import annotations

from datetime import date

from lxml import etree
from pydantic import ValidationError

from digidialog.domain import OverviewEntry
from digidialog.errors import SchemaViolation
from digidialog.helsenorge.names import FK1, ORG_ID_TYPE, TJENESTEOVERSIKT, coded, q
from digidialog.xml.text import leaf
from digidialog.xml.tree import child, need, need_text, text_of, where


def t(local: str) -> str:
    """A TjenesteOversikt element name."""
    return q(TJENESTEOVERSIKT, local)


def _telecom(service: etree._Element, tag: str) -> str | None:
    element = child(service, t(tag))
    if element is None:
        return None
    address = child(element, q(FK1, "TeleAddress"))
    return None if address is None else address.get("V")


def _date(service: etree._Element, tag: str) -> date | None:
    raw = text_of(service, t(tag))
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise SchemaViolation(f"{tag} is not a date", location=where(service)) from None


def read_tjenesteoversikt(root: etree._Element) -> tuple[OverviewEntry, ...]:
    """Every service in the overview."""
    entries = []
    for service in root.iterfind(t("Tjeneste")):
        her = need(service, t("HERId"))
        try:
            entries.append(
                OverviewEntry(
                    service_id=need_text(service, t("TjenesteId")),
                    name=need_text(service, t("TjenesteNavn")),
                    area=need_text(service, t("TjenesteOmråde")),
                    delivered_by=text_of(service, t("TjenesteLevertAv")),
                    phone=_telecom(service, "TjenesteTlf"),
                    url=_telecom(service, "TjenesteURL"),
                    start=_date(service, "FraDato"),
                    end=_date(service, "TilDato"),
                    her_id=need_text(her, q(FK1, "Id")),
                )
            )
        except ValidationError as error:
            first = error.errors()[0]
            raise SchemaViolation(
                f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}", location=where(service)
            ) from None
    return tuple(entries)


def tjenesteoversikt_text(entries: tuple[OverviewEntry, ...]) -> str:
    """A TjenesteOversikt document listing ``entries``, as text."""
    parts = [f'<TjenesteOversikt xmlns="{TJENESTEOVERSIKT}" xmlns:fk1="{FK1}">']
    for entry in entries:
        parts += [
            "<Tjeneste>",
            leaf("TjenesteId", entry.service_id),
            leaf("TjenesteNavn", entry.name),
            leaf("TjenesteOmråde", entry.area),
        ]
        if entry.delivered_by is not None:
            parts.append(leaf("TjenesteLevertAv", entry.delivered_by))
        if entry.phone is not None:
            parts.append(f"<TjenesteTlf>{coded('fk1:TeleAddress', entry.phone)}</TjenesteTlf>")
        if entry.url is not None:
            parts.append(f"<TjenesteURL>{coded('fk1:TeleAddress', entry.url)}</TjenesteURL>")
        parts.append(leaf("FraDato", entry.start.isoformat()))
        if entry.end is not None:
            parts.append(leaf("TilDato", entry.end.isoformat()))
        parts.append(
            f"<HERId>{leaf('fk1:Id', entry.her_id)}"
            f"{coded('fk1:TypeId', 'HER', ORG_ID_TYPE, 'HER-id')}</HERId></Tjeneste>"
        )
    parts.append("</TjenesteOversikt>")
    return "".join(parts)
