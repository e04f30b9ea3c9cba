"""The one Oslo wall-clock conversion, and appointments built without validating twice.

The domain converts Oslo wall-clock times in one place
(``from_oslo_wall_clock`` and its text form, which the vendors that speak
local time use); ``digidialog.modelbuild`` builds appointments for every
reader that skips pydantic's validation, checking the model's rules through
the domain's own ``broken_appointment_rule``. These tests pin both against
the model and the zone database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from digidialog import modelbuild
from digidialog.domain import (
    Appointment,
    AppointmentStatus,
    CancellationReason,
    Frequency,
    Recurrence,
    Weekday,
)
from digidialog.domain.timezone import (
    OSLO,
    from_oslo_wall_clock,
    from_oslo_wall_clock_text,
)
from digidialog.errors import MalformedReply

START = datetime(2026, 3, 2, 7, tzinfo=UTC)


# ------------------------------------------------------------ the wall clock


def test_a_skipped_time_is_refused_or_shifted_past_the_gap() -> None:
    """02:30 on 2026-03-29 never happens: refused, or (shift_skipped) read on the winter
    clock, which is 03:30 summer time."""
    gap = datetime(2026, 3, 29, 2, 30)  # a wall-clock time, on purpose naive
    with pytest.raises(ValueError, match="skipped"):
        from_oslo_wall_clock(gap)
    shifted = from_oslo_wall_clock(gap, shift_skipped=True)
    assert shifted == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert shifted.astimezone(OSLO).hour == 3


def test_the_repeated_hour_is_read_by_pass() -> None:
    """02:30 on 2026-10-25 happens twice; the first pass is the default."""
    fold = datetime(2026, 10, 25, 2, 30)  # a wall-clock time, on purpose naive
    assert from_oslo_wall_clock(fold) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    second = from_oslo_wall_clock(fold, first_occurrence=False)
    assert second == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize("text", [
    "2026-03-02T08:15", "2026-03-02T08:15:00", "2026-10-25T02:30:00", "2026-03-29T03:00",
    "2026-07-01T12:00:00.250",
])
def test_the_text_form_is_the_same_conversion(text: str) -> None:
    """Text and datetime give the same instant, in UTC, for both passes and flags."""
    local = datetime.fromisoformat(text)
    for first in (True, False):
        expected = from_oslo_wall_clock(local, first_occurrence=first)
        got = from_oslo_wall_clock_text(text, first)
        assert got == expected
        assert got.tzinfo is UTC


@pytest.mark.parametrize(("text", "reason"), [
    ("2026-03-02T08:15+01:00", "offset"),
    ("2026-03-02T08:15Z", "offset"),
    ("tomorrow 08:15", "not an ISO 8601"),
    ("2026-03-29T02:30", "skipped"),
])
def test_the_text_form_refuses_without_quoting(text: str, reason: str) -> None:
    """An offset, nonsense or a skipped time is a ValueError that names no value."""
    with pytest.raises(ValueError, match=reason) as caught:
        from_oslo_wall_clock_text(text)
    assert text not in str(caught.value)


# ------------------------------------------------------------ building appointments


def _values(**changes: object) -> dict[str, object]:
    values: dict[str, object] = dict.fromkeys(modelbuild.FIELDS)
    values.update(uid="A1", status=AppointmentStatus.ASSIGNED, start=START,
                  end=START + timedelta(minutes=30), employees=())
    values.update(changes)
    return values


BROKEN = [
    pytest.param({"uid": ""}, "uid must be 1 to 255", id="empty uid"),
    pytest.param({"uid": "x" * 256}, "uid must be 1 to 255", id="long uid"),
    pytest.param({"end": START - timedelta(minutes=1)}, "end is before start", id="end"),
    pytest.param({"recurrence": Recurrence(frequency=Frequency.DAILY)},
                 "only planned visits recur", id="recurrence"),
    pytest.param({"cancellation_reason": CancellationReason.BY_SERVICE},
                 "only cancelled visits", id="reason"),
    pytest.param({"completed_at": START}, "only completed visits", id="completed"),
    pytest.param({"expected_duration": timedelta(0)}, "must be positive", id="duration"),
]


def test_the_fields_are_the_models_and_the_fast_path_applies() -> None:
    """FIELDS and RECURRENCE_FIELDS name every field of the models in order, and this
    pydantic takes the specialised construction."""
    assert tuple(Appointment.model_fields) == modelbuild.FIELDS
    assert tuple(Recurrence.model_fields) == modelbuild.RECURRENCE_FIELDS
    assert modelbuild.PLAIN


@pytest.mark.parametrize(("change", "rule"), BROKEN)
def test_a_broken_rule_is_refused_as_the_model_refuses_it(
    change: dict[str, object], rule: str
) -> None:
    """The builder and the model apply the same rules: each broken one is refused by
    both, the builder naming it (and, for an adapter, the vendor)."""
    values = _values(**change)
    with pytest.raises(ValidationError):
        Appointment.model_validate(values)
    with pytest.raises(modelbuild.RefusedValues, match=rule):
        modelbuild.appointment(values, set(change) | {"uid", "status", "start", "end"})
    with pytest.raises(MalformedReply, match=f"Gerica sent a visit the domain refuses .*{rule}"):
        modelbuild.vendor_appointment(_values(**change), {"uid"}, "Gerica")


def test_built_equals_validated() -> None:
    """What the builder makes is what validation makes: value, fields set, JSON."""
    passed = {"uid", "status", "start", "end", "employees"}
    built = modelbuild.appointment(_values(), passed)
    validated = Appointment.model_validate({k: v for k, v in _values().items() if k in passed})
    assert built == validated
    assert built.model_fields_set == validated.model_fields_set == passed
    assert built.model_dump_json() == validated.model_dump_json()


def _recurrence_values(**changes: object) -> dict[str, object]:
    values: dict[str, object] = {"frequency": Frequency.WEEKLY, "interval": 1,
                                 "by_day": (Weekday.MO,), "until": None, "count": None,
                                 "paused": ()}
    values.update(changes)
    return values


@pytest.mark.parametrize(("change", "rule"), [
    pytest.param({"interval": 0}, "interval must be a whole number 1 to 366", id="interval 0"),
    pytest.param({"interval": 367}, "interval must be", id="interval 367"),
    pytest.param({"count": 0}, "count must be a whole number, at least 1", id="count"),
    pytest.param({"count": 3, "until": date(2026, 6, 30)}, "until or by count", id="both ends"),
    pytest.param({"by_day": (Weekday.MO, Weekday.MO)}, "repeats a weekday", id="weekday twice"),
])
def test_a_broken_recurrence_is_refused_as_the_model_refuses_it(
    change: dict[str, object], rule: str
) -> None:
    """Recurrences too: the builder refuses, naming the rule, what the model refuses."""
    values = _recurrence_values(**change)
    with pytest.raises(ValidationError):
        Recurrence.model_validate(values)
    with pytest.raises(modelbuild.RefusedValues, match=rule):
        modelbuild.recurrence(values, set(modelbuild.RECURRENCE_FIELDS))


def test_built_recurrence_equals_validated() -> None:
    """A built recurrence is the validated one, fields set included."""
    values = _recurrence_values(until=date(2026, 6, 30), paused=(START,))
    built = modelbuild.recurrence(values, set(modelbuild.RECURRENCE_FIELDS))
    validated = Recurrence.model_validate(_recurrence_values(until=date(2026, 6, 30),
                                                             paused=(START,)))
    assert built == validated
    assert built.model_fields_set == validated.model_fields_set
    assert hash(built) == hash(validated)
