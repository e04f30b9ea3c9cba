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
from digidialog.helsenorge.names import FK1, ORG_ID_TYPE, TJENESTEOVERSIKT, q
from digidialog.helsenorge.xmltree import (
    child,
    need,
    need_text,
    root_element,
    sub,
    text_of,
    where,
)


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


def write_tjenesteoversikt(entries: tuple[OverviewEntry, ...]) -> etree._Element:
    """A TjenesteOversikt document listing ``entries``."""
    root = root_element(t("TjenesteOversikt"), TJENESTEOVERSIKT, fk1=FK1)
    for entry in entries:
        service = sub(root, t("Tjeneste"))
        sub(service, t("TjenesteId"), entry.service_id)
        sub(service, t("TjenesteNavn"), entry.name)
        sub(service, t("TjenesteOmråde"), entry.area)
        if entry.delivered_by is not None:
            sub(service, t("TjenesteLevertAv"), entry.delivered_by)
        if entry.phone is not None:
            sub(sub(service, t("TjenesteTlf")), q(FK1, "TeleAddress"), V=entry.phone)
        if entry.url is not None:
            sub(sub(service, t("TjenesteURL")), q(FK1, "TeleAddress"), V=entry.url)
        sub(service, t("FraDato"), entry.start.isoformat())
        if entry.end is not None:
            sub(service, t("TilDato"), entry.end.isoformat())
        her = sub(service, t("HERId"))
        sub(her, q(FK1, "Id"), entry.her_id)
        sub(her, q(FK1, "TypeId"), V="HER", S=ORG_ID_TYPE, DN="HER-id")
    return root
