"""Domain appointments and recurrences built from checked values, without validating twice.

The readers of appointments (Gerica's ``Avtale``, Profil's ``Visit``,
CosDoc's ``Avtale`` and Helsenorge's xCal ``VEVENT``) already turn every
value into what the model stores: strings from lxml, enums from fixed
tables, instants in UTC. What pydantic's validation would still do is small,
yet it costs about 2.5 µs per appointment, more than reading the
appointment's XML, and gives every instance a set of its own to remember
which fields were passed. Measured with the benchmark's replies, building
without it reads a Gerica or CosDoc page of 500 appointments some 45 %
faster and a Profil page 30 % faster; a decoded SvarPlanlagteTimer is
decoded 11 % faster and holds 13 % less memory per appointment.

So :func:`appointment` (and :func:`recurrence`):

1. checks the model's own rules with the domain's
   :func:`~digidialog.domain.appointments.broken_appointment_rule` (or
   ``broken_recurrence_rule``), the one place they are written, so that no
   reader restates them, raising :class:`RefusedValues` naming the rule;
2. makes the instance the way ``BaseModel.model_construct`` does, specialised
   to the model's plain shape (no aliases, no private attributes, no
   post-init, extra fields forbidden), which ``model_construct`` itself is
   too general to be (it is slower than validating).

The shape is checked once, at import (:data:`PLAIN`). If a later pydantic or
a changed model breaks it, the values are validated instead: slower, never
wrong. The readers' tests compare both paths on generated input.

The module lives outside the domain, which holds no such machinery, and
outside both sides, since the EPJ adapters and the Helsenorge codecs use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from digidialog.domain import Appointment, Recurrence
from digidialog.domain.appointments import broken_appointment_rule, broken_recurrence_rule
from digidialog.errors import MalformedReply

__all__ = ["FIELDS", "PLAIN", "RECURRENCE_FIELDS", "RefusedValues", "appointment",
           "recurrence", "validated", "vendor_appointment"]

M = TypeVar("M", bound=BaseModel)

FIELDS = (
    "uid", "series", "status", "start", "end", "service_id", "service_name", "employees",
    "expected_duration", "recurrence", "cancellation_reason", "description", "completed_at",
    "contact_her_id", "organizer", "location",
)
"""Every field of Appointment, in order: the keys, in this order, of the values to build
from. Written out, so that a model that gains a field is validated (see :data:`PLAIN`)
until the readers pass it too."""

RECURRENCE_FIELDS = ("frequency", "interval", "by_day", "until", "count", "paused")
"""Every field of Recurrence, in order."""


class RefusedValues(ValueError):
    """Values that break a rule of the model; the message names the rule."""


def _slot_setter(name: str) -> Callable[[object, object], None] | None:
    """The ``__set__`` of BaseModel's slot ``name``: calling it directly skips
    ``object.__setattr__``'s look-up (and the frozen model's refusal)."""
    descriptor = BaseModel.__dict__.get(name)
    return None if descriptor is None else getattr(descriptor, "__set__", None)


_SET_DICT, _SET_FIELDS_SET, _SET_EXTRA, _SET_PRIVATE = (_slot_setter(name) for name in (
    "__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__"))


def _plain(model: type[BaseModel], fields: tuple[str, ...]) -> bool:
    """Whether the specialised construction applies to this pydantic and this model."""
    return (
        None not in (_SET_DICT, _SET_FIELDS_SET, _SET_EXTRA, _SET_PRIVATE)
        and model.__new__ is object.__new__
        and not any(name in klass.__dict__  # no subclass replaces BaseModel's slots
                    for klass in model.__mro__[:model.__mro__.index(BaseModel)]
                    for name in ("__dict__", "__pydantic_fields_set__"))
        and tuple(model.model_fields) == fields
        and all(f.alias is None and f.validation_alias is None
                for f in model.model_fields.values())
        and not model.__private_attributes__
        and model.__pydantic_post_init__ is None
        and not model.__pydantic_root_model__
        and model.model_config.get("extra") == "forbid"
    )


PLAIN = _plain(Appointment, FIELDS) and _plain(Recurrence, RECURRENCE_FIELDS)
"""Whether the specialised construction applies to both models."""


def _construct(model: type[M], values: dict[str, Any], fields_set: set[str]) -> M:
    """An instance holding checked ``values``, made as ``model_construct`` would; validated
    where that cannot apply."""
    if not PLAIN:
        return _validate(model, {k: v for k, v in values.items() if k in fields_set})
    made = object.__new__(model)
    _SET_DICT(made, values)  # type: ignore[misc]
    _SET_FIELDS_SET(made, fields_set)  # type: ignore[misc]
    _SET_EXTRA(made, None)  # type: ignore[misc]
    _SET_PRIVATE(made, None)  # type: ignore[misc]
    return made


def appointment(values: dict[str, Any], fields_set: set[str]) -> Appointment:
    """An Appointment holding ``values`` (every key of :data:`FIELDS`, in order); the dict
    becomes the instance's own, so pass a fresh one.

    Every value must be typed as the model stores it (instants in UTC, enums,
    tuples). ``fields_set`` is what ``model_fields_set`` would be after
    validation (the fields the reader passes rather than leaves at their
    default); pydantic only reads it on a frozen model, so one set may be
    shared by every instance. Raises :class:`RefusedValues` for values the
    model refuses.
    """
    broken = broken_appointment_rule(values)
    if broken is not None:
        raise RefusedValues(broken)
    return _construct(Appointment, values, fields_set)


def recurrence(values: dict[str, Any], fields_set: set[str]) -> Recurrence:
    """A Recurrence holding ``values`` (every key of :data:`RECURRENCE_FIELDS`, in order),
    as :func:`appointment` makes an Appointment."""
    broken = broken_recurrence_rule(values)
    if broken is not None:
        raise RefusedValues(broken)
    return _construct(Recurrence, values, fields_set)


def vendor_appointment(values: dict[str, Any], fields_set: set[str], vendor: str) -> Appointment:
    """:func:`appointment` for an EPJ adapter: a refused visit is a :class:`MalformedReply`
    naming the vendor and the rule, never the values."""
    broken = broken_appointment_rule(values)
    if broken is not None:
        raise _refused(vendor, broken)
    try:
        return _construct(Appointment, values, fields_set)
    except RefusedValues as error:  # only where it validates
        raise _refused(vendor, str(error)) from None


def validated(values: Mapping[str, Any], vendor: str) -> Appointment:
    """The same Appointment through pydantic's validation: the reference path."""
    try:
        return _validate(Appointment, dict(values))
    except RefusedValues as error:
        raise _refused(vendor, str(error)) from None


def _refused(vendor: str, rule: str) -> MalformedReply:
    return MalformedReply(f"{vendor} sent a visit the domain refuses ({rule})")


def _validate(model: type[M], values: dict[str, Any]) -> M:
    try:
        return model.model_validate(values)
    except ValidationError as error:
        rules = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'values'}: {e['msg']}"
            for e in error.errors(include_url=False, include_input=False, include_context=False)
        )
        raise RefusedValues(rules) from None
