"""MsgHead 1.2: the envelope around every Helsenorge message.

Reads and writes MsgInfo (Type, GenDate, MsgId, Ack, ConversationRef, Sender,
Receiver, Patient) and splits the Documents into XML payloads and base64
attachments. The payloads themselves are read and written by their own
modules.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

from lxml import etree
from pydantic import ValidationError

from digidialog.domain.attachments import Attachment
from digidialog.domain.national_id import is_d_number
from digidialog.domain.timezone import OSLO, to_oslo
from digidialog.errors import SchemaViolation
from digidialog.helsenorge.message import Conversation, Party, Patient
from digidialog.helsenorge.names import (
    BASE64,
    MSGHEAD,
    MSGHEAD_MIG,
    ORG_ID_TYPE,
    PERSON_ID_TYPE,
    coded,
    q,
)
from digidialog.xml.text import leaf
from digidialog.xml.tree import (
    first_children,
    required,
    where,
)

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
    """An xs:dateTime as an instant in UTC; without an offset it is Oslo time."""
    try:
        value = datetime.fromisoformat(raw.strip())
        return (value.replace(tzinfo=OSLO) if value.tzinfo is None else value).astimezone(UTC)
    except ValueError:
        raise SchemaViolation("not a valid timestamp", location=location) from None
    except OverflowError:  # year 1 east of UTC, or year 9999 west of it
        raise SchemaViolation("timestamp out of range", location=location) from None


def format_timestamp(value: datetime) -> str:
    """An instant on the Oslo clock with its offset."""
    return to_oslo(value).isoformat()


# ---------------------------------------------------------------- decoding


_MSGHEAD, _MSGINFO, _DOCUMENT = m("MsgHead"), m("MsgInfo"), m("Document")
_ORGANISATION, _PROFESSIONAL = m("Organisation"), m("HealthcareProfessional")
_TYPE, _GEN_DATE, _MSG_ID, _ACK, _CONVERSATION_REF, _SENDER, _RECEIVER, _PATIENT = (
    m("Type"), m("GenDate"), m("MsgId"), m("Ack"), m("ConversationRef"), m("Sender"),
    m("Receiver"), m("Patient"),
)
_REF_TO_PARENT, _REF_TO_CONVERSATION = m("RefToParent"), m("RefToConversation")
_CONTENT_DESCRIPTION, _REF_DOC, _MSG_TYPE, _CONTENT, _DESCRIPTION, _MIME_TYPE = (
    m("ContentDescription"), m("RefDoc"), m("MsgType"), m("Content"), m("Description"),
    m("MimeType"),
)
_BASE64_CONTAINER = q(BASE64, "Base64Container")
_IDENT, _ORG_NAME = m("Ident"), m("OrganisationName")
_GIVEN, _MIDDLE, _FAMILY = m("GivenName"), m("MiddleName"), m("FamilyName")
_NAME_PARTS = frozenset({_ORG_NAME, _GIVEN, _MIDDLE, _FAMILY})
_LEVELS = frozenset({_ORGANISATION, _PROFESSIONAL})
# The readers below take each element's children in one pass (first_children) rather
# than one look-up per name: a message holds some sixty elements, and at a few
# microseconds a look-up the envelope alone would cost more than validating it.


def read_envelope(root: etree._Element) -> Envelope:
    """Read MsgInfo and the Documents of a MsgHead root element.

    The schema has been checked already; the look-ups still refuse a missing
    element by name, since a profile can be stricter than the schema.
    """
    if root.tag != _MSGHEAD:
        raise SchemaViolation(
            f"root element is {etree.QName(root).localname} in another namespace, not MsgHead 1.2",
            location="line 1",
        )
    info_element = root[0] if len(root) else None
    if info_element is None or info_element.tag != _MSGINFO:
        raise SchemaViolation("missing MsgInfo", location=where(root))
    info = first_children(info_element)
    type_element = required(info, _TYPE, info_element)
    ack_element = info.get(_ACK)
    conversation = None
    ref = info.get(_CONVERSATION_REF)
    if ref is not None:
        parts = first_children(ref)
        conversation = Conversation(
            parent=_text(required(parts, _REF_TO_PARENT, ref)),
            root=_text(required(parts, _REF_TO_CONVERSATION, ref)),
        )
    patient_element = info.get(_PATIENT)
    envelope = Envelope(
        type_value=(type_element.get("V") or "").strip(),
        type_display=type_element.get("DN"),
        msg_id=_text(required(info, _MSG_ID, info_element)),
        generated_at=parse_timestamp(_text(required(info, _GEN_DATE, info_element)),
                                     "MsgInfo/GenDate"),
        ack=ack_element is not None and ack_element.get("V") == "J",
        conversation=conversation,
        sender=read_party(_organisation_of(required(info, _SENDER, info_element))),
        receiver=read_party(_organisation_of(required(info, _RECEIVER, info_element))),
        patient=None if patient_element is None else read_patient(patient_element, _M),
    )
    for document in root:
        if document.tag == _DOCUMENT:
            _read_document(document, envelope)
    return envelope


def _organisation_of(side: etree._Element) -> etree._Element:
    # Sender and Receiver hold exactly one Organisation (the schema says so).
    organisation = side[0] if len(side) else None
    if organisation is None or organisation.tag != _ORGANISATION:
        raise SchemaViolation("missing Organisation", location=where(side))
    return organisation


def _text(element: etree._Element) -> str:
    value = (element.text or "").strip()
    if not value:
        raise SchemaViolation(f"{etree.QName(element).localname} is empty", location=where(element))
    return value


def _read_document(document: etree._Element, envelope: Envelope) -> None:
    parts = first_children(document)
    ref_doc = required(parts, _REF_DOC, document)
    ref_parts = first_children(ref_doc)
    kind = required(ref_parts, _MSG_TYPE, ref_doc).get("V")
    content = ref_parts.get(_CONTENT)
    if content is None:
        return
    own_description = ref_parts.get(_DESCRIPTION)
    description_element = parts.get(_CONTENT_DESCRIPTION)
    if description_element is None or not description_element.text:
        description_element = own_description
    description = None if description_element is None else (description_element.text or "")
    if kind == "A":
        container = next((c for c in content if c.tag == _BASE64_CONTAINER), None)
        if container is None:
            raise SchemaViolation("attachment without Base64Container", location=where(content))
        try:
            data = base64.b64decode(container.text or "", validate=False)
        except ValueError:
            raise SchemaViolation("attachment is not base64", location=where(container)) from None
        mime_type = ref_parts.get(_MIME_TYPE)
        envelope.attachments.append(
            Attachment(
                mime_type=(None if mime_type is None else mime_type.text)
                or "application/octet-stream",
                description=None if own_description is None else (own_description.text or ""),
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
    her_ids: list[str | None] = []
    names: list[str] = []
    org_numbers: list[str | None] = []
    level: etree._Element | None = organisation
    while level is not None:
        her, org, name, inner = _read_level(level, first=not names)
        her_ids.append(her)
        org_numbers.append(org)
        names.append(name)
        level = inner
    try:
        return Party(
            her_ids=tuple(her_ids),
            names=tuple(names),
            org_numbers=tuple(org_numbers) if any(org_numbers) else (),
        )
    except ValidationError as error:
        raise SchemaViolation(_first_error(error), location=where(organisation)) from None


def _read_level(
    level: etree._Element, *, first: bool
) -> tuple[str | None, str | None, str, etree._Element | None]:
    """HER-id, organisation number, name and the next level of one organisation level."""
    inner = None
    her = org = None
    names: dict[str, str | None] = {}
    for element in level:
        tag = element.tag
        if tag == _IDENT:
            kind, value = _ident(element, _IDENT_PARTS_MSGHEAD)
            if kind == "HER" and her is None:
                her = value
            elif kind == "ENH" and org is None:
                org = value
        elif tag in _NAME_PARTS:
            names[tag] = element.text
        elif tag in _LEVELS and inner is None and first:
            inner = element
    if level.tag == _PROFESSIONAL:
        parts = (names.get(_GIVEN), names.get(_MIDDLE), names.get(_FAMILY))
        name = " ".join(p.strip() for p in parts if p and p.strip())
    else:
        name = (names.get(_ORG_NAME) or "").strip()
    if not name:
        raise SchemaViolation("missing OrganisationName", location=where(level))
    return her, org, name, inner


@cache
def _ident_parts(namespace: str) -> tuple[str, str]:
    """The Id and TypeId tags of an Ident in ``namespace``, spelled out once."""
    return q(namespace, "Id"), q(namespace, "TypeId")


_IDENT_PARTS_MSGHEAD = _ident_parts(_M)


def _ident(ident: etree._Element, parts: tuple[str, str]) -> tuple[str | None, str]:
    id_tag, type_tag = parts
    kind = value = None
    for element in ident:
        tag = element.tag
        if tag == id_tag:
            value = (element.text or "").strip()
        elif tag == type_tag:
            kind = element.get("V")
    return kind, value or ""


@cache
def _person_tags(namespace: str) -> tuple[str, str, str, str]:
    """The Ident, GivenName, MiddleName and FamilyName tags in ``namespace``."""
    return (q(namespace, "Ident"), q(namespace, "GivenName"), q(namespace, "MiddleName"),
            q(namespace, "FamilyName"))


def read_patient(
    element: etree._Element, namespace: str, model: type[Patient] = Patient, **extra: object
) -> Patient:
    """A person with names and one FNR/D-number ident (MsgHead Patient or fk1 Person).

    ``model`` and ``extra`` build a subclass in the same validation (a
    Representative with its relation).
    """
    ident_tag, given_tag, middle_tag, family_tag = _person_tags(namespace)
    found = first_children(element)
    ident = required(found, ident_tag, element)
    given, family = required(found, given_tag, element), required(found, family_tag, element)
    middle = found.get(middle_tag)
    try:
        return model(
            id=_ident(ident, _ident_parts(namespace))[1],
            given_name=_text(given),
            family_name=_text(family),
            middle_name=None if middle is None else (middle.text or "").strip() or None,
            **extra,
        )
    except ValidationError as error:
        raise SchemaViolation(_first_error(error), location=where(element)) from None


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    field_name = ".".join(str(p) for p in first["loc"]) or "value"
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{field_name}: {message}"


# ---------------------------------------------------------------- encoding
# Writers return text (see digidialog.xml.text); codec.encode parses the whole message once
# to validate it.


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
        _ACK_YES if ack else _ACK_NO,
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
            opened.append(_ident_text(org, "ENH"))
        if her_id is not None:
            opened.append(_ident_text(her_id, "HER"))
    return "".join(opened) + "</Organisation>" * len(party.names)


_ACK_YES, _ACK_NO = coded("Ack", "J", dn="Ja"), coded("Ack", "N", dn="Nei")
_ORG_ID_TYPES = {
    "HER": coded("TypeId", "HER", ORG_ID_TYPE, "HER-id"),
    "ENH": coded("TypeId", "ENH", ORG_ID_TYPE, "Organisasjonsnummeret i Enhetsregister"),
}


def _ident_text(value: str, kind: str) -> str:
    return f"<Ident>{leaf('Id', value)}{_ORG_ID_TYPES[kind]}</Ident>"


@cache
def _person_id_type(prefix: str, d_number: bool) -> str:
    if d_number:
        return coded(f"{prefix}TypeId", "DNR", PERSON_ID_TYPE, "D-nummer")
    return coded(f"{prefix}TypeId", "FNR", PERSON_ID_TYPE, "Fødselsnummer")


def person_text(person: Patient, prefix: str) -> str:
    """Names and the national id, in the element order MsgHead and fk1 share.

    ``prefix`` is the namespace prefix with its colon (``"fk1:"``), or ``""``.
    """
    middle = leaf(f"{prefix}MiddleName", person.middle_name) if person.middle_name else ""
    return (
        f"{leaf(f'{prefix}FamilyName', person.family_name)}{middle}"
        f"{leaf(f'{prefix}GivenName', person.given_name)}"
        f"<{prefix}Ident>{leaf(f'{prefix}Id', person.id)}"
        + _person_id_type(prefix, is_d_number(person.id))
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
