"""Profil's wire vocabulary: namespace, paths, actions, element names, the schema.

Everything here comes from the Profil section of ``vendors.md``; the adapter,
the push endpoint and the mock all spell the wire through these names, so a
typo cannot make two of them disagree.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from pathlib import Path

from lxml import etree

from digidialog.adapters.soap import SoapVersion, wsdl_path

NAMESPACE = "urn:profil:citizendialog:2019"
SOAP_NS = SoapVersion.V12.namespace
SERVICE_PATH = "/CitizenDialogService"
CONTENT_TYPE = "application/soap+xml; charset=utf-8"

OPERATIONS = (
    "GetServices", "GetClients", "SetDigitalStatus", "GetVisits", "GetVisit",
    "PostInboxMessage", "GetOutboxMessages", "AckOutboxMessages", "CancelVisit",
)
"""The nine operations of CitizenDialogService, in the contract's order."""

NOTIFY_OPERATION = "NotifyEvent"
MAX_OUTBOX_COUNT = 200

CITIZEN_WSDL = "profil-citizendialog.wsdl"
NOTIFY_WSDL = "profil-notify.wsdl"
SCHEMA_FILE = "profil-citizendialog.xsd"


class EventType(StrEnum):
    """What a NotifyEvent says happened; ``LocalCheck`` and ``OutboxSweep`` are ours.

    The two local kinds never travel on the wire: the adapter stores them beside
    Profil's events so that answers it reaches on its own (a period without
    visits, a visit Profil refused at once, more outbox than one read) flow
    through the same checkpointed feed.
    """

    VISIT_CHANGED = "VisitChanged"
    VISIT_DONE = "VisitDone"
    OUTBOX_MESSAGE = "OutboxMessage"
    CANCELLATION_DECISION = "CancellationDecision"
    LOCAL_CHECK = "LocalCheck"
    OUTBOX_SWEEP = "OutboxSweep"


WIRE_EVENT_TYPES = frozenset(
    {EventType.VISIT_CHANGED, EventType.VISIT_DONE, EventType.OUTBOX_MESSAGE,
     EventType.CANCELLATION_DECISION}
)


def action(operation: str) -> str:
    """The SOAP 1.2 ``action`` of an operation."""
    return f"{NAMESPACE}/{operation}"


def tag(name: str) -> str:
    """The qualified (Clark notation) name of a Profil element."""
    return f"{{{NAMESPACE}}}{name}"


def schema_file(name: str) -> Path:
    """A file under ``schemas/profil/``."""
    return wsdl_path("profil", name)


@cache
def schema() -> etree.XMLSchema:
    """The Profil XSD, compiled once, with network access and entities off."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    document = etree.parse(str(schema_file(SCHEMA_FILE)), parser)
    return etree.XMLSchema(document)


def schema_errors(element: etree._Element) -> list[str]:
    """Why an element does not follow the Profil XSD (empty when it does).

    Messages name the element's path, line and the broken rule, never its text
    (libxml2's own messages quote values, which may be national ids).
    """
    validator = schema()
    if validator.validate(element):
        return []
    errors: list[etree._LogEntry] = list(validator.error_log)  # type: ignore[call-overload]
    return [f"{e.path} (line {e.line}): {e.type_name}" for e in errors]
