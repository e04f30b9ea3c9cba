"""Helpers for the nightly job's end-to-end tests: a run in a world, and what it left."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

from digidialog.domain import Appointment, AppointmentStatus
from digidialog.domain.timezone import OSLO
from digidialog.helsenorge import Function
from digidialog.sync.context import Municipality
from digidialog.sync.nightly import (
    NightlyContext,
    NightlySettings,
    Outcome,
    Progress,
    run_now,
)
from digidialog.testing.portal import Received
from tests.engine.world import World

WELCOME = "Velkommen til digital dialog med hjemmetjenesten!"
SHORT = NightlySettings(lease_seconds=30.0, batch=2, query_batch=2, answer_timeout=30.0,
                        export_batch=2, window_checkpoint=2, idle=0.05)
"""Small batches, so that a few citizens make several of each."""


def utc_now() -> datetime:
    """The wall clock, UTC."""
    return datetime.now(UTC)


def municipality(world: World, *, welcome: str | None = WELCOME) -> Municipality:
    """The world's municipality as the daemon would configure it, with a welcome message."""
    return replace(world.engine.municipalities[0], welcome_message=welcome)


def context(world: World, *, owner: str = "nightly-test", welcome: str | None = WELCOME,
            settings: NightlySettings = SHORT, progress: Progress | None = None
            ) -> NightlyContext:
    """A run of the world's municipality; the engine's loops do the sending meanwhile."""
    made = NightlyContext(store=world.store, municipality=municipality(world, welcome=welcome),
                          owner=owner, clock=utc_now, settings=settings)
    if progress is not None:
        made.progress = progress
    return made


def run(world: World, **options: object) -> Outcome:
    """One nightly run now (resuming an unfinished one), as ``digidialog sync nightly`` does."""
    outcome = run_now(context(world, **options))  # type: ignore[arg-type]
    assert outcome.completed, outcome
    return outcome


def tomorrow_at(hour: int) -> datetime:
    """Tomorrow at ``hour`` o'clock, Oslo time: inside the window the nightly job reads."""
    day = datetime.now(OSLO).date() + timedelta(days=1)
    return datetime.combine(day, time(hour), tzinfo=OSLO)


def stale_visit(service_code: str) -> Appointment:
    """A visit the store holds but the EPJ does not (it was deleted there)."""
    return Appointment(uid="999999901", status=AppointmentStatus.ASSIGNED,
                       start=tomorrow_at(15), end=tomorrow_at(15) + timedelta(minutes=30),
                       service_id=service_code, employees=("Kari Sykepleier",),
                       description="Tilsyn")


def sent_to_portal(world: World, function: Function, citizen: str | None = None
                   ) -> list[Received]:
    """What reached the portal doing ``function`` (about ``citizen``), duplicates flagged."""
    return world.portal.received(function, citizen=citizen)


def services_in(received: Received) -> list[tuple[str, str]]:
    """An overview's services as (TjenesteId, HER-id)."""
    return [(e.service_id, e.her_id) for e in received.message.services]
