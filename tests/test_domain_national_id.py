"""Fødselsnummer and D-number validation."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import BaseModel, ValidationError

from digidialog.domain import IdKind, NationalId, inspect_national_id


class _Holder(BaseModel):
    citizen_id: NationalId


def test_valid_fodselsnummer_reveals_birth_date() -> None:
    """A valid fødselsnummer is accepted and tells its birth date."""
    facts = inspect_national_id("13116900216")
    assert facts.kind is IdKind.FNR
    assert facts.birth_date == date(1969, 11, 13)
    assert not facts.synthetic


def test_d_number_adds_forty_to_the_day() -> None:
    """A D-number (day + 40) with valid check digits is accepted as DNR."""
    facts = inspect_national_id("41018036736")
    assert facts.kind is IdKind.DNR
    assert facts.birth_date == date(1980, 1, 1)


def test_century_from_individual_number() -> None:
    """Individual numbers 500-999 with a year below 40 belong to the 2000s."""
    assert inspect_national_id("01010750160").birth_date == date(2007, 1, 1)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("13116900217", "second check digit"),
        ("13116900206", "first check digit"),
        ("1311690021", "exactly 11 digits"),
        ("1311690021a", "exactly 11 digits"),
        ("١٣١١٦٩٠٠٢١٦", "exactly 11 digits"),  # Arabic-Indic digits are digits, not ASCII
        ("32136900216", "check digit"),
    ],
)
def test_wrong_ids_are_refused_with_a_reason(value: str, message: str) -> None:
    """Each kind of wrong id gets a specific error."""
    with pytest.raises(ValueError, match=message):
        inspect_national_id(value)


def test_error_names_the_field_and_hides_the_number() -> None:
    """In a model, the error names the field and never repeats the number in its message."""
    with pytest.raises(ValidationError) as caught:
        _Holder(citizen_id="13116900217")
    (error,) = caught.value.errors()
    assert error["loc"] == ("citizen_id",)
    assert "13116900217" not in error["msg"]
