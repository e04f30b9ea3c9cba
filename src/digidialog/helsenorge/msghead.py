"""MsgHead 1.2: the envelope around every Helsenorge message.

Reads and writes MsgInfo (Type, GenDate, MsgId, Ack, ConversationRef, Sender,
Receiver, Patient) and splits the Documents into XML payloads and base64
attachments. The payloads themselves are read and written by their own
modules.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree
from pydantic import ValidationError

from digidialog.domain import IdKind, inspect_national_id
from digidialog.domain.attachments import Attachment
from digidialog.domain.timezone import OSLO, to_oslo
from digidialog.errors import SchemaViolation
from digidialog.helsenorge.message import Conversation, Party, Patient
from digidialog.helsenorge.names import (
    BASE64,
    MSGHEAD,
    MSGHEAD_MIG,
    ORG_ID_TYPE,
    PERSON_ID_TYPE,
    q,
)
from digidialog.helsenorge.xmltext import coded, leaf
from digidialog.helsenorge.xmltree import child, need, need_text, text_of, where

_M = MSGHEAD


def m(local: str) -> str:
    """A MsgHead element name."""
    return q(_M, local)


@dataclass
class Envelope:
    """MsgInfo plus the documents, before the payloads are interpreted."""

    type_value: str
    type_display: str | None
    msg_id: str
    generated_at: datetime
    ack: bool
    conversation: Conversation | None
    sender: Party
    receiver: Party
    patient: Patient | None
    payloads: list[tuple[str | None, etree._Element]] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)


def parse_timestamp(raw: str, location: str) -> datetime:
    """An xs:dateTime as an aware instant; without an offset it is Oslo time."""
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise SchemaViolation("not a valid timestamp", location=location) from None
    return value.replace(tzinfo=OSLO) if value.tzinfo is None else value


def format_timestamp(value: datetime) -> str:
    """An instant on the Oslo clock with its offset."""
    return to_oslo(value).isoformat()


# ---------------------------------------------------------------- decoding


def read_envelope(root: etree._Element) -> Envelope:
    """Read MsgInfo and the Documents of a MsgHead root element."""
    if root.tag != m("MsgHead"):
        raise SchemaViolation(
            f"root element is {etree.QName(root).localname} in another namespace, not MsgHead 1.2",
            location="line 1",
        )
    info = need(root, m("MsgInfo"))
    type_element = need(info, m("Type"))
    type_value = (type_element.get("V") or "").strip()
    ack_element = child(info, m("Ack"))
    conversation = None
    ref = child(info, m("ConversationRef"))
    if ref is not None:
        conversation = Conversation(
            parent=need_text(ref, m("RefToParent")), root=need_text(ref, m("RefToConversation"))
        )
    patient_element = child(info, m("Patient"))
    envelope = Envelope(
        type_value=type_value,
        type_display=type_element.get("DN"),
        msg_id=need_text(info, m("MsgId")),
        generated_at=parse_timestamp(need_text(info, m("GenDate")), "MsgInfo/GenDate"),
        ack=ack_element is not None and ack_element.get("V") == "J",
        conversation=conversation,
        sender=read_party(need(need(info, m("Sender")), m("Organisation"))),
        receiver=read_party(need(need(info, m("Receiver")), m("Organisation"))),
        patient=None if patient_element is None else read_patient(patient_element, _M),
    )
    for document in root.iterfind(m("Document")):
        _read_document(document, envelope)
    return envelope


def _read_document(document: etree._Element, envelope: Envelope) -> None:
    ref_doc = need(document, m("RefDoc"))
    kind = need(ref_doc, m("MsgType")).get("V")
    content = child(ref_doc, m("Content"))
    description = text_of(document, m("ContentDescription")) or text_of(
        ref_doc, m("Description")
    )
    if content is None:
        return
    if kind == "A":
        container = child(content, q(BASE64, "Base64Container"))
        if container is None:
            raise SchemaViolation("attachment without Base64Container", location=where(content))
        try:
            data = base64.b64decode(container.text or "", validate=False)
        except ValueError:
            raise SchemaViolation("attachment is not base64", location=where(container)) from None
        envelope.attachments.append(
            Attachment(
                mime_type=text_of(ref_doc, m("MimeType")) or "application/octet-stream",
                description=text_of(ref_doc, m("Description")),
                data=data,
            )
        )
        return
    for payload in content:
        if isinstance(payload.tag, str):
            envelope.payloads.append((description, payload))


def read_party(organisation: etree._Element) -> Party:
    """Sender or Receiver: the organisation, then its sub-organisation or professional.

    Helsenorge's own messages use two organisation levels; the official
    examples also put a HealthcareProfessional (with the HER-id) under a
    level-1 organisation known only by its organisation number.
    """
    inner = child(organisation, m("Organisation"))
    if inner is None:
        inner = child(organisation, m("HealthcareProfessional"))
    levels = [organisation] if inner is None else [organisation, inner]
    her_ids: list[str | None] = []
    names: list[str] = []
    org_numbers: list[str | None] = []
    for level in levels:
        her, org = _idents(level, _M)
        her_ids.append(her)
        org_numbers.append(org)
        if level.tag == m("HealthcareProfessional"):
            names.append(_person_name(level, _M))
        else:
            names.append(need_text(level, m("OrganisationName")))
    try:
        return Party(
            her_ids=tuple(her_ids),
            names=tuple(names),
            org_numbers=tuple(org_numbers) if any(org_numbers) else (),
        )
    except ValidationError as error:
        raise SchemaViolation(_first_error(error), location=where(organisation)) from None


def _idents(element: etree._Element, namespace: str) -> tuple[str | None, str | None]:
    her = org = None
    for ident in element.iterchildren(q(namespace, "Ident")):
        type_id = child(ident, q(namespace, "TypeId"))
        value = (text_of(ident, q(namespace, "Id")) or "").strip()
        kind = None if type_id is None else type_id.get("V")
        if kind == "HER" and her is None:
            her = value
        elif kind == "ENH" and org is None:
            org = value
    return her, org


def _person_name(element: etree._Element, namespace: str) -> str:
    parts = (text_of(element, q(namespace, n)) for n in ("GivenName", "MiddleName", "FamilyName"))
    return " ".join(p.strip() for p in parts if p and p.strip())


def read_patient(element: etree._Element, namespace: str) -> Patient:
    """A person with names and one FNR/D-number ident (MsgHead Patient or fk1 Person)."""
    ident = need(element, q(namespace, "Ident"))
    try:
        return Patient(
            id=need_text(ident, q(namespace, "Id")),
            given_name=need_text(element, q(namespace, "GivenName")),
            family_name=need_text(element, q(namespace, "FamilyName")),
            middle_name=(text_of(element, q(namespace, "MiddleName")) or "").strip() or None,
        )
    except ValidationError as error:
        raise SchemaViolation(_first_error(error), location=where(element)) from None


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    field_name = ".".join(str(p) for p in first["loc"]) or "value"
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{field_name}: {message}"


# ---------------------------------------------------------------- encoding
# Writers return text (see xmltext); codec.encode parses the whole message once to validate it.


def envelope_text(
    type_value: str,
    type_display: str,
    msg_id: str,
    generated_at: datetime,
    *,
    ack: bool,
    conversation: Conversation | None,
    sender: Party,
    receiver: Party,
    patient: Patient | None,
) -> str:
    """The MsgHead start tag and a filled-in MsgInfo; documents and ``</MsgHead>`` follow."""
    parts = [
        f'<MsgHead xmlns="{_M}"><MsgInfo>',
        coded("Type", type_value, dn=type_display),
        leaf("MIGversion", MSGHEAD_MIG),
        leaf("GenDate", format_timestamp(generated_at)),
        leaf("MsgId", msg_id),
        coded("Ack", "J" if ack else "N", dn="Ja" if ack else "Nei"),
    ]
    if conversation is not None:
        parts.append(
            f"<ConversationRef>{leaf('RefToParent', conversation.parent)}"
            f"{leaf('RefToConversation', conversation.root)}</ConversationRef>"
        )
    parts.append(f"<Sender>{_party_text(sender)}</Sender>")
    parts.append(f"<Receiver>{_party_text(receiver)}</Receiver>")
    if patient is not None:
        parts.append(f"<Patient>{person_text(patient, '')}</Patient>")
    parts.append("</MsgInfo>")
    return "".join(parts)


def _party_text(party: Party) -> str:
    opened: list[str] = []
    for level, name in enumerate(party.names):
        opened.append(f"<Organisation>{leaf('OrganisationName', name)}")
        her_id = party.her_ids[level]
        org = party.org_numbers[level] if party.org_numbers else None
        if org is not None:
            opened.append(_ident_text(org, "ENH", "Organisasjonsnummeret i Enhetsregister"))
        if her_id is not None:
            opened.append(_ident_text(her_id, "HER", "HER-id"))
    return "".join(opened) + "</Organisation>" * len(party.names)


def _ident_text(value: str, kind: str, display: str) -> str:
    return f"<Ident>{leaf('Id', value)}{coded('TypeId', kind, ORG_ID_TYPE, display)}</Ident>"


def person_text(person: Patient, prefix: str) -> str:
    """Names and the national id, in the element order MsgHead and fk1 share.

    ``prefix`` is the namespace prefix with its colon (``"fk1:"``), or ``""``.
    """
    is_dnr = inspect_national_id(person.id).kind is IdKind.DNR
    middle = leaf(f"{prefix}MiddleName", person.middle_name) if person.middle_name else ""
    return (
        f"{leaf(f'{prefix}FamilyName', person.family_name)}{middle}"
        f"{leaf(f'{prefix}GivenName', person.given_name)}"
        f"<{prefix}Ident>{leaf(f'{prefix}Id', person.id)}"
        + coded(f"{prefix}TypeId", "DNR" if is_dnr else "FNR", PERSON_ID_TYPE,
                "D-nummer" if is_dnr else "Fødselsnummer")
        + f"</{prefix}Ident>"
    )


def document_text(payload: str, issued: datetime, description: str | None = None) -> str:
    """A Document holding one XML payload."""
    described = leaf("ContentDescription", description) if description else ""
    return (
        f"<Document>{described}<RefDoc>"
        f'<IssueDate V="{format_timestamp(issued)}"/><MsgType V="XML" DN="XML-instans"/>'
        f"<Content>{payload}</Content></RefDoc></Document>"
    )


def attachment_text(attachment: Attachment, issued: datetime) -> str:
    """A Document holding one base64 attachment (HIS 1036:2011)."""
    described = leaf("Description", attachment.description) if attachment.description else ""
    data = base64.b64encode(attachment.data).decode("ascii")
    return (
        f'<Document><RefDoc><IssueDate V="{format_timestamp(issued)}"/>'
        f'<MsgType V="A" DN="Vedlegg"/>{leaf("MimeType", attachment.mime_type)}{described}'
        f'<Content><Base64Container xmlns="{BASE64}">{data}</Base64Container></Content>'
        "</RefDoc></Document>"
    )
