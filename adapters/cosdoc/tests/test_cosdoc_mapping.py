"""CosDoc fields to the domain: statuses, local times around DST, and the trusted fast path."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from lxml import etree

from digidialog.domain import Appointment, AppointmentStatus, CancellationReason
from digidialog.domain.timezone import OSLO
from digidialog_cosdoc.appointments import AVTALE, UnusableRecord, read_avtale
from digidialog_cosdoc.documents import Field, build, read
from digidialog_cosdoc.localtime import local_fields
from digidialog_cosdoc.mock.answers import avtale_fields
from digidialog_cosdoc.mock.state import Avtale
from digidialog_cosdoc.wire import Kommando

NAMES = {"101": "Hjemmesykepleie", "102": "Praktisk bistand"}


def _element(**changes: object) -> etree._Element:
    avtale = Avtale(nr=5000001, pasient_nr=100001, tjeneste_id=101, status="T",
                    dato=date(2026, 3, 2), fra_kl="08:00", til_kl="08:30",
                    ansatt="Kari Sykepleier", tekst="Sårstell")
    for name, value in changes.items():
        setattr(avtale, name, value)
    root = read(build(Kommando.AVTALER, [("Avtale", avtale_fields(avtale))]), Kommando.AVTALER)
    return root[0]


def _raw(fields: list[Field]) -> etree._Element:
    return read(build(Kommando.AVTALER, [("Avtale", fields)]), Kommando.AVTALER)[0]


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_an_assigned_visit() -> None:
    """T: the booked time in UTC, the one employee, the service's code and name."""
    owner, visit = read_avtale(_element(), NAMES)
    assert owner == 100001
    assert visit.uid == "5000001"
    assert visit.status is AppointmentStatus.ASSIGNED
    assert (visit.start, visit.end) == (_utc(2026, 3, 2, 7, 0), _utc(2026, 3, 2, 7, 30))
    assert visit.employees == ("Kari Sykepleier",)
    assert (visit.service_id, visit.service_name) == ("101", "Hjemmesykepleie")
    assert visit.recurrence is None


@pytest.mark.parametrize(
    ("changes", "check"),
    [
        ({"status": "P", "gjentas": True, "ansatt": None},
         lambda a: a.status is AppointmentStatus.PLANNED and a.recurrence is None
         and a.employees == ()),
        ({"status": "U", "utfort_kl": "08:29:45"},
         lambda a: a.completed_at == _utc(2026, 3, 2, 7, 29, 45)),
        ({"status": "A", "avlyst_av": "P", "ansatt": None},
         lambda a: a.cancellation_reason is CancellationReason.BY_CITIZEN),
        ({"status": "A", "avlyst_av": "T", "ansatt": None},
         lambda a: a.cancellation_reason is CancellationReason.BY_SERVICE),
        ({"status": "A", "avlyst_av": None, "ansatt": None},
         lambda a: a.cancellation_reason is None),
    ],
    ids=["planned occurrence", "done", "cancelled by patient", "cancelled by service",
         "cancelled, nobody named"],
)
def test_statuses(changes: dict[str, object], check: object) -> None:
    """P/T/U/A and their own fields; Gjentas J is an occurrence without a rule."""
    _, visit = read_avtale(_element(**changes), NAMES)
    assert check(visit)  # type: ignore[operator]


def test_fields_that_do_not_belong_to_the_status_are_ignored() -> None:
    """An employee on a cancelled visit or a completion time on an assigned one is dropped."""
    _, visit = read_avtale(_raw([
        ("Nr", 1), ("PasientNr", 2), ("TjenesteId", 101), ("Status", "A"),
        ("Dato", "2026-03-02"), ("FraKl", "08:00"), ("TilKl", "09:00"), ("Gjentas", "N"),
        ("Ansatt", "Ola"), ("Tekst", ""), ("UtfortKl", "08:30:00"), ("AvlystAv", "T"),
    ]), NAMES)
    assert visit.employees == ()
    assert visit.completed_at is None
    assert visit.description is None


def test_a_visit_across_midnight_ends_the_next_day() -> None:
    """TilKl before FraKl: the visit ends on the next day; done after midnight likewise."""
    _, visit = read_avtale(_element(status="U", fra_kl="23:30", til_kl="00:15",
                                    utfort_kl="00:10:00"), NAMES)
    assert visit.end == _utc(2026, 3, 2, 23, 15)
    assert visit.completed_at == _utc(2026, 3, 2, 23, 10)


def test_the_repeated_autumn_hour_is_read_as_its_first_pass() -> None:
    """02:30 on 2026-10-25 happens twice; CosDoc cannot say which: the first (summer time)."""
    _, visit = read_avtale(_element(dato=date(2026, 10, 25), fra_kl="02:30", til_kl="02:45"),
                           NAMES)
    assert visit.start == _utc(2026, 10, 25, 0, 30)
    assert visit.end == _utc(2026, 10, 25, 0, 45)


def test_a_time_in_the_spring_gap_moves_past_it() -> None:
    """02:30 on 2026-03-29 never happens: read as if the clock had not moved, 03:30 CEST."""
    _, visit = read_avtale(_element(dato=date(2026, 3, 29), fra_kl="02:30", til_kl="03:30"),
                           NAMES)
    assert visit.start == datetime(2026, 3, 29, 3, 30, tzinfo=OSLO)
    assert visit.end == datetime(2026, 3, 29, 3, 30, tzinfo=OSLO)


def test_writing_an_instant_uses_the_oslo_wall_clock() -> None:
    """Both passes of 02:30 are written 02:30; a period's end is rounded up to the minute."""
    first = datetime(2026, 10, 25, 2, 30, tzinfo=OSLO)
    second = datetime(2026, 10, 25, 2, 30, tzinfo=OSLO, fold=1)
    assert local_fields(first) == local_fields(second) == ("2026-10-25", "02:30")
    assert local_fields(datetime(2026, 3, 2, 23, 59, 30, tzinfo=OSLO), round_up=True) == (
        "2026-03-03", "00:00")
    assert local_fields(datetime(2026, 3, 2, 8, 0, 59, tzinfo=OSLO)) == ("2026-03-02", "08:00")


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "P", "gjentas": True, "ansatt": None},
        {"status": "T"},
        {"status": "U", "utfort_kl": "08:31:07"},
        {"status": "A", "avlyst_av": "T", "ansatt": None},
        {"status": "T", "tekst": "", "ansatt": None},
        {"status": "T", "fra_kl": "23:50", "til_kl": "00:20"},
        {"status": "T", "dato": date(2026, 10, 25), "fra_kl": "02:10", "til_kl": "02:50"},
        {"status": "T", "tjeneste_id": 999},
    ],
)
def test_trusted_appointments_equal_validated_ones(changes: dict[str, object]) -> None:
    """The fast path builds exactly what pydantic's validation builds from the same values."""
    _, fast = read_avtale(_element(**changes), NAMES)
    validated = Appointment.model_validate(fast.model_dump())
    assert validated == fast
    assert validated.model_dump_json() == fast.model_dump_json()
    assert hash(validated) == hash(fast)
    assert fast.model_fields_set <= set(Appointment.model_fields)


@pytest.mark.parametrize(
    ("field", "value"),
    [("Status", "X"), ("Dato", "02.03.2026"), ("Dato", "20260302"), ("FraKl", "8:00"),
     ("TilKl", "24:00"), ("Gjentas", "Ja"), ("Nr", "abc"), ("PasientNr", ""),
     ("TjenesteId", "HSP"), ("AvlystAv", "Q")],
)
def test_an_unusable_value_names_the_field_not_the_value(field: str, value: str) -> None:
    """A broken record is an UnusableRecord that says where, without repeating the value."""
    fields: list[Field] = [
        ("Nr", "77"), ("PasientNr", "2"), ("TjenesteId", "101"), ("Status", "A"),
        ("Dato", "2026-03-02"), ("FraKl", "08:00"), ("TilKl", "09:00"), ("Gjentas", "N"),
        ("Tekst", "Hos Áilu Ŋuolla"), ("AvlystAv", "T"),
    ]
    fields = [(name, value if name == field else old) for name, old in fields]
    with pytest.raises(UnusableRecord) as caught:
        read_avtale(_raw(fields), NAMES)
    message = str(caught.value)
    assert "Avtale" in message
    assert "Ŋuolla" not in message
    if len(value) > 2:
        assert value not in message


def test_a_missing_field_is_named() -> None:
    """A record without Dato says Dato is missing."""
    with pytest.raises(UnusableRecord, match="Dato is missing"):
        read_avtale(_raw([("Nr", 1), ("PasientNr", 2), ("TjenesteId", 101), ("Status", "T"),
                          ("FraKl", "08:00"), ("TilKl", "09:00"), ("Gjentas", "N"),
                          ("Tekst", "")]), NAMES)


def test_avtale_tag_constant() -> None:
    """The Avtale tag the readers look for is in the document namespace."""
    assert AVTALE == "{urn:cosdoc:dokument:1}Avtale"
