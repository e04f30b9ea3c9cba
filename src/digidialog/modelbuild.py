"""Domain appointments built from checked values, without pydantic validating them twice.

The readers of appointments (Gerica's ``Avtale``, Profil's ``Visit``,
CosDoc's ``Avtale`` and Helsenorge's xCal ``VEVENT``) already turn every
value into what the model stores: strings from lxml, enums from fixed
tables, instants in UTC, a validated :class:`Recurrence`. What pydantic's
validation would still do is small, yet it costs about 2.5 µs per
appointment, more than reading the appointment's XML. Measured with the
benchmark's replies, building without it reads a Gerica or CosDoc page of
500 appointments some 45 % faster, a Profil page 30 % faster, and decodes a
SvarPlanlagteTimer of 200 appointments 11 % faster.

So :func:`appointment`:

1. checks the model's own rules with the domain's
   :func:`~digidialog.domain.appointments.broken_appointment_rule` (the one
   place they are written; no reader restates them), raising
   :class:`RefusedAppointment` naming the rule;
2. makes the instance the way ``BaseModel.model_construct`` does, specialised
   to the model's plain shape (no aliases, no private attributes, no
   post-init, extra fields forbidden), which ``model_construct`` itself is
   too general to be (it is slower than validating).

The shape is checked once, at import (:data:`PLAIN`). If a later pydantic or
a changed model breaks it, the appointment is validated instead: slower,
never wrong. Instants must be in UTC already (as validation would store
them); the readers' tests compare both paths on generated input.

The module lives outside the domain, which holds no such machinery, and
outside both sides, since the EPJ adapters and the Helsenorge codecs use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from digidialog.domain import Appointment
from digidialog.domain.appointments import broken_appointment_rule
from digidialog.errors import MalformedReply

__all__ = ["FIELDS", "PLAIN", "RefusedAppointment", "appointment", "validated",
           "vendor_appointment"]

FIELDS = (
    "uid", "series", "status", "start", "end", "service_id", "service_name", "employees",
    "expected_duration", "recurrence", "cancellation_reason", "description", "completed_at",
    "contact_her_id", "organizer", "location",
)
"""Every field of Appointment, in order: the keys, in this order, of the values to build
from. Written out, so that a model that gains a field is validated (see :data:`PLAIN`)
until the readers pass it too."""


class RefusedAppointment(ValueError):
    """Values that break a rule of :class:`Appointment`; the message names the rule."""


def _slot_setter(model: type[BaseModel], name: str) -> Callable[[object, object], None] | None:
    """The ``__set__`` of the descriptor holding ``name`` (a slot of BaseModel): calling
    it directly skips ``object.__setattr__``'s look-up."""
    for klass in model.__mro__:
        descriptor = klass.__dict__.get(name)
        if descriptor is not None:
            return getattr(descriptor, "__set__", None)
    return None


_SET_DICT, _SET_FIELDS_SET, _SET_EXTRA, _SET_PRIVATE = (
    _slot_setter(Appointment, name) for name in (
        "__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__"))

PLAIN = (
    None not in (_SET_DICT, _SET_FIELDS_SET, _SET_EXTRA, _SET_PRIVATE)
    and tuple(Appointment.model_fields) == FIELDS
    and all(f.alias is None and f.validation_alias is None
            for f in Appointment.model_fields.values())
    and not Appointment.__private_attributes__
    and Appointment.__pydantic_post_init__ is None
    and not Appointment.__pydantic_root_model__
    and Appointment.model_config.get("extra") == "forbid"
)
"""Whether the specialised construction applies to this pydantic and this model."""


def appointment(values: dict[str, Any], fields_set: set[str]) -> Appointment:
    """An Appointment holding ``values`` (every key of :data:`FIELDS`, in order); the dict
    becomes the instance's own, so pass a fresh one.

    Every value must be typed as the model stores it (instants in UTC, enums,
    tuples). ``fields_set`` is what ``model_fields_set`` would be after
    validation (the fields the reader passes rather than leaves at their
    default); pydantic only reads it on a frozen model, so one set may be
    shared by every instance. Raises :class:`RefusedAppointment` for values
    the model refuses.
    """
    broken = broken_appointment_rule(values)
    if broken is not None:
        raise RefusedAppointment(broken)
    return _construct(values, fields_set)


def vendor_appointment(values: dict[str, Any], fields_set: set[str], vendor: str) -> Appointment:
    """:func:`appointment` for an EPJ adapter: a refused visit is a :class:`MalformedReply`
    naming the vendor and the rule, never the values."""
    broken = broken_appointment_rule(values)
    if broken is not None:
        raise _refused(vendor, broken)
    try:
        return _construct(values, fields_set)
    except RefusedAppointment as error:  # only where it validates
        raise _refused(vendor, str(error)) from None


def validated(values: Mapping[str, Any], vendor: str) -> Appointment:
    """The same Appointment through pydantic's validation: the reference path."""
    try:
        return _validate(dict(values))
    except RefusedAppointment as error:
        raise _refused(vendor, str(error)) from None


def _refused(vendor: str, rule: str) -> MalformedReply:
    return MalformedReply(f"{vendor} sent a visit the domain refuses ({rule})")


def _construct(values: dict[str, Any], fields_set: set[str]) -> Appointment:
    """The instance, made as ``model_construct`` would; validated where that cannot apply."""
    if not PLAIN:
        return _validate({k: v for k, v in values.items() if k in fields_set})
    made = Appointment.__new__(Appointment)
    _SET_DICT(made, values)  # type: ignore[misc]
    _SET_FIELDS_SET(made, fields_set)  # type: ignore[misc]
    _SET_EXTRA(made, None)  # type: ignore[misc]
    _SET_PRIVATE(made, None)  # type: ignore[misc]
    return made


def _validate(values: dict[str, Any]) -> Appointment:
    try:
        return Appointment.model_validate(values)
    except ValidationError as error:
        rules = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'appointment'}: {e['msg']}"
            for e in error.errors(include_url=False, include_input=False, include_context=False)
        )
        raise RefusedAppointment(rules) from None
