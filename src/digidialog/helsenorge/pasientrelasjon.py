"""Pasientrelasjon: who acts for the patient, and by which right (code system 7611)."""

from __future__ import annotations

from typing import cast

from lxml import etree

from digidialog.domain import Relation
from digidialog.errors import SchemaViolation
from digidialog.helsenorge.message import Representative
from digidialog.helsenorge.msghead import person_text, read_patient
from digidialog.helsenorge.names import FK1, PASIENTRELASJON, REPRESENTATION_ROLE, coded, q
from digidialog.xml.tree import first_children, required, where


def read_pasientrelasjon(root: etree._Element) -> Representative:
    """The acting person and the relation."""
    found = first_children(root)
    relation_element = required(found, _RELASJON, root)
    code = (relation_element.get("V") or "").strip()
    relation = _RELATIONS.get(code)
    if relation is None:
        raise SchemaViolation(
            f"relation {code[:8]!r} is not one of FU, FO, VE (code system 7611)",
            location=where(relation_element),
        )
    person = required(found, _PERSON, root)
    return cast(Representative, read_patient(person, FK1, Representative, relation=relation))


_RELASJON, _PERSON = q(PASIENTRELASJON, "Relasjon"), q(PASIENTRELASJON, "Person")
_RELATIONS = {relation.value: relation for relation in Relation}


def pasientrelasjon_text(representative: Representative) -> str:
    """A Pasientrelasjon document for ``representative``, as text."""
    relation = representative.relation
    return (
        f'<pr:Pasientrelasjon xmlns:pr="{PASIENTRELASJON}" xmlns:fk1="{FK1}">'
        f"<pr:Person>{person_text(representative, 'fk1:')}</pr:Person>"
        + coded("pr:Relasjon", relation.value, REPRESENTATION_ROLE, relation.display_name)
        + "</pr:Pasientrelasjon>"
    )
