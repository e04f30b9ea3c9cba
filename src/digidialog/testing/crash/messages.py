"""Messages both ways: citizens and relatives write, staff answer and start dialogs.

Every text carries a token of its own, so that an effect is counted by what
it says as well as by its id: a message that reached the EPJ under another id,
or the portal under another MsgId, is caught as a duplicate.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field

from digidialog.domain import Relation
from digidialog.helsenorge import Function
from digidialog.helsenorge.message import Representative
from digidialog.testing.crash.traffic import Count, count
from digidialog.testing.crash.world import CrashWorld
from digidialog.testing.portal import Sent
from digidialog.testing.seed import national_id

PROXY_SHARE = 0.3
"""How many of the citizens' messages a relative writes."""
DIALOG_SHARE = 0.3
"""How many staff messages open a dialog rather than answer a citizen."""


def token(kind: str) -> str:
    """A unique marker for one text."""
    return f"{kind}-{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class CitizenWrote:
    """A message the portal sent: which site, which citizen, under which MsgId, saying what."""

    municipality: str
    citizen: str
    msg_id: str
    marker: str
    proxy: str | None


@dataclass
class CitizenMessages:
    """Citizens (and relatives with a proxy) write to a service: one message in the EPJ, one
    AppRec back, each."""

    name: str = "citizen messages"
    sent: list[CitizenWrote] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _relatives: dict[str, Representative] = field(default_factory=dict)

    def prepare(self, world: CrashWorld) -> None:
        """A relative for every citizen (the portal vouches for them: no registration)."""
        rng = random.Random(len(world.sites))  # noqa: S311 - synthetic people
        for site in world.sites:
            for citizen in site.citizens:
                self._relatives[citizen] = Representative(
                    id=national_id(rng), given_name="Pårørende", family_name="Testesen",
                    relation=Relation.FULLMAKT)

    def begin(self, world: CrashWorld) -> None:
        """Nothing to wait for."""

    def tick(self, world: CrashWorld, rng: random.Random) -> None:
        """One citizen or relative writes to one of the site's two services."""
        site = rng.choice(world.sites)
        citizen = rng.choice(site.citizens)
        service = rng.choice((site.service, site.second_service))
        proxy = self._relatives[citizen] if rng.random() < PROXY_SHARE else None
        marker = token("melding")
        sent: Sent = world.portal.send_citizen_message(
            site.municipality, service, citizen, subject="Spørsmål",
            body=f"Hei, dette er {marker}.", on_behalf_of=proxy)
        assert sent.msg_id is not None  # noqa: S101 - the simulator built the message
        with self._lock:
            self.sent.append(CitizenWrote(site.municipality, citizen, sent.msg_id, marker,
                                          proxy.id if proxy else None))

    def settle(self, world: CrashWorld) -> None:
        """Nothing follows by itself."""

    def _written(self) -> list[CitizenWrote]:
        with self._lock:
            return list(self.sent)

    def _in_epj(self, world: CrashWorld) -> tuple[Counter[str], Counter[str]]:
        """Per MsgId how many messages the EPJs hold, and per marker how many texts say it."""
        by_id: Counter[str] = Counter()
        by_marker: Counter[str] = Counter()
        for site in world.sites:
            for message in site.harness.delivered_messages():
                by_id[message["message_id"]] += 1
                for word in message["text"].split():
                    if word.startswith("melding-"):
                        by_marker[word.rstrip(".")] += 1
        return by_id, by_marker

    def done(self, world: CrashWorld) -> bool:
        """Every message in an EPJ and acknowledged."""
        by_id, _ = self._in_epj(world)
        return all(by_id[w.msg_id] and world.portal.receipts_for(w.msg_id)
                   for w in self._written())

    def tally(self, world: CrashWorld) -> list[Count]:
        """In the EPJ once (by id and by text), with the relative named; one AppRec OK."""
        written = self._written()
        by_id, by_marker = self._in_epj(world)
        proxies_named = {m["message_id"]: m["on_behalf_of_id"]
                         for s in world.sites for m in s.harness.delivered_messages()}
        in_epj = count("citizen messages in the EPJ", (
            (w.msg_id, max(by_id[w.msg_id], by_marker[w.marker]), by_id[w.msg_id])
            for w in written))
        wrong_proxy = [w.msg_id for w in written
                       if by_id[w.msg_id] and proxies_named.get(w.msg_id) != w.proxy]
        answers = {w.msg_id: receipts(world, w.msg_id) for w in written}
        counts = [in_epj, count("AppRecs for citizen messages",
                                ((m, once, wire) for m, (once, wire, _) in answers.items()))]
        refused = [m for m, (_, _, ok) in answers.items() if not ok]
        if refused:
            counts.append(Count("citizen messages refused", len(refused), 0, len(refused), 0,
                                0, tuple(refused[:5])))
        if wrong_proxy:
            counts.append(Count("relative not named in the EPJ", len(wrong_proxy), 0,
                                len(wrong_proxy), 0, 0, tuple(wrong_proxy[:5])))
        return counts


def receipts(world: CrashWorld, msg_id: str) -> tuple[int, int, bool]:
    """About the portal's ``msg_id``: distinct AppRecs (effects), AppRec arrivals (wire),
    and whether every one said OK."""
    arrived = world.portal.receipts_for(msg_id)
    ok = all(r.message.receipt is not None and r.message.receipt.status.value == "ok"
             for r in arrived)
    return len({r.msg_id for r in arrived}), len(arrived), ok


@dataclass(frozen=True)
class StaffWrote:
    """A message staff wrote in an EPJ, and the thread it answers (None: a new dialog)."""

    municipality: str
    citizen: str
    marker: str
    thread: str | None


@dataclass
class StaffMessages:
    """Staff answer citizens' messages and start dialogs: each reaches the portal once."""

    citizens: CitizenMessages
    name: str = "staff messages"
    written: list[StaffWrote] = field(default_factory=list)
    _answered: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def prepare(self, world: CrashWorld) -> None:
        """Nothing to seed: the citizens are there."""

    def begin(self, world: CrashWorld) -> None:
        """Nothing to wait for."""

    def tick(self, world: CrashWorld, rng: random.Random) -> None:
        """Staff answer a citizen's message that reached the EPJ, or open a dialog."""
        answerable = []
        if rng.random() >= DIALOG_SHARE:
            delivered = {m["message_id"] for s in world.sites
                         for m in s.harness.delivered_messages()}
            with self._lock:
                answerable = [w for w in self.citizens._written()
                              if w.msg_id in delivered and w.msg_id not in self._answered]
        marker = token("svar")
        if answerable:
            wrote = rng.choice(answerable)
            site = world.site(wrote.municipality)
            with self._lock:
                self._answered.add(wrote.msg_id)
            site.harness.write_staff_message(wrote.citizen, f"Svar: {marker}.",
                                             thread_id=wrote.msg_id, in_reply_to=wrote.msg_id)
            staff = StaffWrote(site.municipality, wrote.citizen, marker, wrote.msg_id)
        else:
            site = rng.choice(world.sites)
            citizen = rng.choice(site.citizens)
            site.harness.write_staff_message(citizen, f"Beskjed: {marker}.")
            staff = StaffWrote(site.municipality, citizen, marker, None)
        with self._lock:
            self.written.append(staff)

    def settle(self, world: CrashWorld) -> None:
        """Nothing follows by itself."""

    def _at_portal(self, world: CrashWorld) -> tuple[dict[str, set[str]], Counter[str]]:
        """Per marker the MsgIds that carried it to the portal, and how often each came."""
        ids: dict[str, set[str]] = {}
        arrivals: Counter[str] = Counter()
        for received in world.portal.received():
            if received.function not in (Function.SERVICE_REPLY, Function.SERVICE_MESSAGE):
                continue
            for word in (received.message.body or "").split():
                if word.startswith("svar-"):
                    marker = word.rstrip(".")
                    ids.setdefault(marker, set()).add(received.msg_id)
                    arrivals[marker] += 1
        return ids, arrivals

    def done(self, world: CrashWorld) -> bool:
        """Every staff message at the portal."""
        ids, _ = self._at_portal(world)
        with self._lock:
            return all(w.marker in ids for w in self.written)

    def tally(self, world: CrashWorld) -> list[Count]:
        """At the portal once (one MsgId), answers in the citizen's thread."""
        ids, arrivals = self._at_portal(world)
        with self._lock:
            written = list(self.written)
        threads = {r.msg_id: r.thread for r in world.portal.received()}
        misplaced = [w.marker for w in written if w.thread is not None and any(
            threads.get(m) != w.thread for m in ids.get(w.marker, ()))]
        counts = [count("staff messages at the portal", (
            (w.marker, len(ids.get(w.marker, ())), arrivals[w.marker]) for w in written))]
        if misplaced:
            counts.append(Count("staff answers outside the citizen's thread", len(misplaced),
                                0, len(misplaced), 0, 0, tuple(misplaced[:5])))
        return counts
