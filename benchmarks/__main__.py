"""``python -m benchmarks [--quick] [--repeat N]``: measure and print the tables.

The codecs, message protection (CMS), the vendor adapters, the engine's
throughput (the engine needs PostgreSQL and RabbitMQ for its main row; without
them it measures the embedded backend alone and says why), visits done to
their MOA per vendor, HentPlanlagteTimer's latency (over RabbitMQ only;
without the servers it says why) and an Oslo-sized nightly run (on the servers
when they are here). ``--codecs-only`` skips all but the codecs,
``--no-engine`` skips the engine, the visits and HentPlanlagteTimer,
``--no-planned`` HentPlanlagteTimer alone, ``--no-nightly`` the nightly run (it
takes the longest: some twenty minutes for both sizes).

The exit status is 0 whether or not a target is met: this is a report, and
FAIL is printed where a target is missed. ``--quick`` measures briefly, for a
CI smoke run that must finish in seconds; its numbers are rougher.
"""

from __future__ import annotations

import argparse
import platform
import sys
from collections.abc import Sequence
from dataclasses import replace

from lxml import etree

from benchmarks import (
    engine_throughput,
    nightly_run,
    planned_latency,
    protection_rates,
    vendors,
    visit_latency,
)
from benchmarks.codec_rates import (
    FULL,
    QUICK,
    TARGET_RATIO,
    DecodeCost,
    Rate,
    Settings,
    measure,
)
from benchmarks.fixtures import PLANNED, build_cases
from benchmarks.memory import MemoryUse, measure_decode_memory
from digidialog import log

RATE_HEADERS = ("Case", "Op", "Rate msg/s", "Raw msg/s", "Ratio", "Target", "Result")
MEMORY_HEADERS = ("Case", "Measure", "Total", "Per appointment")
COST_HEADERS = (
    "Case", "Parse+validate", "+ walk elements", "Walk/raw", "+ decode", "Decode/raw",
)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Plain-text columns: text left-aligned, numbers (cells starting with a digit) right."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        padded = (
            c.rjust(w) if c[:1].isdigit() else c.ljust(w)
            for c, w in zip(cells, widths, strict=True)
        )
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def rate_rows(rates: Sequence[Rate]) -> list[list[str]]:
    """One row per measured operation."""
    return [
        [
            rate.case,
            rate.operation,
            f"{rate.per_second:,.0f}",
            f"{rate.baseline_per_second:,.0f}",
            f"{rate.ratio:.2f}",
            f">= {TARGET_RATIO:.2f}",
            "PASS" if rate.passed else "FAIL",
        ]
        for rate in rates
    ]


def _duration(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} µs" if seconds < 0.01 else f"{seconds * 1e3:,.2f} ms"


def cost_rows(costs: Sequence[DecodeCost]) -> list[list[str]]:
    """What walking the tree and decoding add to parse + validate, per case."""
    return [
        [
            cost.case,
            _duration(cost.raw_seconds),
            _duration(cost.walk_seconds - cost.raw_seconds),
            f"{cost.walk_extra:.2f}",
            _duration(cost.decode_seconds - cost.raw_seconds),
            f"{cost.decode_extra:.2f}",
        ]
        for cost in costs
    ]


def _kib(size: float) -> str:
    return f"{size / 1024:,.1f} KiB"


def memory_rows(use: MemoryUse) -> list[list[str]]:
    """Peak and retained memory, in total and per appointment."""
    return [
        [
            use.case,
            "peak while decoding",
            _kib(use.peak_bytes),
            f"{use.peak_per_appointment:,.0f} B",
        ],
        [
            use.case,
            "retained PortalMessage",
            _kib(use.retained_bytes),
            f"{use.retained_per_appointment:,.0f} B",
        ],
    ]


def render(
    rates: Sequence[Rate], costs: Sequence[DecodeCost], memory: MemoryUse, settings: Settings
) -> str:
    """The whole report: environment, rates table, memory table, verdict."""
    failed = [r for r in rates if not r.passed]
    verdict = (
        "all rate targets met"
        if not failed
        else "FAIL: " + ", ".join(f"{r.case} {r.operation}" for r in failed) + " below target"
    )
    return "\n".join(
        [
            f"digidialog codec benchmarks (Python {platform.python_version()}, "
            f"lxml {'.'.join(map(str, etree.LXML_VERSION[:3]))}; best of {settings.repeat}, "
            f">= {settings.min_seconds:g} s each, {settings.warmup} warm-up calls; "
            "CPU time, raw and codec timed in turns)",
            "",
            "Rates; raw = lxml parse + XMLSchema.validate of the same bytes, same run; "
            f"target: >= {TARGET_RATIO:.0%} of raw",
            format_table(RATE_HEADERS, rate_rows(rates)),
            "",
            "Where decode time goes, per message: what walking every element from Python "
            "(tag and text) and what decoding add to parse + validate; the target allows "
            "decoding to add at most 1.00 of it",
            format_table(COST_HEADERS, cost_rows(costs)),
            "",
            "Memory (tracemalloc, Python allocations only; result kept alive)",
            format_table(MEMORY_HEADERS, memory_rows(memory)),
            "",
            verdict,
        ]
    )


def run(settings: Settings, *, include_vendors: bool = True,
        include_engine: bool = False, include_planned: bool = False,
        include_nightly: bool = False) -> str:
    """Build the fixtures, measure everything asked for and return the report."""
    cases = build_cases()
    rates, costs = measure(cases, settings)
    memory = measure_decode_memory(next(c for c in cases if c.name == PLANNED))
    report = render(rates, costs, memory, settings)
    if include_vendors:  # everything but the codecs
        report += "\n\n" + render_protection(protection_rates.measure(settings))
        report += "\n\n" + render_vendors(quick=settings == QUICK)
    if include_engine:
        report += "\n\n" + render_engine(engine_throughput.measure(quick=settings == QUICK))
        report += "\n\n" + render_visits(*visit_latency.measure(quick=settings == QUICK))
    if include_planned:
        report += "\n\n" + planned_latency.render(
            planned_latency.measure(quick=settings == QUICK))
    if include_nightly:
        report += "\n\n" + render_nightly(nightly_run.measure(quick=settings == QUICK))
    return report


def render_protection(rates: Sequence[protection_rates.ProtectionRate]) -> str:
    """Message protection (CMS) next to bare AES-256-CBC and its cryptographic floor."""
    return "\n".join([
        "Message protection (CMS, RSA-2048): sign+encrypt and decrypt+verify as the transport "
        "does them (certificate checks included), next to bare AES-256-CBC of the same bytes "
        "and to the floor (SHA-256 + one RSA signature or verification + one RSA key wrap or "
        "unwrap + AES-256-CBC, the primitives alone); same run, CPU time; a report (the "
        "issue sets no target)",
        format_table(protection_rates.HEADERS, protection_rates.rows(rates)),
    ])


def render_vendors(*, quick: bool) -> str:
    """The vendor adapters' mapping rates and CosDoc's streamed export."""
    return "\n".join([
        f"Vendor replies, appointments mapped per second; targets: >= {vendors.ZEEP_FACTOR:g}x "
        f"zeep's deserialisation and within {vendors.LXML_SLACK:g}x of raw lxml "
        "parse-to-dicts of the same bytes, same run",
        format_table(vendors.MAPPING_HEADERS, vendors.mapping_rows(quick)),
        "",
        f"CosDoc EKSPORT_AVTALER streamed; target: peak < {vendors.EXPORT_LIMIT_MB:g} MB and flat "
        "when the export doubles",
        format_table(vendors.EXPORT_HEADERS, vendors.export_rows(quick)),
    ])


def render_engine(report: engine_throughput.Report) -> str:
    """The engine's throughput next to the bare consumer, the codec's share, the stages."""
    count = report.runs[0].count
    return "\n".join([
        f"Engine: {count:,} citizen messages from the broker through one engine (its loops in "
        "threads, as the daemon runs them) into the Gerica mock (in the engine's process), "
        "AppRecs back to the portal (taken in another process); wall time; CPU = the engine's "
        "process. Bare consumer: receive + accept on the same broker, same size, run just "
        "before and after the engine (mean); target: the engine within "
        f"{engine_throughput.TARGET_FACTOR:g}x of it",
        format_table(engine_throughput.RATE_HEADERS, engine_throughput.rate_rows(report)),
        "",
        "Codec per message: decode of the citizen message + encode of the AppRec (the run's "
        "bytes, best CPU time) against the engine's wall time per message; target: under "
        f"{engine_throughput.CODEC_LIMIT:.0%}",
        format_table(engine_throughput.CODEC_HEADERS, engine_throughput.codec_rows(report)),
        "",
        f"Where the time goes: the same engine parts, stage after stage in one thread, over "
        f"{count:,} more messages in the same world; transactions and SQL statements per "
        "message",
        format_table(engine_throughput.STAGE_HEADERS, engine_throughput.stage_rows(report)),
    ])


def render_visits(latencies: list[visit_latency.Latency], missing: str | None) -> str:
    """A visit done in each vendor's mock to its MOA on the broker."""
    lines = [
        "Visits done: from staff registering a visit done in the vendor's mock to its MOA "
        "taken off the portal's queue, the engine's loops running as in the daemon, visits "
        "done at random intervals; targets: p99 under "
        f"{visit_latency.PUSH_TARGET * 1e3:,.0f} ms for a vendor that pushes, the poll "
        f"interval + {visit_latency.POLL_SLACK * 1e3:,.0f} ms for one that is polled",
        format_table(visit_latency.HEADERS, visit_latency.rows(latencies)),
    ]
    if missing:
        lines.append(f"(measured on the embedded backend: {missing})")
    return "\n".join(lines)


def render_nightly(measured: list[dict[str, object]]) -> str:
    """The nightly run of both sizes: wall times, peak memory, what reached the portal."""
    return "\n".join([
        "Nightly run against the CosDoc mock (its streamed export), as `digidialog run` "
        "runs it: the engine's loops beside it; run = the job's own parts, sent = until "
        "all it queued was on the broker, acked = until every AppRec was back and handled "
        "(the simulated portal's pace included), next night = the run again with nothing "
        f"changed; targets: acked < "
        f"{nightly_run.SECONDS_LIMIT:g} s, peak < {nightly_run.MEMORY_LIMIT_MB:g} MB, "
        f"peak at most {nightly_run.FLAT_GROWTH:g}x when the data doubles",
        format_table(nightly_run.HEADERS, nightly_run.rows(measured)),
        "Seconds per part: " + "; ".join(
            f"{m['citizens']:,}: " + ", ".join(
                f"{part} {values.get('seconds', 0)}"
                for part, values in m["counts"].items())  # type: ignore[attr-defined]
            for m in measured),
    ])


def parse_settings(argv: Sequence[str]) -> Settings:
    """Settings from the command line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="brief measurement for CI smoke runs (a few seconds)"
    )
    parser.add_argument(
        "--codecs-only", action="store_true", help="skip the vendor adapters' measurements"
    )
    parser.add_argument(
        "--no-engine", action="store_true",
        help="skip the engine's throughput and HentPlanlagteTimer's latency"
    )
    parser.add_argument(
        "--no-planned", action="store_true", help="skip HentPlanlagteTimer's latency"
    )
    parser.add_argument(
        "--no-nightly", action="store_true", help="skip the Oslo-sized nightly run"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        metavar="N",
        help="best of N repetitions (default 7, or 3 with --quick)",
    )
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    if args.repeat is not None:
        if args.repeat < 1:
            parser.error("--repeat must be at least 1")
        settings = replace(settings, repeat=args.repeat)
    return settings


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks and print the report; always 0, since FAIL is printed."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    include_vendors = "--codecs-only" not in arguments
    include_engine = include_vendors and "--no-engine" not in arguments
    include_planned = include_engine and "--no-planned" not in arguments
    include_nightly = include_vendors and "--no-nightly" not in arguments
    if include_engine:
        log.configure()  # the engine logs as the daemon does (its runs send it into the void)
    print(run(parse_settings(arguments), include_vendors=include_vendors,
              include_engine=include_engine, include_planned=include_planned,
              include_nightly=include_nightly))
    return 0


if __name__ == "__main__":
    sys.exit(main())
