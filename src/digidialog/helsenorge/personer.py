"""Personer: the list of citizens in a Digitalbruker check and its answer."""

from __future__ import annotations

from lxml import etree

from digidialog.helsenorge.message import Patient
from digidialog.helsenorge.msghead import person_text, read_patient
from digidialog.helsenorge.names import FK1, PERSONER, q


def read_personer(root: etree._Element) -> tuple[Patient, ...]:
    """Every person in the list, in order."""
    return tuple(read_patient(p, FK1) for p in root.iterfind(q(PERSONER, "Person")))


def personer_text(persons: tuple[Patient, ...]) -> str:
    """A Personer document listing ``persons``, as text."""
    listed = "".join(f"<Person>{person_text(p, 'fk1:')}</Person>" for p in persons)
    return f'<Personer xmlns="{PERSONER}" xmlns:fk1="{FK1}">{listed}</Personer>'
