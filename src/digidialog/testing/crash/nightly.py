"""Tonight's nightly run as one more kind of traffic: every effect of it once, under the kills.

Each municipality's ``nightly`` time is set a minute back, so the daemon
starts tonight's run as it starts; the run goes through its parts (roster,
SIDAB questions, the portal's 28/29 answers, overviews, welcomes,
appointments) while the daemons are killed and restarted, and every effect
it has outside is counted:

- tonight's run completed once per municipality (one run row, completed);
- every recipient asked about once (one SIDAB MsgId naming them);
- the EPJ told each digital status the portal's answer changed;
- one TjenesteOversikt per digitally active recipient, naming both open services;
- one welcome (EKI) per newly active recipient, and none to anybody else.

Besides the standard traffic's citizens, :meth:`NightlyRun.prepare` seeds
``citizens`` more per municipality, in three groups: *newly active* (the
portal pushes their SDAB, so the first run welcomes them), *active* (the
portal knows them as active; only its answer tells the engine) and
*inactive* (the portal does not know them). The EPJ mocks start some
flags the other way (CosDoc thinks its patients active), so statuses are
told to the EPJ both ways.

Which citizens the first run welcomes is decided when it reads their status:
those active by an SDAB. So that no SDAB races the run, the portal holds its
answers until :meth:`NightlyRun.begin` has seen every SDAB recorded (the run
waits in its ``answers`` part meanwhile), then answers; the kind must come
after :class:`~.appointments.VisitsDone`, whose ``begin`` sends the standard
citizens' SDABs. How many kills fell inside the runs, and before the last
nightly message reached the portal, is added to the report's notes.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from digidialog.domain import DigitalStatus
from digidialog.domain.timezone import OSLO
from digidialog.helsenorge import Function
from digidialog.store import NightlyRunRecord
from digidialog.store.nightly_runs import COMPLETED
from digidialog.sync.nightly.messages import WELCOME_SUBJECT
from digidialog.testing.crash.process import Kill
from digidialog.testing.crash.traffic import Count, count
from digidialog.testing.crash.world import CrashWorld
from digidialog.testing.portal import Received
from digidialog.testing.portal.build import digital_status_reply

NIGHTLY_CITIZENS = 60
"""Citizens seeded for the nightly per municipality, besides the standard traffic's."""
WELCOME = "Velkommen til digital dialog med hjemmetjenesten i kommunen."
SDAB_WITHIN = 120.0
"""Seconds the daemons have to record the newly active citizens' SDABs."""
MIDNIGHT_MARGIN = timedelta(minutes=5)
"""A run prepared this close to midnight waits for it: tonight's run must belong to one night."""


@dataclass(frozen=True)
class Cohort:
    """One municipality's citizens as the nightly sees them."""

    municipality: str
    standard: tuple[str, ...]
    """The standard traffic's citizens: active on the portal, made so by SDAB."""
    newly: tuple[str, ...]
    """Seeded for the nightly; the portal pushes their SDAB: welcomed."""
    active: tuple[str, ...]
    """Seeded; active on the portal, which only says so in its answer."""
    inactive: tuple[str, ...]
    """Seeded; not digitally active."""

    @property
    def recipients(self) -> tuple[str, ...]:
        """Everybody the EPJ lists: the run asks about each."""
        return self.standard + self.newly + self.active + self.inactive

    @property
    def digital(self) -> tuple[str, ...]:
        """Whom the portal knows as digitally active: each gets an overview."""
        return self.standard + self.newly + self.active


def nightly_time(now: datetime) -> str:
    """A ``nightly`` time just passed at ``now`` (Oslo), within today."""
    local = now.astimezone(OSLO)
    earlier = max(local - timedelta(minutes=1), local.replace(hour=0, minute=0, second=0))
    return earlier.strftime("%H:%M")


def wait_past_midnight(margin: timedelta = MIDNIGHT_MARGIN) -> None:
    """Sleep until just after midnight (Oslo) when it is less than ``margin`` away."""
    local = datetime.now(OSLO)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(),
                                tzinfo=OSLO)
    if midnight - local < margin:
        time.sleep((midnight - local).total_seconds() + 5)


@dataclass
class NightlyRun:
    """Tonight's run of every municipality, started by the daemons at their start."""

    citizens: int = NIGHTLY_CITIZENS
    name: str = "nightly run"
    welcome: str = WELCOME
    cohorts: list[Cohort] = field(default_factory=list)
    night: str = ""
    welcomed: set[tuple[str, str]] = field(default_factory=set)
    """Who must be welcomed: ``(municipality, citizen)``, fixed by :meth:`begin`."""
    _epj_before: dict[tuple[str, str], bool] = field(default_factory=dict)

    def prepare(self, world: CrashWorld) -> None:
        """Seed the nightly's citizens, tell the portal who is active (holding its answers),
        and set tonight's ``nightly`` time and the welcome in the configuration."""
        wait_past_midnight()
        planned = []
        for site in world.sites:
            seeded = tuple(site.harness.seed_citizens(self.citizens))
            quarter = max(1, len(seeded) // 4)
            planned.append(Cohort(site.municipality, tuple(site.citizens), seeded[:quarter],
                                  seeded[quarter:-quarter], seeded[-quarter:]))
        # The mocks seed the same national ids (one seed for all): one person, listed by
        # several municipalities, has one digital status at Helsenorge.
        digital = {citizen for cohort in planned for citizen in cohort.digital}
        for plan in planned:
            cohort = replace(
                plan, active=plan.active + tuple(c for c in plan.inactive if c in digital),
                inactive=tuple(c for c in plan.inactive if c not in digital))
            self.cohorts.append(cohort)
            harness = world.site(cohort.municipality).harness
            for citizen in cohort.active + cohort.inactive:
                self._epj_before[cohort.municipality, citizen] = \
                    harness.digitally_active(citizen)
        world.portal.declare_digitally_active(*digital)
        world.portal.digital_users.answering = False
        now = datetime.now(OSLO)
        self.night = now.date().isoformat()
        world.configure_municipalities(nightly=nightly_time(now),
                                       welcome_message=self.welcome)

    def begin(self, world: CrashWorld) -> None:
        """Push the newly active citizens' SDABs, wait until every SDAB is recorded, note
        who the run must welcome, and let the portal answer the status questions."""
        for cohort in self.cohorts:
            for citizen in cohort.newly:
                world.portal.send_digital_status(cohort.municipality, citizen,
                                               DigitalStatus.ACTIVE)
        deadline = time.monotonic() + SDAB_WITHIN
        while not all(self._pushed(world, c, c.newly) == set(c.newly) for c in self.cohorts):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the SDABs were not recorded within {SDAB_WITHIN:g} s")
            time.sleep(0.2)
        self.welcomed = {(c.municipality, citizen) for c in self.cohorts
                         for citizen in self._pushed(world, c, c.recipients)}
        portal = world.portal
        portal.digital_users.answering = True
        # Questions that came while the portal held its answers; one that comes meanwhile
        # may be answered twice, which the engine takes as one answer.
        asked = {q.msg_id: q for q in portal.status_questions()}
        for question in asked.values():
            active = [p for p in question.message.persons
                      if portal.digital_users.is_active(p.id)]
            portal.send_message(digital_status_reply(portal.portal, question.message,
                                                     datetime.now(OSLO), active))

    @staticmethod
    def _pushed(world: CrashWorld, cohort: Cohort, citizens: tuple[str, ...]) -> set[str]:
        """Those of ``citizens`` the store holds active by an SDAB."""
        found = world.store.nightly.citizens.statuses(cohort.municipality, citizens)
        return {c for c, s in found.items() if s.active and s.source == "SDAB"}

    def tick(self, world: CrashWorld, rng: random.Random) -> None:
        """Nothing: the run is the daemons' own work."""

    def settle(self, world: CrashWorld) -> None:
        """Nothing follows by itself."""

    def _label(self, municipality: str, citizen: str) -> str:
        """``<municipality>#<n>``: a citizen named in the report without their national id."""
        for cohort in self.cohorts:
            if cohort.municipality == municipality and citizen in cohort.recipients:
                return f"{municipality}#{cohort.recipients.index(citizen)}"
        return f"{municipality}#?"

    def _runs(self, world: CrashWorld) -> dict[str, list[NightlyRunRecord]]:
        return {c.municipality: world.store.nightly.runs.of_night(c.municipality, self.night)
                for c in self.cohorts}

    def _at_portal(self, world: CrashWorld, function: Function
                   ) -> dict[tuple[str, str], list[Received]]:
        """Per (municipality, citizen) what of ``function`` reached the portal about them."""
        found: dict[tuple[str, str], list[Received]] = {}
        for received in world.portal.received(function):
            municipality = received.message.sender.her_ids[0] or ""
            if received.citizen_id is not None:
                found.setdefault((municipality, received.citizen_id), []).append(received)
        return found

    def _welcomes(self, world: CrashWorld) -> dict[tuple[str, str], list[Received]]:
        return {key: kept for key, notices in self._at_portal(world,
                                                              Function.SERVICE_NOTICE).items()
                if (kept := [n for n in notices if n.message.subject == WELCOME_SUBJECT])}

    def _asked(self, world: CrashWorld) -> tuple[dict[tuple[str, str], set[str]],
                                                 Counter[tuple[str, str]]]:
        """Per (municipality, person) the SIDAB MsgIds naming them, and the arrivals."""
        ids: dict[tuple[str, str], set[str]] = {}
        arrivals: Counter[tuple[str, str]] = Counter()
        for question in world.portal.status_questions():
            municipality = question.message.sender.her_ids[0] or ""
            for person in question.message.persons:
                ids.setdefault((municipality, person.id), set()).add(question.msg_id)
                arrivals[municipality, person.id] += 1
        return ids, arrivals

    def _epj_due(self, world: CrashWorld) -> dict[tuple[str, str], bool]:
        """Per seeded citizen whose EPJ flag the portal's answer contradicts: whether the
        EPJ holds the portal's status now."""
        due = {}
        for cohort in self.cohorts:
            site = world.site(cohort.municipality)
            for citizen in cohort.active + cohort.inactive:
                wanted = citizen in cohort.active
                if self._epj_before[cohort.municipality, citizen] != wanted:
                    due[cohort.municipality, citizen] = \
                        site.harness.digitally_active(citizen) == wanted
        return due

    def done(self, world: CrashWorld) -> bool:
        """Every run completed, every overview and welcome at the portal, the EPJ told."""
        runs = self._runs(world)
        if not all(any(r.state == COMPLETED for r in found) for found in runs.values()):
            return False
        overviews = self._at_portal(world, Function.SERVICE_OVERVIEW)
        welcomes = self._welcomes(world)
        return (all((c.municipality, citizen) in overviews
                    for c in self.cohorts for citizen in c.digital)
                and all(key in welcomes for key in self.welcomed)
                and all(self._epj_due(world).values()))

    def tally(self, world: CrashWorld) -> list[Count]:
        """Each effect once; also what went where it must not (a welcome to somebody not
        newly active, an overview to somebody not active, wrong services listed)."""
        runs = self._runs(world)
        overviews = self._at_portal(world, Function.SERVICE_OVERVIEW)
        welcomes = self._welcomes(world)
        asked, arrivals = self._asked(world)
        digital = {(c.municipality, x) for c in self.cohorts for x in c.digital}
        counts = [
            count("nightly runs completed (one each)", (
                (m, len(found) if any(r.state == COMPLETED for r in found) else 0, len(found))
                for m, found in runs.items())),
            count("persons asked about (SIDAB)", (
                (self._label(c.municipality, citizen),
                 len(asked.get((c.municipality, citizen), ())), arrivals[c.municipality, citizen])
                for c in self.cohorts for citizen in c.recipients)),
            count("statuses told to the EPJ (28/29)", (
                (self._label(*key), int(told), int(told))
                for key, told in self._epj_due(world).items())),
            count("overviews at the portal (TjenesteOversikt)", (
                (self._label(*key), *_effects(overviews.get(key, [])))
                for key in sorted(digital))),
            count("welcomes at the portal (EKI)", (
                (self._label(*key), *_effects(welcomes.get(key, [])))
                for key in sorted(self.welcomed))),
        ]
        strays = [
            ("welcomes to citizens not newly active",
             [k for k in welcomes if k not in self.welcomed]),
            ("overviews to citizens not digitally active",
             [k for k in overviews if k not in digital]),
            ("overviews not naming both open services",
             [k for k, found in overviews.items() if k in digital
              and any(_listed(r) != _open(world, k[0]) for r in found)]),
        ]
        for what, wrong in strays:
            if wrong:
                counts.append(Count(what, len(wrong), 0, 0, len(wrong), 0,
                                    tuple(self._label(*key) for key in wrong[:5])))
        world.notes.append(self._kills(world, runs, overviews, welcomes))
        return counts

    def _kills(self, world: CrashWorld, runs: dict[str, list[NightlyRunRecord]],
               overviews: dict[tuple[str, str], list[Received]],
               welcomes: dict[tuple[str, str], list[Received]]) -> str:
        """The report's line: how long the runs took, and the kills inside them."""
        windows = [(r.started_at, r.finished_at) for found in runs.values() for r in found
                   if r.finished_at is not None]
        kills = [k for d in world.daemons for k in d.killed]
        if not windows:
            return f"nightly: no run finished; {len(kills)} kills"
        inside = [k for k in kills if any(s <= k.at <= f for s, f in windows)]
        began = min(s for s, _ in windows)
        last = max([f for _, f in windows] + [r.at for found in (*overviews.values(),
                                                                  *welcomes.values())
                                              for r in found])
        sending = [k for k in kills if began <= k.at <= last]
        seconds = ", ".join(f"{(f - s).total_seconds():.0f}" for s, f in windows)

        def share(found: list[Kill]) -> str:
            return f"{len(found)} ({sum(k.serving for k in found)} of a serving daemon)"

        resumed = Counter(str(e.get("part")) for d in world.daemons for e in d.events()
                          if e.get("event") == "nightly_run_started" and e.get("resumed"))
        return (f"nightly: {len(windows)} runs of {seconds} s; of {share(kills)} kills, "
                f"inside a run: {share(inside)}; from the first run's start to the last "
                f"nightly message at the portal ({(last - began).total_seconds():.0f} s): "
                f"{share(sending)}; runs resumed at: "
                + (", ".join(f"{part} {n}" for part, n in sorted(resumed.items())) or "none"))


def _effects(arrived: list[Received]) -> tuple[int, int]:
    """Distinct MsgIds (effects) and arrivals (wire) of what reached the portal."""
    return len({r.msg_id for r in arrived}), len(arrived)


def _listed(received: Received) -> set[str]:
    return {entry.her_id for entry in received.message.services}


def _open(world: CrashWorld, municipality: str) -> set[str]:
    site = world.site(municipality)
    return {site.service, site.second_service}
