"""Gerica's answers, as lxml elements, straight into domain objects.

No zeep deserialisation: each answer wrapper is read by one pass over its
children. Appointments, the hot path, are read by :mod:`.appointments`; the
change feed by :mod:`.feed`; services, citizens and pages here.

The reader is lenient where the contract allows it to be (elements it does
not know are ignored, so a newer Gerica adding one does not stop the sync)
and strict where a wrong value would mislead a citizen: a missing or
unreadable time, status or id is a :class:`MalformedReply`. Error messages
name the element, never its content.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from lxml import etree
from pydantic import ValidationError

from digidialog.adapters.contract import CitizenRecord, VendorService
from digidialog.adapters.kinds import StaffKindCodes
from digidialog.domain import Appointment
from digidialog.domain.events import StaffMessageKind
from digidialog.errors import MalformedReply
from digidialog_gerica.appointments import read_avtaler
from digidialog_gerica.wire import NS, parse_boolean, parse_integer

_AVTALE = NS + "Avtale"
_SIDE = NS + "Side"
_ANTALL_SIDER = NS + "AntallSider"


def expect(element: etree._Element, tag: str) -> etree._Element:
    """``element`` if it is the answer wrapper ``tag``; :class:`MalformedReply` if not."""
    if element.tag != tag:
        raise MalformedReply(f"Gerica answered with {etree.QName(element).localname}, "
                             f"expected {etree.QName(tag).localname}")
    return element


def children_text(element: etree._Element, names: Iterable[str]) -> dict[str, str | None]:
    """The text of the named children (by local name), ``None`` for those absent."""
    wanted = {NS + name: name for name in names}
    found: dict[str, str | None] = dict.fromkeys(wanted.values())
    for child in element:
        name = wanted.get(child.tag)
        if name is not None:
            found[name] = child.text
    return found


def required(values: Mapping[str, str | None], name: str, where: str) -> str:
    """A value that must be present and non-empty."""
    value = values[name]
    if not value:
        raise MalformedReply(f"Gerica sent a {where} without {name}")
    return value


# ------------------------------------------------------------------ appointments


def read_appointments_page(
    svar: etree._Element, service_names: Mapping[str, str], *, citizen_id: str | None = None
) -> tuple[list[Appointment], int, int]:
    """A ``HentAvtalerSvar``: its appointments, its page number and the page count.

    With ``citizen_id``, every Avtale must be that citizen's.
    """
    appointments = read_avtaler(svar.iterchildren(_AVTALE), service_names,
                                citizen_id=citizen_id)
    # Side and AntallSider close the answer: look there before walking 500 Avtale again.
    if len(svar) >= 2 and svar[-2].tag == _SIDE and svar[-1].tag == _ANTALL_SIDER:
        side, antall = svar[-2].text, svar[-1].text
    else:
        tail = children_text(svar, ("Side", "AntallSider"))
        side, antall = tail["Side"], tail["AntallSider"]
    page = parse_integer(side, "HentAvtalerSvar/Side")
    pages = parse_integer(antall, "HentAvtalerSvar/AntallSider")
    return appointments, page, pages


def refused(where: str, error: ValidationError) -> MalformedReply:
    """A domain validation failure as a MalformedReply naming fields, never values."""
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"]) or where
    return MalformedReply(
        f"Gerica sent a {where} the domain refuses ({location}: {first['msg']})"
    )


# ------------------------------------------------------------------ services and citizens


def read_services(svar: etree._Element) -> list[VendorService]:
    """A ``HentTjenesterSvar`` as vendor services."""
    services = []
    for tjeneste in svar.iterchildren(NS + "Tjeneste"):
        values = children_text(tjeneste, ("Kode", "Navn", "ApenForDialog"))
        try:
            services.append(VendorService(
                code=required(values, "Kode", "Tjeneste"),
                name=values["Navn"] or "",
                open_for_dialog=parse_boolean(values["ApenForDialog"], "Tjeneste/ApenForDialog"),
            ))
        except ValidationError as error:
            raise refused("Tjeneste", error) from None
    return services


def read_citizens(svar: etree._Element) -> Iterator[CitizenRecord | MalformedReply]:
    """Each ``Mottaker`` of a ``HentMottakereSvar``, or the reason it cannot be used.

    A citizen Gerica holds with a broken national id cannot be served anyway;
    the caller skips it (and says so) rather than losing everyone else.
    """
    for mottaker in svar.iterchildren(NS + "Mottaker"):
        codes = tuple(c.text or "" for c in mottaker.iterchildren(NS + "TjenesteKode"))
        values = children_text(mottaker, ("Fodselsnummer", "Navn", "DigitalAktiv"))
        try:
            yield CitizenRecord(
                national_id=required(values, "Fodselsnummer", "Mottaker"),
                name=values["Navn"] or "",
                service_codes=codes,
                digitally_active=parse_boolean(values["DigitalAktiv"], "Mottaker/DigitalAktiv"),
            )
        except ValidationError as error:
            yield refused("Mottaker", error)
        except MalformedReply as error:
            yield error


# ------------------------------------------------------------------ staff message kinds

MELDINGSTYPE = StaffKindCodes({
    "SVAR": StaffMessageKind.ANSWER,
    "DIALOG": StaffMessageKind.DIALOG,
    "ENGANGSKONTAKT": StaffMessageKind.NOTICE,
    "AVSLUTNING": StaffMessageKind.CLOSING,
}, unknown_event="gerica.unknown_meldingstype", id_key="melding_id")
"""Melding/Meldingstype codes and the kind of staff message each one is."""

read_meldingstype = MELDINGSTYPE.read
"""The kind a code names; ``None`` (derive it) when absent or unknown."""
