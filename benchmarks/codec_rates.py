"""Decode and encode rates of the codec, next to raw lxml parsing plus schema validation.

The raw baseline is the least any validating reader must do with the same
bytes: ``etree.fromstring`` with a plain non-resolving parser, then
``XMLSchema.validate`` against the same compiled schema set the codec uses.
It is measured in the same run as the codec, so the ratio does not depend on
the machine.

Timing follows :mod:`timeit`: warm up, pick a loop count so that one
repetition lasts at least ``min_seconds``, repeat, keep the best repetition.
The best (not the mean) is what the code can do; the rest is noise from the
machine. Two choices make the ratio hold on a busy machine too: the baseline
and the codec take turns, one repetition each per round, so a burst of other
work hits them alike; and the clock is the process's CPU time
(:func:`time.process_time`), which does not count time spent waiting for a
CPU held by other programs.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from lxml import etree

from benchmarks.fixtures import Case
from digidialog.helsenorge import schemas
from digidialog.helsenorge.codec import decode, encode

TARGET_RATIO = 0.5
"""The issue's target: decode and encode at least 50 % of the raw rate."""


@dataclass(frozen=True)
class Settings:
    """How hard to measure: warm-up calls, best-of-N repetitions, least time per repetition."""

    warmup: int
    repeat: int
    min_seconds: float


FULL = Settings(warmup=5, repeat=7, min_seconds=0.25)
QUICK = Settings(warmup=1, repeat=3, min_seconds=0.02)


@dataclass(frozen=True)
class Rate:
    """One measured operation of one case, with its baseline and verdict."""

    case: str
    operation: str
    per_second: float
    baseline_per_second: float

    @property
    def ratio(self) -> float:
        """Our rate divided by the raw rate."""
        return self.per_second / self.baseline_per_second

    @property
    def passed(self) -> bool:
        """Whether the rate meets :data:`TARGET_RATIO`."""
        return self.ratio >= TARGET_RATIO


def best_seconds_per_call(
    functions: Mapping[str, Callable[[], object]], settings: Settings
) -> dict[str, float]:
    """The best time of one call to each function, timeit-style, measured in turns.

    Each function is warmed up and gets its own loop count; then every round
    times one repetition of each in turn. The garbage collector is switched
    off while timing, as :mod:`timeit` does, so a collection triggered by
    earlier work is not billed to whoever happens to run next.
    """
    numbers = {name: _calibrate(function, settings) for name, function in functions.items()}
    best = dict.fromkeys(functions, float("inf"))
    for _ in range(settings.repeat):
        for name, function in functions.items():
            best[name] = min(best[name], _run(function, numbers[name]) / numbers[name])
    return best


def _calibrate(function: Callable[[], object], settings: Settings) -> int:
    """Warm up, then the loop count that makes one repetition last ``min_seconds``."""
    for _ in range(settings.warmup):
        function()
    number = 1
    while True:
        elapsed = _run(function, number)
        if elapsed >= settings.min_seconds or number >= 1_000_000:
            return number
        # Aim a little past the goal so the next try usually suffices.
        number = max(number * 2, int(number * settings.min_seconds * 1.2 / max(elapsed, 1e-9)))


def _run(function: Callable[[], object], number: int) -> float:
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.process_time()
        for _ in range(number):
            function()
        return time.process_time() - start
    finally:
        if enabled:
            gc.enable()


def raw_validator(data: bytes) -> Callable[[], object]:
    """The baseline: plain lxml parse and schema validation of ``data``.

    Raises ``lxml.etree.DocumentInvalid`` if ``data`` is not valid, since a
    baseline that stops at the first error would be meaninglessly fast.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    schema = schemas.helsenorge_schema()

    def parse_and_validate() -> bool:
        return schema.validate(etree.fromstring(data, parser))

    # assertValid raises DocumentInvalid, naming the first error, if data is invalid.
    schema.assertValid(etree.fromstring(data, parser))
    return parse_and_validate


@dataclass(frozen=True)
class DecodeCost:
    """Where one decode's time goes, next to the least any Python reader adds.

    ``walk`` is the raw baseline plus visiting every element of the tree once
    from Python, reading its tag and text: what any reader that looks at each
    element adds before it has made a single value of its own. The target
    (decode at least half the raw rate) means that everything decoding adds
    to parse and validation may cost at most as much again.
    """

    case: str
    raw_seconds: float
    walk_seconds: float
    decode_seconds: float

    @property
    def walk_extra(self) -> float:
        """What visiting every element adds, as a share of parse + validate."""
        return (self.walk_seconds - self.raw_seconds) / self.raw_seconds

    @property
    def decode_extra(self) -> float:
        """What decoding adds, as a share of parse + validate (the target allows 1.0)."""
        return (self.decode_seconds - self.raw_seconds) / self.raw_seconds


def element_walker(data: bytes) -> Callable[[], object]:
    """The raw baseline, then every element's tag and text read once from Python."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    schema = schemas.helsenorge_schema()

    def walk() -> int:
        root = etree.fromstring(data, parser)
        schema.validate(root)
        visited = 0
        for element in root.iter():
            element.tag  # noqa: B018 - reading the tag (a new string each time) is the point
            element.text  # noqa: B018
            visited += 1
        return visited

    return walk


def measure_case(case: Case, settings: Settings) -> tuple[list[Rate], DecodeCost]:
    """Decode and encode rates of one case, each with the shared raw baseline, and the
    decode's cost next to walking the tree."""
    seconds = best_seconds_per_call(
        {
            "raw": raw_validator(case.data),
            "walk": element_walker(case.data),
            "decode": lambda: decode(case.data),
            "encode": lambda: encode(case.message),
        },
        settings,
    )
    baseline = 1 / seconds["raw"]
    rates = [
        Rate(case.name, operation, 1 / seconds[operation], baseline)
        for operation in ("decode", "encode")
    ]
    return rates, DecodeCost(case.name, seconds["raw"], seconds["walk"], seconds["decode"])


def measure(cases: list[Case], settings: Settings) -> tuple[list[Rate], list[DecodeCost]]:
    """Every case's rates and decode cost, in the order given."""
    results = [measure_case(case, settings) for case in cases]
    return [rate for rates, _ in results for rate in rates], [cost for _, cost in results]
