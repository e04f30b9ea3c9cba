"""A citizen's request to cancel visits, and the municipality's decision.

A request covers either one appointment (its ``uid`` and ``series``, as the
portal shows it) or a period (start and end date and time) for one or more
services. The decision is accepted or rejected, naming the appointments it
affected, with an optional comment for the citizen.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from digidialog.domain.base import Frozen
from digidialog.domain.messages import OnBehalfOf
from digidialog.domain.timezone import AwareDatetime


class CancellationKind(StrEnum):
    """One appointment, or everything in a period."""

    SINGLE = "single"
    PERIOD = "period"


class CancellationRequest(Frozen):
    """What the citizen (or a proxy) asked to cancel, and why."""

    request_id: str = Field(min_length=1, description="our id: the MsgId of the ART message")
    citizen_id: str
    kind: CancellationKind
    start: AwareDatetime
    end: AwareDatetime
    service_ids: tuple[str, ...] = ()
    appointment_uid: str | None = None
    series: str | None = None
    reason: str | None = None
    requested_by: OnBehalfOf | None = Field(
        default=None, description="set when someone other than the citizen asked"
    )
    contact_her_id: str | None = Field(
        default=None, description="HER-id of the service the portal addressed (xCal contact)"
    )

    @model_validator(mode="after")
    def _shape(self) -> CancellationRequest:
        if self.end < self.start:
            raise ValueError("the cancellation ends before it starts")
        if self.kind is CancellationKind.SINGLE:
            if not self.appointment_uid:
                raise ValueError("a single cancellation names the appointment (uid)")
            if len(self.service_ids) > 1:
                raise ValueError("a single cancellation concerns one service")
        else:
            if not self.service_ids:
                raise ValueError("a period cancellation names at least one service")
            if len(set(self.service_ids)) != len(self.service_ids):
                raise ValueError("a period cancellation names each service once")
        return self


class CancellationOutcome(StrEnum):
    """The municipality's answer: code 08 or 09."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"


class CancellationDecision(Frozen):
    """The answer to a :class:`CancellationRequest`."""

    request_id: str
    outcome: CancellationOutcome
    affected_uids: tuple[str, ...] = ()
    comment: str | None = None

    @property
    def accepted(self) -> bool:
        """Whether the visits were cancelled."""
        return self.outcome is CancellationOutcome.ACCEPTED


def combine_decisions(request_id: str, parts: list[CancellationDecision]) -> CancellationDecision:
    """One answer for a request that was carried out visit by visit.

    Accepted only if every part was accepted; the affected appointments are
    those actually cancelled; comments are kept in order.
    """
    accepted = bool(parts) and all(p.accepted for p in parts)
    affected = tuple(uid for p in parts if p.accepted for uid in p.affected_uids)
    comments = [p.comment for p in parts if p.comment]
    return CancellationDecision(
        request_id=request_id,
        outcome=CancellationOutcome.ACCEPTED if accepted else CancellationOutcome.REJECTED,
        affected_uids=affected,
        comment="; ".join(comments) or None,
    )
