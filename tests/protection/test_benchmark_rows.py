"""Smoke test of the message protection benchmark: it measures and reports every row.

No timing is asserted; the rates are a report in ``python -m benchmarks``.
"""

from __future__ import annotations

from benchmarks import protection_rates
from benchmarks.__main__ import render_protection
from benchmarks.codec_rates import Settings

ONCE = Settings(warmup=0, repeat=1, min_seconds=0.0)


def test_both_operations_for_both_sizes_next_to_aes_and_the_floor() -> None:
    """4 KB and 1 MB, sign+encrypt and decrypt+verify (each checked to round-trip), with the
    bare AES-256-CBC rate and the floor in the same table."""
    rates = protection_rates.measure(ONCE)
    assert [(r.case, r.operation) for r in rates] == [
        ("4 KB", "sign+encrypt"), ("4 KB", "decrypt+verify"),
        ("1 MB", "sign+encrypt"), ("1 MB", "decrypt+verify")]
    assert all(r.per_second > 0 and r.aes_per_second > 0 and r.floor_per_second > 0
               for r in rates)
    lines = render_protection(rates).splitlines()
    assert "AES-256-CBC msg/s" in lines[1]
    assert sum(line.startswith(("4 KB", "1 MB")) for line in lines) == 4


def test_the_messages_have_the_sizes_named() -> None:
    """The benchmark's messages are exactly 4 KiB and 1 MiB."""
    assert [len(protection_rates.message(size)) for size in protection_rates.SIZES.values()] \
        == [4096, 1048576]
