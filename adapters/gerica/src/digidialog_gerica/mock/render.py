"""How the Gerica mock writes its answers: SOAP 1.1 envelopes, in the schema's order.

Written with lxml directly, not with zeep, so that the mock is an independent
reading of the contract rather than the adapter's own code run backwards;
a test validates what it writes against the project's XSD.
"""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from digidialog.adapters.soap import SoapVersion
from digidialog_gerica.mock.records import (
    Change,
    Citizen,
    Decision,
    Service,
    StaffMessage,
    Visit,
)
from digidialog_gerica.wire import NAMESPACE, NS, format_instant

SOAP = SoapVersion.V11.namespace
_NSMAP = {"soap": SOAP}
CONTENT_TYPE = "text/xml; charset=utf-8"


def answer(operation: str) -> etree._Element:
    """An empty ``<Operation>Svar`` wrapper, to fill in."""
    return etree.Element(NS + operation + "Svar", nsmap={"g": NAMESPACE})


def add(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    """A child in Gerica's namespace, with text if given."""
    child = etree.SubElement(parent, NS + name)
    if text is not None:
        child.text = text
    return child


def flag(value: bool) -> str:
    """An xs:boolean."""
    return "true" if value else "false"


def instant(value: datetime) -> str:
    """An xs:dateTime on the Oslo clock, with its offset (as Gerica writes them)."""
    return format_instant(value)


def envelope(content: etree._Element) -> bytes:
    """A SOAP 1.1 envelope around one body element, as UTF-8 bytes with a declaration."""
    root = etree.Element(f"{{{SOAP}}}Envelope", nsmap=_NSMAP)
    etree.SubElement(root, f"{{{SOAP}}}Body").append(content)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def fault(code: str | None, description: str, *, faultcode: str) -> bytes:
    """A soap:Fault (``faultcode`` Client, Server...) with ``detail/GericaFeil`` if ``code``."""
    body = etree.Element(f"{{{SOAP}}}Fault", nsmap=_NSMAP)
    etree.SubElement(body, "faultcode").text = f"soap:{faultcode}"
    etree.SubElement(body, "faultstring").text = description
    if code:
        detail = etree.SubElement(body, "detail")
        feil = etree.SubElement(detail, NS + "GericaFeil", nsmap={"g": NAMESPACE})
        add(feil, "Kode", code)
        add(feil, "Beskrivelse", description)
    return envelope(body)


# ------------------------------------------------------------------ records


def tjeneste(parent: etree._Element, service: Service) -> None:
    """Tjeneste: Kode, Navn, ApenForDialog."""
    element = add(parent, "Tjeneste")
    add(element, "Kode", service.code)
    add(element, "Navn", service.name)
    add(element, "ApenForDialog", flag(service.open_for_dialog))


def mottaker(parent: etree._Element, citizen: Citizen) -> None:
    """Mottaker: Fodselsnummer, Navn, TjenesteKode+, DigitalAktiv."""
    element = add(parent, "Mottaker")
    add(element, "Fodselsnummer", citizen.national_id)
    add(element, "Navn", citizen.name)
    for code in citizen.service_codes:
        add(element, "TjenesteKode", code)
    add(element, "DigitalAktiv", flag(citizen.digital))


def avtale(parent: etree._Element, visit: Visit) -> None:
    """Avtale, with the optional elements only where the contract has them."""
    element = add(parent, "Avtale")
    add(element, "AvtaleId", visit.avtale_id)
    add(element, "Fodselsnummer", visit.citizen_id)
    add(element, "TjenesteKode", visit.service_code)
    add(element, "Status", visit.status)
    add(element, "Start", instant(visit.start))
    add(element, "Slutt", instant(visit.end))
    if visit.rule is not None and visit.status == "PLANLAGT":
        add(element, "Gjentakelse", visit.rule)
    if visit.employee is not None and visit.status in ("TILDELT", "UTFORT"):
        add(add(element, "Ansatt"), "Navn", visit.employee)
    add(element, "Beskrivelse", visit.description)
    if visit.done_at is not None and visit.status == "UTFORT":
        add(element, "UtfortTidspunkt", instant(visit.done_at))
    if visit.cancelled_by is not None and visit.status == "AVLYST":
        add(element, "AvlystAv", visit.cancelled_by)
    add(element, "Endret", instant(visit.changed))


def endring(parent: etree._Element, change: Change) -> None:
    """Endring: Sekvens, Tidspunkt, Type, then its one payload."""
    element = add(parent, "Endring")
    add(element, "Sekvens", str(change.sequence))
    add(element, "Tidspunkt", instant(change.at))
    add(element, "Type", change.kind)
    payload = change.payload
    if isinstance(payload, Visit):
        avtale(element, payload)
    elif isinstance(payload, StaffMessage):
        _melding(element, payload)
    else:
        _avbestillingssvar(element, payload)


def _melding(parent: etree._Element, message: StaffMessage) -> None:
    element = add(parent, "Melding")
    add(element, "MeldingId", message.melding_id)
    if message.thread_id is not None:
        add(element, "TradId", message.thread_id)
    if message.reply_to is not None:
        add(element, "SvarPaMeldingId", message.reply_to)
    add(element, "TjenesteKode", message.service_code)
    add(element, "Fodselsnummer", message.citizen_id)
    add(element, "Emne", message.subject)
    add(element, "Tekst", message.text)
    add(element, "Forfatter", message.author)
    add(element, "Sendt", instant(message.sent))
    add(element, "Midlertidig", flag(message.interim))
    if message.kind is not None:
        add(element, "Meldingstype", message.kind)


def _avbestillingssvar(parent: etree._Element, decision: Decision) -> None:
    element = add(parent, "Avbestillingssvar")
    add(element, "AvbestillingId", decision.request_id)
    add(element, "Akseptert", flag(decision.accepted))
    if decision.comment is not None:
        add(element, "Kommentar", decision.comment)
    affected = add(element, "BerorteAvtaler")
    for avtale_id in decision.affected:
        add(affected, "AvtaleId", avtale_id)


def kvittering(operation: str, reference: str) -> etree._Element:
    """``<Operation>Svar`` holding Kvittering: Mottatt, EpjReferanse."""
    wrapper = answer(operation)
    element = add(wrapper, "Kvittering")
    add(element, "Mottatt", "true")
    add(element, "EpjReferanse", reference)
    return wrapper
