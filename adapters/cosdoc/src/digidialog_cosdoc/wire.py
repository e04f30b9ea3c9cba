"""The CosDoc wire contract in names and small formats: namespaces, commands, statuses.

Everything here is spelled exactly as vendors.md (section "CosDoc") spells it,
once, so that the documents, the mapping, the client and the mock cannot drift
apart. Formats that are one line each (J/N, dates, clock times) live here too.
"""

from __future__ import annotations

from datetime import date
from enum import IntEnum, StrEnum
from pathlib import Path

from digidialog.resources import schema_path

INTEGRASJON_NS = "urn:cosdoc:integrasjon:1"
SOAP_ENVELOPE_NS = "http://schemas.xmlsoap.org/soap/envelope/"
DOKUMENT_NS = "urn:cosdoc:dokument:1"
SOAP_ACTION = f"{INTEGRASJON_NS}/Utfor"
SERVICE_PATH = "/Integrasjon"
OPERATION = "Utfor"
DOCUMENT_ENCODING = "ISO-8859-1"


class Kommando(StrEnum):
    """The commands ``Utfor`` carries; each names its request and answer document's root."""

    FINN_PASIENT = "FINN_PASIENT"
    TJENESTER = "TJENESTER"
    PASIENTER = "PASIENTER"
    DIGITAL_STATUS = "DIGITAL_STATUS"
    AVTALER = "AVTALER"
    EKSPORT_AVTALER = "EKSPORT_AVTALER"
    HENDELSER = "HENDELSER"
    HENT_AVTALE = "HENT_AVTALE"
    HENT_MELDING = "HENT_MELDING"
    SEND_MELDING = "SEND_MELDING"
    AVBESTILL = "AVBESTILL"
    HENT_AVBESTILLINGSSVAR = "HENT_AVBESTILLINGSSVAR"


class Status(IntEnum):
    """``UtforSvar/Status``: an answer, never a fault."""

    OK = 0
    INVALID_REQUEST = 1
    NOT_FOUND = 2
    UNAVAILABLE = 3


class HendelseType(StrEnum):
    """What a change-feed entry is about; its Ref is fetched with the matching command."""

    AVTALE = "AVTALE"
    BESOK_UTFORT = "BESOK_UTFORT"
    MELDING = "MELDING"
    AVBESTILLING_SVAR = "AVBESTILLING_SVAR"


PAGE_SIZE = 1000
"""The most patients in one PASIENTER answer, and the most events one HENDELSER asks for."""


def d(local: str) -> str:
    """A document element name in Clark notation."""
    return f"{{{DOKUMENT_NS}}}{local}"


def i(local: str) -> str:
    """An envelope element name (Utfor, UtforSvar and their children) in Clark notation."""
    return f"{{{INTEGRASJON_NS}}}{local}"


def jn(value: bool) -> str:
    """A boolean as CosDoc writes it."""
    return "J" if value else "N"


def read_jn(text: str | None) -> bool:
    """``J`` or ``N`` as a boolean; anything else is a :class:`ValueError`."""
    if text == "J":
        return True
    if text == "N":
        return False
    raise ValueError("a J/N field holds something else")


def read_date(text: str | None) -> date:
    """A ``YYYY-MM-DD`` date (and only that spelling: Python also reads ``YYYYMMDD``)."""
    if text is not None and len(text) == 10 and text[4] == "-" and text[7] == "-" and (
            text.replace("-", "").isdigit()):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass  # 2026-02-30: the same answer as a malformed date, without the value
    raise ValueError("a date is not a YYYY-MM-DD day")


def schema(name: str) -> Path:
    """A schema file shipped under ``schemas/cosdoc/``."""
    return schema_path("cosdoc", name)


WSDL = "cosdoc-integrasjon-1.wsdl"
ENVELOPE_XSD = "cosdoc-integrasjon-1.xsd"
REQUEST_XSD = "cosdoc-dokument-foresporsel-1.xsd"
ANSWER_XSD = "cosdoc-dokument-svar-1.xsd"
SOAP_ENVELOPE_XSD = "soap-envelope-1.1.xsd"
