"""Personer: the list of citizens in a Digitalbruker check and its answer."""

from __future__ import annotations

from lxml import etree

from digidialog.helsenorge.message import Patient
from digidialog.helsenorge.msghead import read_patient, write_person
from digidialog.helsenorge.names import FK1, PERSONER, q
from digidialog.helsenorge.xmltree import root_element, sub


def read_personer(root: etree._Element) -> tuple[Patient, ...]:
    """Every person in the list, in order."""
    return tuple(read_patient(p, FK1) for p in root.iterfind(q(PERSONER, "Person")))


def write_personer(persons: tuple[Patient, ...]) -> etree._Element:
    """A Personer document listing ``persons``."""
    root = root_element(q(PERSONER, "Personer"), PERSONER, fk1=FK1)
    for person in persons:
        write_person(sub(root, q(PERSONER, "Person")), person, FK1)
    return root
