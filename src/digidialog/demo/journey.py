"""The week the demo plays, step by step, against one municipality's EPJ.

A citizen receiving home nursing and practical help consents on helsenorge.no;
that night digidialog learns it, tells the portal which services are open to
them and sends the municipality's welcome; a relative holding a fullmakt
writes and staff answer; the citizen looks at the planned visits, the relative
cancels one visit (accepted) and a period for both services (rejected); a
visit is registered done; a last message stays unanswered and is overdue by
the end of the next working day.

Everything goes through the real pieces: the portal simulator sends real
messages over the daemon's queues, staff act in the vendor's mock EPJ, and
each step waits for what the other side must see. The days are the story's;
the demo takes seconds, and asks which messages are overdue as it would be
asked a minute after the deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from digidialog.domain import AppointmentStatus, DigitalStatus, Frequency, Relation
from digidialog.domain.timezone import OSLO
from digidialog.helsenorge import Function, Representative
from digidialog.store import DONE
from digidialog.sync.nightly import NightlyContext, NightlySettings, run_now
from digidialog.testing.portal import Received

from .stage import Municipal, Stage

RELATIVE = Representative(id="15076500565", given_name="Roland", family_name="Gundersen",
                          relation=Relation.FULLMAKT)
WAIT = 20.0


@dataclass
class Step:
    """One thing that happened, and what each side saw of it."""

    day: str
    actor: str
    action: str
    portal: str = ""
    epj: str = ""
    seconds: float = 0.0
    ok: bool = True


@dataclass
class Journey:
    """The steps played against one municipality."""

    municipal: Municipal
    steps: list[Step] = field(default_factory=list)
    deadline: datetime | None = None
    """When the unanswered message is due (the end of the next working day)."""

    def play(self, day: str, actor: str, action: str,
             act: Callable[[], tuple[str, str]]) -> None:
        """Do ``act`` (it returns what the portal and the EPJ saw) and record it."""
        started = time.monotonic()
        try:
            portal, epj = act()
            ok = True
        except (AssertionError, LookupError, TimeoutError) as failure:
            portal, epj, ok = f"failed: {failure}".splitlines()[0], "", False
        self.steps.append(Step(day, actor, action, portal, epj,
                               time.monotonic() - started, ok))


def due_after(deadline: datetime) -> str:
    """When an unanswered message becomes overdue, in words: ``after Monday 7 December``."""
    day = (deadline.astimezone(OSLO) - timedelta(microseconds=1)).date()
    return f"after {day:%A} {day.day} {day:%B}"


def _tomorrow(hour: int, minute: int = 0) -> datetime:
    day = datetime.now(OSLO).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=OSLO)


def _waited(probe: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not probe():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {WAIT:g} s: {what}")
        time.sleep(0.05)


class Week:
    """The steps of the week against one municipality, each returning what both sides saw."""

    def __init__(self, stage: Stage, municipal: Municipal, journey: Journey) -> None:
        self.stage = stage
        self.portal = stage.portal
        self.store = stage.daemon.store
        self.m = municipal
        self.harness = municipal.harness
        self.her_id = municipal.place.her_id
        self.citizen = municipal.citizen
        self.home, self.help = municipal.services[0], municipal.services[1]
        self.journey = journey
        self.visits: dict[str, str] = {}

    def _arrived(self, function: Function, *, code: str | None = None,
                 citizen: str | None = None, thread: str | None = None) -> list[Received]:
        """What reached the portal from this municipality, waited for."""
        return self.portal.wait_for(function=function, code=code, citizen=citizen,
                                    thread=thread, municipality=self.her_id, timeout=WAIT)

    def seed(self) -> tuple[str, str]:
        """Staff plan a weekly help window and three nursing visits tomorrow."""
        self.visits["window"] = self.harness.seed_planned_series(
            self.citizen.id, service_code=self.help[0], start=_tomorrow(10), end=_tomorrow(12),
            frequency=Frequency.WEEKLY, until=(_tomorrow(0) + timedelta(days=28)).date(),
            announce=False)
        for n, hour in enumerate((8, 15, 21)):
            self.visits[f"assigned{n}"] = self.harness.seed_visit(
                self.citizen.id, status=AppointmentStatus.ASSIGNED, start=_tomorrow(hour),
                end=_tomorrow(hour, 30), service_code=self.home[0],
                employees=("Kari Sykepleier",), text="Medisiner og tilsyn", announce=False)
        return "", "a weekly help window and three nursing visits planned"

    def consent(self) -> tuple[str, str]:
        """The citizen consents: the portal pushes SDAB, the EPJ is told."""
        self.portal.declare_digitally_active(self.citizen.id)
        sent = self.portal.send_digital_status(self.her_id, self.citizen, DigitalStatus.ACTIVE)
        self.portal.wait_for_receipt(sent.msg_id or "", timeout=WAIT)
        _waited(lambda: self.harness.digitally_active(self.citizen.id), "the EPJ told")
        return "SDAB active sent, AppRec OK back", "citizen marked digitally active"

    def night(self) -> tuple[str, str]:
        """The nightly run: SIDAB, the service overview, the welcome."""
        outcome = run_now(NightlyContext(self.store, self.m.context, owner="demo-night",
                                         clock=lambda: datetime.now(OSLO),
                                         settings=NightlySettings(answer_timeout=WAIT)))
        overview = self._arrived(Function.SERVICE_OVERVIEW, citizen=self.citizen.id)
        self._arrived(Function.SERVICE_NOTICE, citizen=self.citizen.id)
        services = len(overview[-1].message.services)
        return (f"SIDAB answered 28; TjenesteOversikt: {services} open services; welcome "
                "(EKI)", f"nightly run {outcome.result} in {outcome.seconds:.1f} s")

    def relative_writes(self) -> tuple[str, str]:
        """The relative writes with a fullmakt; the EPJ shows it "på vegne av"."""
        sent = self.portal.send_proxy_message(
            self.her_id, self.home[1], self.citizen, RELATIVE,
            body="Hei! Mor lurer på om dere kan komme etter ti i morgen?")
        msg_id = sent.msg_id or ""
        self.visits["question"] = msg_id
        self.portal.wait_for_receipt(msg_id, timeout=WAIT)
        _waited(lambda: self.harness.delivered(msg_id), "the message in the EPJ")
        held = next(m for m in self.harness.delivered_messages() if m["message_id"] == msg_id)
        return ("HE with Pasientrelasjon (FU), AppRec OK back",
                f"message stored, på vegne av {held['on_behalf_of_name']}")

    def staff_answer(self) -> tuple[str, str]:
        """Staff answer in the EPJ; the answer lands in the relative's thread."""
        question = self.visits["question"]
        self.harness.write_staff_message(self.citizen.id, "Hei! Vi kommer kl. 10.15 i morgen.",
                                         thread_id=question, in_reply_to=question)
        answer = self._arrived(Function.SERVICE_REPLY, thread=question)[-1]
        return (f"19 in the relative's thread, by {answer.message.author or 'staff'}",
                "answer written")

    def visits_seen(self) -> tuple[str, str]:
        """The citizen opens Timeavtaler: HentPlanlagteTimer, answered from the store."""
        answer = self.portal.planned_appointments(self.her_id, None, self.citizen, timeout=8.0)
        if answer is None:
            raise TimeoutError("no answer to HentPlanlagteTimer within 8 s")
        states: dict[str, int] = {}
        for visit in answer.appointments:
            states[visit.status.value] = states.get(visit.status.value, 0) + 1
        shown = ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "none"
        return f"SvarPlanlagteTimer {answer.code}: {shown}", "not asked: answered from the store"

    def cancel_one(self) -> tuple[str, str]:
        """The relative cancels one visit; staff accept."""
        request = self.portal.send_cancellation(
            self.her_id, self.home[1], self.citizen, uid=self.visits["assigned1"],
            start=_tomorrow(15), end=_tomorrow(15, 30),
            reason="Mor er hos meg i morgen ettermiddag.", on_behalf_of=RELATIVE)
        request_id = request.msg_id or ""
        _registered(self.stage, request_id)
        self.harness.decide_cancellation(request_id, True)
        answer = self._arrived(Function.CANCELLATION_REPLY, thread=request_id)[-1].message
        return (f"ART; answer {answer.code} naming {len(answer.appointments)} visit",
                "cancellation registered, accepted")

    def cancel_period(self) -> tuple[str, str]:
        """The relative cancels three days of both services; staff reject."""
        start = _tomorrow(0)
        request = self.portal.send_period_cancellation(
            self.her_id, self.home[1], self.citizen, start=start, end=start + timedelta(days=3),
            service_ids=[self.home[0], self.help[0]], reason="Mor er på ferie hos oss.",
            on_behalf_of=RELATIVE)
        request_id = request.msg_id or ""
        _registered(self.stage, request_id)
        self.harness.decide_cancellation(request_id, False,
                                         "Vi må se til henne hver dag; ring oss.")
        answer = self._arrived(Function.CANCELLATION_REPLY, thread=request_id)[-1].message
        return (f"ART for a period, two services; answer {answer.code}: {answer.body}",
                "period registered, rejected")

    def visit_done(self) -> tuple[str, str]:
        """Staff register a visit done; the portal hears it at once."""
        self.harness.complete_visit(self.citizen.id, self.visits["assigned0"])
        done = self._arrived(Function.APPOINTMENT_NOTICE, code="MOA",
                             citizen=self.citizen.id)[-1].message
        return (f"MOA, visit {done.appointments[0].status.value}: the citizen gets an SMS",
                "visit registered done")

    def unanswered(self) -> tuple[str, str]:
        """The citizen writes and nobody answers: overdue after the next working day."""
        sent = self.portal.send_citizen_message(self.her_id, self.home[1], self.citizen,
                                                body="Kan dere ta med ny medisinliste?")
        msg_id = sent.msg_id or ""
        self.portal.wait_for_receipt(msg_id, timeout=WAIT)
        _waited(lambda: self.store.threads.get(msg_id), "the thread in the store")
        thread = self.store.threads.get(msg_id)
        deadline = thread.answer_deadline if thread else None
        if deadline is None:
            raise AssertionError("the message has no answer deadline")
        self.journey.deadline = deadline
        # What `digidialog overdue` lists a minute after the deadline, asked now.
        later = deadline + timedelta(minutes=1)
        if not [t for t in self.store.threads.overdue(later, self.her_id) if t.root == msg_id]:
            raise AssertionError("the message is not overdue after its deadline")
        return "HE sent, AppRec OK back", f"no answer: overdue {due_after(deadline)}"


def play_week(stage: Stage, municipal: Municipal) -> Journey:
    """Play the week against ``municipal``; every step recorded, failed or not."""
    journey = Journey(municipal)
    week = Week(stage, municipal, journey)
    journey.play("Monday", "EPJ", "home visits planned", week.seed)
    journey.play("Monday", "citizen", "consents on helsenorge.no", week.consent)
    journey.play("Monday night", "digidialog", "nightly run", week.night)
    journey.play("Tuesday", "relative", "writes with a fullmakt", week.relative_writes)
    journey.play("Tuesday", "staff", "answer in the EPJ", week.staff_answer)
    journey.play("Tuesday", "citizen", "opens Timeavtaler", week.visits_seen)
    journey.play("Tuesday", "relative", "cancels one visit", week.cancel_one)
    journey.play("Wednesday", "relative", "cancels a period", week.cancel_period)
    journey.play("Wednesday", "staff", "register a visit done", week.visit_done)
    journey.play("Thursday", "citizen", "writes; nobody answers", week.unanswered)
    return journey


def _registered(stage: Stage, request_id: str) -> None:
    """Wait until the daemon registered the cancellation in the EPJ."""
    _waited(lambda: (job := stage.daemon.store.outbox.get_by_key(f"cancel:{request_id}"))
            is not None and job.state == DONE, "the cancellation registered in the EPJ")
