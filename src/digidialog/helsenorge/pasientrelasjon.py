"""Pasientrelasjon: who acts for the patient, and by which right (code system 7611)."""

from __future__ import annotations

from lxml import etree

from digidialog.domain import Relation
from digidialog.errors import SchemaViolation
from digidialog.helsenorge.message import Representative
from digidialog.helsenorge.msghead import read_patient, write_person
from digidialog.helsenorge.names import FK1, PASIENTRELASJON, REPRESENTATION_ROLE, q
from digidialog.helsenorge.xmltree import need, sub, where


def read_pasientrelasjon(root: etree._Element) -> Representative:
    """The acting person and the relation."""
    person = read_patient(need(root, q(PASIENTRELASJON, "Person")), FK1)
    relation_element = need(root, q(PASIENTRELASJON, "Relasjon"))
    code = (relation_element.get("V") or "").strip()
    try:
        relation = Relation(code)
    except ValueError:
        raise SchemaViolation(
            f"relation {code[:8]!r} is not one of FU, FO, VE (code system 7611)",
            location=where(relation_element),
        ) from None
    return Representative(**person.model_dump(), relation=relation)


def write_pasientrelasjon(representative: Representative) -> etree._Element:
    """A Pasientrelasjon document for ``representative``."""
    root = etree.Element(q(PASIENTRELASJON, "Pasientrelasjon"),
                         nsmap={"pr": PASIENTRELASJON, "fk1": FK1})
    write_person(sub(root, q(PASIENTRELASJON, "Person")), representative, FK1)
    sub(root, q(PASIENTRELASJON, "Relasjon"), V=representative.relation.value,
        S=REPRESENTATION_ROLE, DN=representative.relation.display_name)
    return root
