"""Norwegian national identity numbers: fødselsnummer and D-number.

Both are eleven digits, DDMMYY + a three-digit individual number + two mod-11
check digits. A D-number (given to people without a fødselsnummer) adds 4 to
the first digit of the day. Synthetic test identities from Skatteetaten's Tenor
test registry add 80 to the month; they pass the same check digits and are
accepted so that the project works against the national test environments.

The public entry point is the :data:`NationalId` type: a ``str`` annotated so
that pydantic validates it wherever a model uses it, naming the field in the
error.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator

_WEIGHTS_K1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_WEIGHTS_K2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


class IdKind(StrEnum):
    """Which kind of national id a number is."""

    FNR = "FNR"
    DNR = "DNR"


@dataclass(frozen=True, slots=True)
class IdFacts:
    """What an id number says about its holder."""

    kind: IdKind
    birth_date: date
    synthetic: bool


def _check_digit(digits: bytes, weights: tuple[int, ...]) -> int | None:
    # ASCII digits, weighted as bytes and corrected by 48 ("0") per weight: int() per
    # character would cost more than the rest of the check, which runs for every id
    # in every message.
    remainder: int = (sum(map(operator.mul, digits, weights)) - 48 * sum(weights)) % 11
    check = 11 - remainder
    if check == 11:
        return 0
    if check == 10:
        return None  # no valid number has this body
    return check


def _century(individual: int, yy: int) -> int | None:
    if individual <= 499:
        return 1900
    if individual <= 749 and yy >= 54:
        return 1800
    if individual >= 900 and yy >= 40:
        return 1900
    if yy <= 39:
        return 2000
    return None


def inspect_national_id(value: str) -> IdFacts:
    """Check ``value`` and tell its kind and birth date.

    Raises ``ValueError`` with a message that never repeats the number itself,
    since error messages end up in logs.
    """
    kind, born, synthetic = _read(value)
    return IdFacts(kind=kind, birth_date=born, synthetic=synthetic)


def _read(value: str) -> tuple[IdKind, date, bool]:
    if len(value) != 11 or not value.isascii() or not value.isdigit():
        raise ValueError("a national id is exactly 11 digits")
    digits = value.encode("ascii")
    k1 = _check_digit(digits[:9], _WEIGHTS_K1)
    if k1 is None or k1 != digits[9] - 48:
        raise ValueError("national id: first check digit (k1) is wrong")
    k2 = _check_digit(digits[:10], _WEIGHTS_K2)
    if k2 is None or k2 != digits[10] - 48:
        raise ValueError("national id: second check digit (k2) is wrong")

    day, month, yy = int(value[0:2]), int(value[2:4]), int(value[4:6])
    kind = IdKind.FNR
    if day > 40:
        kind, day = IdKind.DNR, day - 40
    synthetic = month > 80
    if synthetic:
        month -= 80
    century = _century(int(value[6:9]), yy)
    if century is None:
        raise ValueError("national id: individual number does not fit the birth year")
    try:
        born = date(century + yy, month, day)
    except ValueError:
        raise ValueError("national id: the birth date part is not a real date") from None
    return kind, born, synthetic


def is_d_number(value: str) -> bool:
    """Whether a (valid) national id is a D-number: its day has 40 added."""
    return value[:1] in ("4", "5", "6", "7")


def complete_national_id(first_nine: str) -> str | None:
    """Add both check digits to nine digits (DDMMYY + individual number).

    Returns ``None`` when no valid id has this body (a check digit would be 10).
    """
    if len(first_nine) != 9 or not first_nine.isascii() or not first_nine.isdigit():
        raise ValueError("complete_national_id takes exactly nine digits")
    k1 = _check_digit(first_nine.encode("ascii"), _WEIGHTS_K1)
    if k1 is None:
        return None
    k2 = _check_digit(f"{first_nine}{k1}".encode("ascii"), _WEIGHTS_K2)
    return None if k2 is None else f"{first_nine}{k1}{k2}"


def _validate(value: str) -> str:
    _read(value)
    return value


NationalId = Annotated[str, AfterValidator(_validate)]
"""An 11-digit fødselsnummer or D-number with valid check digits."""


def mask(value: str) -> str:
    """Hide a national id completely, keeping only the fact that one was there."""
    return "*" * len(value)
