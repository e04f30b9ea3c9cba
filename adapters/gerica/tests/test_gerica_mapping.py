"""Gerica answers to domain objects: the lean Avtale reader and the rest of the mapping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from pydantic import ValidationError

from digidialog import modelbuild
from digidialog.domain import (
    Appointment,
    AppointmentStatus,
    CancellationReason,
    Frequency,
    Recurrence,
)
from digidialog.errors import MalformedReply
from digidialog_gerica import appointments, mapping
from digidialog_gerica.mock import render
from digidialog_gerica.mock.records import Visit
from digidialog_gerica.wire import NAMESPACE, NS, parse_instant_utc

CITIZEN = "13116900216"
NAMES = {"HSP": "Hjemmesykepleie"}


def _avtale(**children: str | None) -> etree._Element:
    """An Avtale element; children in the contract's order, None leaves one out."""
    values: dict[str, str | None] = {
        "AvtaleId": "A1", "Fodselsnummer": CITIZEN, "TjenesteKode": "HSP", "Status": "TILDELT",
        "Start": "2026-03-02T08:00:00+01:00", "Slutt": "2026-03-02T08:30:00+01:00",
        "Gjentakelse": None, "Ansatt": "Kari Sykepleier", "Beskrivelse": "Tilsyn",
        "UtfortTidspunkt": None, "AvlystAv": None, "Endret": "2026-02-27T10:00:00+01:00",
    }
    values.update(children)
    element = etree.Element(NS + "Avtale", nsmap={"g": NAMESPACE})
    for name in appointments.AVTALE_CHILDREN:
        value = values[name]
        if value is None:
            continue
        child = etree.SubElement(element, NS + name)
        if name == "Ansatt":
            etree.SubElement(child, NS + "Navn").text = value
        else:
            child.text = value
    return element


def _read(element: etree._Element) -> Appointment:
    (appointment,) = appointments.read_avtaler([element], NAMES)
    return appointment


def test_an_assigned_visit() -> None:
    """Every field lands where the domain wants it, instants in UTC."""
    got = _read(_avtale())
    assert got.uid == "A1"
    assert got.status is AppointmentStatus.ASSIGNED
    assert got.start == datetime(2026, 3, 2, 7, tzinfo=UTC)
    assert got.start.tzinfo is UTC and got.end.tzinfo is UTC
    assert got.employees == ("Kari Sykepleier",)
    assert (got.service_id, got.service_name, got.description) == ("HSP", "Hjemmesykepleie",
                                                                   "Tilsyn")


@pytest.mark.parametrize(
    ("status", "extra", "check"),
    [
        ("PLANLAGT", {"Ansatt": None, "Gjentakelse": "FREQ=WEEKLY;BYDAY=MO"},
         lambda a: a.recurrence == Recurrence(frequency=Frequency.WEEKLY, by_day=("MO",))),
        ("UTFORT", {"UtfortTidspunkt": "2026-03-02T08:32:00+01:00"},
         lambda a: a.completed_at == datetime(2026, 3, 2, 7, 32, tzinfo=UTC)),
        ("AVLYST", {"Ansatt": None, "AvlystAv": "BRUKER"},
         lambda a: a.cancellation_reason is CancellationReason.BY_CITIZEN),
        ("AVLYST", {"Ansatt": None, "AvlystAv": "TJENESTE"},
         lambda a: a.cancellation_reason is CancellationReason.BY_SERVICE),
    ],
)
def test_each_status_with_its_own_fields(status: str, extra: dict[str, str | None],
                                         check: object) -> None:
    """PLANLAGT recurs, UTFORT has its time, AVLYST says by whom."""
    got = _read(_avtale(Status=status, **extra))
    assert callable(check) and check(got)


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-10-25T02:30:00+02:00", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        ("2026-10-25T02:30:00+01:00", datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),
        ("2026-03-29T03:00:00+02:00", datetime(2026, 3, 29, 1, tzinfo=UTC)),
        ("2026-03-02T07:00:00Z", datetime(2026, 3, 2, 7, tzinfo=UTC)),
        ("2026-03-02T02:00:00-05:00", datetime(2026, 3, 2, 7, tzinfo=UTC)),
        ("2026-03-02T08:00:00.250+01:00", datetime(2026, 3, 2, 7, 0, 0, 250000, tzinfo=UTC)),
        ("  2026-03-02T08:00:00+01:00\n", datetime(2026, 3, 2, 7, tzinfo=UTC)),
    ],
)
def test_every_offset_form_gives_the_same_instant(text: str, utc: datetime) -> None:
    """Both passes of the autumn hour, after the spring gap, Z, negative, fractions, spaces."""
    assert parse_instant_utc(text, "x") == utc
    got = _read(_avtale(Start=text, Slutt="2026-12-31T00:00:00+01:00"))
    assert got.start == utc and got.start.tzinfo is UTC


@pytest.mark.parametrize(
    "children",
    [
        {"Start": "2026-03-02T08:00:00"},  # no offset
        {"Start": "i morgen"},
        {"Start": None},
        {"Slutt": "2026-03-02T07:00:00+01:00"},  # ends before it starts
        {"Status": "UKJENT"},
        {"Status": None},
        {"AvtaleId": None},
        {"AvtaleId": "x" * 256},
        {"Fodselsnummer": None},
        {"TjenesteKode": ""},
        {"Gjentakelse": "FREQ=DAILY"},  # only PLANLAGT recurs
        {"Status": "PLANLAGT", "Ansatt": None, "Gjentakelse": "FREQ=MONTHLY"},
        {"AvlystAv": "BRUKER"},  # only AVLYST
        {"Status": "AVLYST", "AvlystAv": "NABO"},
        {"UtfortTidspunkt": "2026-03-02T08:32:00+01:00"},  # only UTFORT
    ],
)
def test_unusable_visits_are_malformed_replies(children: dict[str, str | None]) -> None:
    """A time, status, id or rule that would mislead the citizen stops the read."""
    with pytest.raises(MalformedReply) as caught:
        _read(_avtale(**children))
    assert CITIZEN not in str(caught.value)
    assert "i morgen" not in str(caught.value)


def test_whitespace_around_codes_is_legal() -> None:
    """xs:token values may carry whitespace; they still mean what they say."""
    got = _read(_avtale(Status=" AVLYST\n", Ansatt=None, AvlystAv=" TJENESTE "))
    assert got.cancellation_reason is CancellationReason.BY_SERVICE


def test_elements_a_newer_gerica_adds_are_ignored_without_confusion() -> None:
    """Unknown elements are skipped, even one holding a Navn that is not the employee's."""
    element = _avtale()
    extra = etree.SubElement(element, NS + "Kontaktperson")
    etree.SubElement(extra, NS + "Navn").text = "Nabo Naboesen"
    etree.SubElement(element, "{urn:other}Start").text = "not a time"
    got = _read(element)
    assert got.employees == ("Kari Sykepleier",)
    assert got.start == datetime(2026, 3, 2, 7, tzinfo=UTC)


def test_a_visit_of_another_citizen_is_refused() -> None:
    """A calendar must never show someone else's visit."""
    with pytest.raises(MalformedReply):
        appointments.read_avtaler([_avtale()], NAMES, citizen_id="15076500565")


def test_page_numbers_are_read_wherever_they_are() -> None:
    """Side and AntallSider close the answer; a different order is still read."""
    svar = render.answer("HentAvtaler")
    render.add(svar, "Side", "2")
    svar.append(_avtale())
    render.add(svar, "AntallSider", "3")
    appointments, page, pages = mapping.read_appointments_page(svar, NAMES)
    assert (len(appointments), page, pages) == (1, 2, 3)


# ------------------------------------------------------------------ fast path == pydantic

OFFSETS = st.sampled_from([timezone(timedelta(hours=1)), timezone(timedelta(hours=2)), UTC,
                           timezone(timedelta(hours=-3, minutes=-30))])
visits = st.builds(
    lambda status, start, minutes, offset, rule, employee, text, by: Visit(
        avtale_id=f"A-{start.timestamp():.0f}", citizen_id=CITIZEN, service_code="HSP",
        status=status, start=start.astimezone(offset),
        end=(start + timedelta(minutes=minutes)).astimezone(offset), description=text,
        changed=start, rule=rule if status == "PLANLAGT" else None,
        employee=employee if status in ("TILDELT", "UTFORT") else None,
        done_at=start + timedelta(minutes=minutes + 1) if status == "UTFORT" else None,
        cancelled_by=by if status == "AVLYST" else None,
    ),
    st.sampled_from(["PLANLAGT", "TILDELT", "UTFORT", "AVLYST"]),
    st.datetimes(datetime(2024, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC)),
    st.integers(0, 600),
    OFFSETS,
    st.sampled_from([None, "FREQ=DAILY", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR;UNTIL=20301231"]),
    st.sampled_from([None, "Kari Sykepleier", "Ánte Ŋuolla"]),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40),
    st.sampled_from(["BRUKER", "TJENESTE"]),
)


@settings(max_examples=300)
@given(visits)
def test_the_lean_reader_builds_what_pydantic_validation_builds(visit: Visit) -> None:
    """For any valid Avtale, the fast construction equals a fully validated Appointment."""
    assert modelbuild.PLAIN, "the specialised construction should apply to this pydantic"
    svar = render.answer("HentAvtaler")
    render.avtale(svar, visit)
    element = etree.fromstring(etree.tostring(svar))[0]
    fast = _read(element)
    validated = Appointment.model_validate(fast.model_dump())
    assert fast == validated
    assert fast.model_dump(mode="json") == validated.model_dump(mode="json")
    assert fast.start.tzinfo is UTC and fast.end.tzinfo is UTC
    assert list(fast.__dict__) == list(Appointment.model_fields)
    direct = Appointment(
        uid=fast.uid, status=fast.status, start=visit.start, end=visit.end,
        service_id="HSP", service_name="Hjemmesykepleie", employees=fast.employees,
        recurrence=fast.recurrence, cancellation_reason=fast.cancellation_reason,
        description=fast.description,
        completed_at=visit.done_at if visit.status == "UTFORT" else None,
    )
    assert direct == fast
    assert direct.model_fields_set == fast.model_fields_set


def test_the_lean_reader_refuses_what_pydantic_refuses() -> None:
    """Each model rule the reader checks itself is one pydantic would enforce too."""
    start = datetime(2026, 3, 2, 7, tzinfo=UTC)
    cases = [
        {"uid": "x" * 256},
        {"end": start - timedelta(minutes=1)},
        {"recurrence": Recurrence(frequency=Frequency.DAILY)},
        {"cancellation_reason": CancellationReason.BY_SERVICE},
        {"completed_at": start},
    ]
    for change in cases:
        fields = {"uid": "A1", "status": AppointmentStatus.ASSIGNED, "start": start,
                  "end": start + timedelta(minutes=30)} | change
        with pytest.raises(ValidationError):
            Appointment(**fields)
        with pytest.raises(MalformedReply, match="Gerica sent a visit the domain refuses"):
            modelbuild.validated(fields, "Gerica")


def test_fast_construction_is_shared_nowhere_it_matters() -> None:
    """Copies made by pydantic do not touch the shared model_fields_set."""
    first = _read(_avtale())
    copy = first.model_copy(update={"description": "Endret"})
    assert copy.model_fields_set >= {"description"}
    assert _read(_avtale()).model_fields_set == appointments.PASSED
