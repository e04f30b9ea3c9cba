"""Dialogmelding 1.1: the first Document of every message except TjenesteOversikt.

A request (or anything a side starts) is a ``Foresporsel`` with ``TypeForesp``;
a reply is a ``Notat`` with ``TemaKodet``. Subject and body sit in
``EmneSporsmal``/``Sporsmal`` or ``Tema``/``TekstNotatInnhold``; a body is
either plain text or XHTML wrapped in an XHTML ``div``. The staff member who
wrote a reply is named in ``RollerRelatertNotat`` as Forfatter.

digidialog's convention where the national profile is silent: an interim
answer (one that promises a full answer later) is a ``19`` whose
``Notat/Merknad`` reads "Foreløpig svar".
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from lxml import etree

from digidialog.domain import BodyFormat
from digidialog.errors import SchemaViolation
from digidialog.helsenorge.names import DIALOG, NOTE_ROLE, XHTML, YES_NO, coded, q
from digidialog.helsenorge.processes import Slot
from digidialog.xml import safe
from digidialog.xml.text import leaf
from digidialog.xml.tree import child, first_children, required, text_of, where

INTERIM_REMARK = "Foreløpig svar"
_XHTML_DIV = q(XHTML, "div")


def d(local: str) -> str:
    """A Dialogmelding element name."""
    return q(DIALOG, local)


@dataclass(slots=True)  # not frozen: that makes construction three times dearer
class DialogContent:
    """What a Dialogmelding says, before the process table gives it a meaning."""

    slot: Slot
    code: str
    code_system: str | None = None
    subject: str | None = None
    body: str | None = None
    body_format: BodyFormat = BodyFormat.TEXT
    author: str | None = None
    coded_info: str | None = None
    interim: bool = False


def read_dialogmelding(root: etree._Element) -> DialogContent:
    """Read the first Foresporsel or Notat of a Dialogmelding (a Foresporsel first)."""
    parts = first_children(root)
    for part_tag, layout in _LAYOUTS.items():
        part = parts.get(part_tag)
        if part is None:
            continue
        slot, code_tag, subject_tag, body_tag = layout
        # Each child once, by name: cheaper than a look-up per name on a hot path.
        found = first_children(part)
        code_element = required(found, code_tag, part)
        body, body_format = _read_body(found.get(body_tag))
        subject, coded, remark = found.get(subject_tag), found.get(_CODED), found.get(_REMARK)
        return DialogContent(
            slot=slot,
            code=(code_element.get("V") or "").strip(),
            code_system=code_element.get("S"),
            subject=None if subject is None else subject.text or "",
            body=body,
            body_format=body_format,
            author=_read_author(part) if _ROLES in found else None,
            coded_info=None if coded is None else coded.get("V"),
            interim=remark is not None and (remark.text or "").strip() == INTERIM_REMARK,
        )
    raise SchemaViolation("Dialogmelding has neither Foresporsel nor Notat", location=where(root))


_LAYOUTS = {
    d(slot.value): (slot, d(code), d(subject), d(body))
    for slot, code, subject, body in (
        (Slot.FORESPORSEL, "TypeForesp", "EmneSporsmal", "Sporsmal"),
        (Slot.NOTAT, "TemaKodet", "Tema", "TekstNotatInnhold"),
    )
}
_CODED, _REMARK, _ROLES = d("KodetOpplysning"), d("Merknad"), d("RollerRelatertNotat")


def _read_body(element: etree._Element | None) -> tuple[str | None, BodyFormat]:
    if element is None:
        return None, BodyFormat.TEXT
    markup = [c for c in element if isinstance(c.tag, str)]
    if not markup:
        return element.text or "", BodyFormat.TEXT
    if len(markup) != 1 or markup[0].tag != _XHTML_DIV:
        raise SchemaViolation(
            "a formatted body must be one XHTML div", location=where(element)
        )
    div = copy.deepcopy(markup[0])
    div.tail = None
    etree.cleanup_namespaces(div)
    return etree.tostring(div, encoding="unicode"), BodyFormat.XHTML


def _read_author(part: etree._Element) -> str | None:
    for role in part.iterfind(d("RollerRelatertNotat")):
        role_code = child(role, d("RolleNotat"))
        person = child(role, d("Person"))
        if person is None:
            person = child(role, d("HealthcareProfessional"))
        if person is None or (role_code is not None and role_code.get("V") != "1"):
            continue
        names = (text_of(person, d(n)) for n in ("GivenName", "MiddleName", "FamilyName"))
        name = " ".join(n.strip() for n in names if n and n.strip())
        if name:
            return name
    return None


def dialogmelding_text(
    content: DialogContent, display_name: str, *, coded_display: str | None = None
) -> str:
    """A Dialogmelding holding one Foresporsel or Notat, as text."""
    if content.slot is Slot.FORESPORSEL:
        name = "Foresporsel"
        parts = [coded("TypeForesp", content.code, content.code_system or "", display_name)]
        if content.subject is not None:
            parts.append(leaf("EmneSporsmal", content.subject))
        parts.append(_body_text("Sporsmal", content))
        if content.coded_info is not None:
            parts.append(coded("KodetOpplysning", content.coded_info, YES_NO,
                               coded_display or ("Ja" if content.coded_info == "1" else "Nei")))
    else:
        name = "Notat"
        parts = [coded("TemaKodet", content.code, content.code_system or "", display_name)]
        if content.subject is not None:
            parts.append(leaf("Tema", content.subject))
        parts.append(_body_text("TekstNotatInnhold", content))
        if content.interim:
            parts.append(leaf("Merknad", INTERIM_REMARK))
    if content.author:
        parts.append(_author_text(content.author))
    return f'<Dialogmelding xmlns="{DIALOG}"><{name}>{"".join(parts)}</{name}></Dialogmelding>'


def _body_text(tag: str, content: DialogContent) -> str:
    if content.body is None:
        return ""
    if content.body_format is BodyFormat.TEXT:
        return leaf(tag, content.body)
    div = safe.parse(content.body.encode("utf-8"))
    if div.tag != _XHTML_DIV:
        raise SchemaViolation(
            'an XHTML body is one <div xmlns="http://www.w3.org/1999/xhtml">', location="body"
        )
    return f"<{tag}>{etree.tostring(div, encoding='unicode')}</{tag}>"


def _author_text(author: str) -> str:
    given, _, family = author.strip().rpartition(" ")
    names = (
        leaf("GivenName", given) + leaf("FamilyName", family) if given
        else leaf("GivenName", family)
    )
    return (
        f"<RollerRelatertNotat>{coded('RolleNotat', '1', NOTE_ROLE, 'Forfatter')}"
        f"<Person>{names}</Person></RollerRelatertNotat>"
    )
