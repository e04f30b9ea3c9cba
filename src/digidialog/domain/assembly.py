"""Making Appointments (and their Recurrences) on a hot path without validating them twice.

A vendor reply of 500 visits is read every night for every citizen, and a
SvarPlanlagteTimer carries hundreds. The readers turn each visit into typed
values (strings from lxml, enums from fixed tables, UTC instants, a validated
Recurrence) and check the rules the model would check; running pydantic's
validation on top of that costs more per appointment than parsing its XML.
:func:`assemble_appointment` then makes the
instance the way ``BaseModel.model_construct`` does, specialised to the
model's plain shape (no aliases, no private attributes, no post-init,
extra fields forbidden), which ``model_construct`` itself is too general to be.

The shape is checked once, at import. If a later pydantic or a changed model
breaks it, :func:`assemble_appointment` validates instead: slower, never
wrong. The readers' tests compare both paths on generated input.

Callers check, before assembling an Appointment: ``uid`` is 1 to 255
characters, instants are UTC, the end is not before the start, only planned
visits recur, only cancelled visits have a reason, only completed visits a
completion time. Before assembling a Recurrence: the frequency and weekdays
are the enums, the interval is 1 to 366, a count is at least 1 and not given
with ``until``, no weekday repeats, paused instants are UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from digidialog.domain.appointments import Appointment, Recurrence

M = TypeVar("M", bound=BaseModel)

FIELDS = (
    "uid", "series", "status", "start", "end", "service_id", "service_name", "employees",
    "expected_duration", "recurrence", "cancellation_reason", "description", "completed_at",
    "contact_her_id", "organizer", "location",
)
"""Every field of Appointment, in order: the keys an assembled appointment's values hold."""

RECURRENCE_FIELDS = ("frequency", "interval", "by_day", "until", "count", "paused")
"""Every field of Recurrence, in order."""


def _slot_setter(model: type[BaseModel], name: str) -> Callable[[object, object], None] | None:
    """The ``__set__`` of the descriptor holding ``name`` (a slot of BaseModel): calling
    it directly skips ``object.__setattr__``'s look-up."""
    for klass in model.__mro__:
        descriptor = klass.__dict__.get(name)
        if descriptor is not None:
            return getattr(descriptor, "__set__", None)
    return None


class Assembler(Generic[M]):
    """Makes instances of one model from checked values, or validates if it cannot."""

    def __init__(self, model: type[M], fields: tuple[str, ...]) -> None:
        self.model = model
        self._new = model.__new__
        self._setters = [_slot_setter(model, name) for name in (
            "__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")]
        model_fields = model.model_fields
        self.plain = (
            all(setter is not None for setter in self._setters)
            and tuple(model_fields) == fields
            and all(f.alias is None and f.validation_alias is None
                    for f in model_fields.values())
            and not model.__private_attributes__
            and model.__pydantic_post_init__ is None
            and not model.__pydantic_root_model__
            and model.model_config.get("extra") == "forbid"
        )
        """Whether the specialised construction applies to this pydantic and this model."""

    def __call__(self, values: dict[str, Any], fields_set: set[str]) -> M:
        """An instance holding ``values`` (every field, in order), already checked.

        ``fields_set`` is what ``model_fields_set`` would be after validation (the
        fields the caller passes rather than leaves at their default); pydantic
        only reads it on a frozen model, so one set may be shared by every
        instance. On the fallback path pydantic validates, and may raise its
        ValidationError.
        """
        if not self.plain:
            return self.model.model_validate(
                {k: v for k, v in values.items() if k in fields_set})
        set_dict, set_fields, set_extra, set_private = self._setters
        made = self._new(self.model)
        set_dict(made, values)  # type: ignore[misc]
        set_fields(made, fields_set)  # type: ignore[misc]
        set_extra(made, None)  # type: ignore[misc]
        set_private(made, None)  # type: ignore[misc]
        return made


assemble_appointment = Assembler(Appointment, FIELDS)
"""An Appointment from checked values (every key of :data:`FIELDS`)."""

assemble_recurrence = Assembler(Recurrence, RECURRENCE_FIELDS)
"""A Recurrence from checked values (every key of :data:`RECURRENCE_FIELDS`)."""

PLAIN = assemble_appointment.plain and assemble_recurrence.plain
"""Whether the specialised construction applies to both models."""
