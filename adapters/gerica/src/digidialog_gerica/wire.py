"""Gerica's wire vocabulary: namespace, operations, schema files and lexical forms.

Shared by the adapter and the mock so that both speak exactly the contract of
``vendors.md`` (section "Gerica"): SOAP 1.1, document/literal wrapped,
``SOAPAction: "urn:gerica:innbyggerdialog:v2/<Operation>"``, timestamps as
``xs:dateTime`` with an explicit offset.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path

from lxml import etree

from digidialog.adapters.soap import wsdl_path
from digidialog.domain.timezone import to_oslo
from digidialog.errors import MalformedReply

NAMESPACE = "urn:gerica:innbyggerdialog:v2"
NS = "{" + NAMESPACE + "}"
SERVICE_PATH = "/InnbyggerDialog"
WSDL_FILE = "InnbyggerDialog.wsdl"
XSD_FILE = "gerica-innbyggerdialog-v2.xsd"

MAX_PAGE_SIZE = 500
"""HentAvtaler's largest ``SideStorrelse``."""

MAX_CHANGES = 1000
"""HentEndringer's largest ``Maks``."""

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
_PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
PLAIN_TEXT_TYPE = _PROFILE + "#PasswordText"
"""The ``Type`` of a UsernameToken password sent as plain text (Gerica's only kind)."""


class Operation(StrEnum):
    """The seven operations of InnbyggerDialog v2."""

    HENT_TJENESTER = "HentTjenester"
    HENT_MOTTAKERE = "HentMottakere"
    OPPDATER_DIGITAL_STATUS = "OppdaterDigitalStatus"
    HENT_AVTALER = "HentAvtaler"
    HENT_ENDRINGER = "HentEndringer"
    LEVER_MELDING = "LeverMelding"
    REGISTRER_AVBESTILLING = "RegistrerAvbestilling"

    @property
    def request_tag(self) -> str:
        """The Clark name of the request wrapper."""
        return NS + self.value

    @property
    def reply_tag(self) -> str:
        """The Clark name of the answer wrapper, ``<Operation>Svar``."""
        return NS + self.value + "Svar"


class FaultCode(StrEnum):
    """``GericaFeil/Kode``: every one final except MIDLERTIDIG_UTILGJENGELIG."""

    UKJENT_MOTTAKER = "UKJENT_MOTTAKER"
    UKJENT_AVTALE = "UKJENT_AVTALE"
    TJENESTE_IKKE_APEN = "TJENESTE_IKKE_APEN"
    UGYLDIG_PERIODE = "UGYLDIG_PERIODE"
    IKKE_AUTORISERT = "IKKE_AUTORISERT"
    MIDLERTIDIG_UTILGJENGELIG = "MIDLERTIDIG_UTILGJENGELIG"


def soap_action(operation: str) -> str:
    """The SOAPAction URI of an operation (without the quotes the header adds)."""
    return f"{NAMESPACE}/{operation}"


def wsdl_file() -> Path:
    """The WSDL shipped under ``schemas/gerica/``."""
    return wsdl_path("gerica", WSDL_FILE)


def xsd_file() -> Path:
    """The XSD of the messages, beside the WSDL."""
    return wsdl_path("gerica", XSD_FILE)


@cache
def message_schema() -> etree.XMLSchema:
    """The compiled message schema (request and answer wrappers, GericaFeil)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(xsd_file()), parser))


# ------------------------------------------------------------------ lexical forms


def format_instant(value: datetime) -> str:
    """An instant as ``xs:dateTime`` on the Oslo clock, with its offset."""
    return to_oslo(value).isoformat()


def format_date(value: date) -> str:
    """An ``xs:date``."""
    return value.isoformat()


def parse_instant(text: str | None, what: str) -> datetime:
    """An ``xs:dateTime`` that must carry an offset; :class:`MalformedReply` otherwise."""
    if not text:
        raise MalformedReply(f"Gerica sent no {what}")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = _parse_instant_slowly(text, what)
    if value.tzinfo is None:
        raise MalformedReply(f"Gerica sent {what} without a UTC offset")
    return value


def _offsets() -> dict[str, timedelta]:
    table = {"Z": timedelta(0)}
    for quarters in range(-14 * 4, 14 * 4 + 1):
        minutes = abs(quarters) * 15
        table[f"{'-' if quarters < 0 else '+'}{minutes // 60:02d}:{minutes % 60:02d}"] = (
            timedelta(minutes=quarters * 15))
    return table


OFFSETS = _offsets()
"""Every whole-quarter UTC offset as xs:dateTime writes it, and how far it is from UTC."""

_fromiso = datetime.fromisoformat


def parse_instant_utc(text: str | None, what: str) -> datetime:
    """An ``xs:dateTime`` with an offset, as the same instant in UTC.

    The common form (``YYYY-MM-DDTHH:MM:SS`` and an offset) is read as a UTC
    wall time minus its offset, which makes one datetime instead of three;
    anything else goes through :func:`parse_instant`.
    """
    offset = None if text is None else OFFSETS.get(text[19:])
    if text is not None and offset is not None:
        try:
            return _fromiso(text[:19] + "+00:00") - offset
        except ValueError:
            pass
    return parse_instant(text, what).astimezone(UTC)


def _parse_instant_slowly(text: str, what: str) -> datetime:
    # Whitespace around the value is legal in XML (xs:dateTime collapses it).
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise MalformedReply(f"Gerica sent {what} that is not an xs:dateTime") from None


_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


def parse_boolean(text: str | None, what: str) -> bool:
    """An ``xs:boolean``: true, false, 1 or 0."""
    value = _BOOLEANS.get((text or "").strip())
    if value is None:
        raise MalformedReply(f"Gerica sent {what} that is not an xs:boolean")
    return value


def parse_integer(text: str | None, what: str) -> int:
    """An ``xs:int`` or ``xs:long``."""
    try:
        return int((text or "").strip())
    except ValueError:
        raise MalformedReply(f"Gerica sent {what} that is not an integer") from None
