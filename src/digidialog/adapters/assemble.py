"""Appointments on the adapters' hot paths: the domain's fast assembly, vendor errors.

:func:`digidialog.domain.assembly.assemble_appointment` makes an Appointment
from values the reader has checked, without validating them a second time.
Here it gets the adapters' error: a visit the domain refuses is a
:class:`MalformedReply` naming the vendor and the rule, never the values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from digidialog.domain import Appointment
from digidialog.domain.assembly import FIELDS, PLAIN, assemble_appointment
from digidialog.errors import MalformedReply

__all__ = ["FIELDS", "PLAIN", "assemble", "validated"]


def assemble(values: dict[str, Any], fields_set: set[str], vendor: str) -> Appointment:
    """An Appointment from checked ``values`` (see :func:`assemble_appointment`)."""
    try:
        return assemble_appointment(values, fields_set)
    except ValidationError as error:  # only on the fallback path
        raise _refused(error, vendor) from None


def validated(values: Mapping[str, Any], vendor: str) -> Appointment:
    """The same Appointment through pydantic's validation: the reference path."""
    try:
        return Appointment.model_validate(dict(values))
    except ValidationError as error:
        raise _refused(error, vendor) from None


def _refused(error: ValidationError, vendor: str) -> MalformedReply:
    rules = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'appointment'}: {e['msg']}"
        for e in error.errors(include_url=False, include_input=False, include_context=False)
    )
    return MalformedReply(f"{vendor} sent a visit the domain refuses ({rules})")
