"""What a crash run found, as figures and a table: lost and duplicated first, then the rest."""

from __future__ import annotations

from dataclasses import dataclass, field

from digidialog.testing.crash.traffic import Count

SHOWN = 10
"""Problems listed per kind in the text report."""


@dataclass
class Report:
    """The outcome of one crash run."""

    seed: int
    kills: int
    incarnations: int
    kills_serving: int
    """Kills of a daemon that had started serving (the others hit one starting up)."""
    vendors: tuple[str, ...]
    daemons: int
    traffic_seconds: float
    units: int
    drain_seconds: float | None
    """Seconds the backlog took to drain after the last restart; None if it never did."""
    counts: list[Count]
    dead_letters: list[str] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)
    """Messages sent to the portal whose AppRec the daemons never took in."""
    violations: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    exits: dict[str, int | None] = field(default_factory=dict)
    traffic_failures: list[str] = field(default_factory=list)
    log_lines: int = 0
    notes: list[str] = field(default_factory=list)
    """Figures a kind of traffic adds that are not counts (kills inside the nightly run)."""

    @property
    def lost(self) -> int:
        """Effects that never happened."""
        return sum(c.lost for c in self.counts)

    @property
    def duplicated(self) -> int:
        """Effects that happened more than once."""
        return sum(c.duplicated for c in self.counts)

    @property
    def effects(self) -> int:
        """Effects started."""
        return sum(c.expected for c in self.counts)

    @property
    def repeats(self) -> int:
        """Arrivals repeated under the same id (absorbed by the receiver)."""
        return sum(c.repeats for c in self.counts)

    @property
    def ok(self) -> bool:
        """Nothing lost or duplicated, nothing parked or unanswered, no violation or leak,
        every daemon stopped cleanly, the traffic made without a failure."""
        return (self.lost == 0 and self.duplicated == 0 and self.drain_seconds is not None
                and not self.dead_letters and not self.unanswered and not self.violations
                and not self.leaks and not self.traffic_failures
                and all(code == 0 for code in self.exits.values()))

    def problems(self) -> list[str]:
        """Everything that makes the run fail, one line each (ids only, no content)."""
        found = [f"{c.what}: {c.lost} lost, {c.duplicated} duplicated "
                 f"(e.g. {', '.join(c.examples)})" for c in self.counts if not c.ok]
        if self.drain_seconds is None:
            found.append("the backlog did not drain in time")
        for label, items in (("dead letter", self.dead_letters),
                             ("AppRec never taken in for", self.unanswered),
                             ("protocol violation", self.violations),
                             ("personal data in the log", self.leaks),
                             ("traffic failed", self.traffic_failures)):
            found += [f"{label}: {item}" for item in items[:SHOWN]]
            if len(items) > SHOWN:
                found.append(f"{label}: ... {len(items) - SHOWN} more")
        found += [f"{name} exited {code} on SIGTERM" for name, code in self.exits.items()
                  if code != 0]
        return found

    def render(self) -> str:
        """The report as text: the verdict with the seed, the figures, the table, problems."""
        drained = "never" if self.drain_seconds is None else f"{self.drain_seconds:.1f} s"
        lines = [
            f"{'PASSED' if self.ok else 'FAILED'}: seed {self.seed}, lost {self.lost}, "
            f"duplicated {self.duplicated}",
            f"kills survived: {self.kills} (SIGKILL; {self.kills_serving} of a serving daemon, "
            f"{self.kills - self.kills_serving} during start-up; {self.incarnations} starts), "
            f"daemons: {self.daemons}, vendors: {', '.join(self.vendors)}",
            f"traffic: {self.units} units in {self.traffic_seconds:.0f} s, "
            f"{self.effects} effects checked, drained {drained} after the last restart",
            f"repeats absorbed (same id again): {self.repeats}; dead letters: "
            f"{len(self.dead_letters)}; AppRecs not taken in: {len(self.unanswered)}; "
            f"violations: {len(self.violations)}; log lines scanned: {self.log_lines}, "
            f"with personal data: {len(self.leaks)}",
            "",
            f"{'effect':<44} {'started':>8} {'once':>6} {'lost':>5} {'dup':>5} {'repeats':>8}",
        ]
        lines += [f"{c.what:<44} {c.expected:>8} {c.once:>6} {c.lost:>5} {c.duplicated:>5} "
                  f"{c.repeats:>8}" for c in self.counts]
        if self.notes:
            lines += ["", *self.notes]
        problems = self.problems()
        if problems:
            lines += ["", "problems:"] + [f"  - {p}" for p in problems]
        return "\n".join(lines)
