"""Citizens, the relatives who act for them, and the rule for who may act.

The citizen whose matter it is (Helsenorge's ``Patient``) is always a
:class:`Person`. A relative acting for them holds a :class:`Proxy`: a relation
from code system 7611 (fullmakt, foreldreansvar, verge), a scope and a validity
period. :func:`may_act_for` answers "may this person do this for that citizen
now?".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum

from pydantic import Field, model_validator

from digidialog.domain.base import ALLOWED, Decision, Frozen
from digidialog.domain.national_id import NationalId, inspect_national_id
from digidialog.domain.timezone import oslo_date

PROXY_MINIMUM_AGE = 18


class Person(Frozen):
    """A person identified by national id, with the names Helsenorge shows."""

    national_id: NationalId
    given_name: str = Field(min_length=1)
    family_name: str = Field(min_length=1)
    middle_name: str | None = None

    @property
    def full_name(self) -> str:
        """Given, middle and family name, as a person would write them."""
        parts = (self.given_name, self.middle_name, self.family_name)
        return " ".join(p for p in parts if p)

    def age_on(self, day: date) -> int:
        """Whole years of age on ``day``."""
        born = inspect_national_id(self.national_id).birth_date
        years = day.year - born.year
        return years - ((day.month, day.day) < (born.month, born.day))


class Relation(StrEnum):
    """Representation role, code system 7611."""

    FULLMAKT = "FU"
    FORELDREANSVAR = "FO"
    VERGE = "VE"

    @property
    def display_name(self) -> str:
        """The code's DN as the national code list spells it."""
        return {"FU": "Fullmakt", "FO": "Foreldreansvar", "VE": "Vergemål"}[self.value]


class ProxyScope(StrEnum):
    """How much of the citizen's matters a proxy covers."""

    ALL = "all"
    APPOINTMENTS_AND_PRACTITIONERS = "appointments_and_practitioners"


class Action(StrEnum):
    """What someone may want to do for a citizen."""

    READ_MESSAGES = "read_messages"
    WRITE_MESSAGE = "write_message"
    VIEW_APPOINTMENTS = "view_appointments"
    CANCEL_APPOINTMENT = "cancel_appointment"


# "Timeavtaler og behandlere" covers the calendar, not the message threads.
_SCOPE_ACTIONS: dict[ProxyScope, frozenset[Action]] = {
    ProxyScope.ALL: frozenset(Action),
    ProxyScope.APPOINTMENTS_AND_PRACTITIONERS: frozenset(
        {Action.VIEW_APPOINTMENTS, Action.CANCEL_APPOINTMENT}
    ),
}


class Proxy(Frozen):
    """A right, given to ``holder``, to act for the citizen ``citizen_id``."""

    holder: Person
    citizen_id: NationalId
    relation: Relation
    scope: ProxyScope = ProxyScope.ALL
    valid_from: date
    valid_to: date | None = None

    @model_validator(mode="after")
    def _period_is_ordered(self) -> Proxy:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        if self.holder.national_id == self.citizen_id:
            raise ValueError("a proxy holder cannot be the citizen themself")
        return self

    def is_valid_on(self, day: date) -> bool:
        """Whether the proxy's period covers ``day`` (both ends inclusive)."""
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


def may_act_for(
    actor_id: str,
    citizen_id: str,
    action: Action,
    proxies: Iterable[Proxy],
    at: datetime,
    actor: Person | None = None,
) -> Decision:
    """May ``actor_id`` perform ``action`` for ``citizen_id`` at instant ``at``?

    A citizen always acts for themself. Anyone else needs a proxy for that
    citizen that is valid on the Oslo date of ``at``, whose scope covers the
    action; a fullmakt holder must be 18 or older that day (parents and
    guardians act by law, not by a given proxy).
    """
    if actor_id == citizen_id:
        return ALLOWED
    day = oslo_date(at)
    candidates = [
        p for p in proxies if p.holder.national_id == actor_id and p.citizen_id == citizen_id
    ]
    if not candidates:
        return Decision(allowed=False, reason="no proxy for this citizen")
    valid = [p for p in candidates if p.is_valid_on(day)]
    if not valid:
        return Decision(allowed=False, reason="proxy is not valid on this date")
    covering = [p for p in valid if action in _SCOPE_ACTIONS[p.scope]]
    if not covering:
        return Decision(allowed=False, reason="proxy scope does not cover this action")
    holder = actor or covering[0].holder
    if all(p.relation is Relation.FULLMAKT for p in covering) and (
        holder.age_on(day) < PROXY_MINIMUM_AGE
    ):
        return Decision(allowed=False, reason="a proxy holder must be 18 or older")
    return ALLOWED
