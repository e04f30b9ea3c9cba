"""Making Appointments on a hot path without validating them twice.

A vendor reply of 500 visits is read every night for every citizen, and a
SvarPlanlagteTimer carries hundreds. The readers turn each visit into typed
values (strings from lxml, enums from fixed tables, UTC instants, a validated
Recurrence) and check the rules the model would check; running pydantic's
validation on top of that costs more per appointment than parsing its XML.
:func:`assemble_appointment` then makes the
instance the way ``BaseModel.model_construct`` does, specialised to
Appointment's plain shape (no aliases, no private attributes, no post-init,
extra fields forbidden), which ``model_construct`` itself is too general to be.

The shape is checked once, at import. If a later pydantic or a changed model
breaks it, :func:`assemble_appointment` validates instead: slower, never
wrong. The readers' tests compare both paths on generated input.

Callers check, before assembling: ``uid`` is 1 to 255 characters, instants are
UTC, the end is not before the start, only planned visits recur, only
cancelled visits have a reason, only completed visits a completion time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from digidialog.domain.appointments import Appointment

FIELDS = (
    "uid", "series", "status", "start", "end", "service_id", "service_name", "employees",
    "expected_duration", "recurrence", "cancellation_reason", "description", "completed_at",
    "contact_her_id", "organizer", "location",
)
"""Every field of Appointment, in order: the keys an assembled appointment's values hold."""


def _slot_setter(name: str) -> Callable[[object, object], None] | None:
    """The ``__set__`` of the descriptor holding ``name`` (a slot of BaseModel): calling
    it directly skips ``object.__setattr__``'s look-up."""
    for klass in Appointment.__mro__:
        descriptor = klass.__dict__.get(name)
        if descriptor is not None:
            return getattr(descriptor, "__set__", None)
    return None


_SETTERS = [_slot_setter(name) for name in (
    "__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")]


def _plain_shape() -> bool:
    fields = Appointment.model_fields
    return (
        all(setter is not None for setter in _SETTERS)
        and tuple(fields) == FIELDS
        and all(f.alias is None and f.validation_alias is None for f in fields.values())
        and not Appointment.__private_attributes__
        and Appointment.__pydantic_post_init__ is None
        and not Appointment.__pydantic_root_model__
        and Appointment.model_config.get("extra") == "forbid"
    )


PLAIN = _plain_shape()
"""Whether the specialised construction applies to this pydantic and this model."""

_new = Appointment.__new__


def assemble_appointment(values: dict[str, Any], fields_set: set[str]) -> Appointment:
    """An Appointment holding ``values`` (every key of :data:`FIELDS`), already checked.

    ``fields_set`` is what ``model_fields_set`` would be after validation (the
    fields the caller passes rather than leaves at their default); pydantic only
    reads it on a frozen model, so one set may be shared by every instance.
    On the fallback path pydantic validates, and may raise its ValidationError.
    """
    if not PLAIN:
        return Appointment.model_validate({k: v for k, v in values.items() if k in fields_set})
    set_dict, set_fields, set_extra, set_private = _SETTERS
    made = _new(Appointment)
    set_dict(made, values)  # type: ignore[misc]
    set_fields(made, fields_set)  # type: ignore[misc]
    set_extra(made, None)  # type: ignore[misc]
    set_private(made, None)  # type: ignore[misc]
    return made
