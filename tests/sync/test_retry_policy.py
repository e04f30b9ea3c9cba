"""Backoff, Retry-After and giving up."""

from __future__ import annotations

from digidialog.errors import StoreUnavailable, TransportUnavailable, VendorUnavailable
from digidialog.sync.retry import RetryPolicy


def test_delays_grow_within_their_ceiling() -> None:
    """Full jitter: every delay lies between zero and the exponential bound (capped)."""
    policy = RetryPolicy(initial=1.0, maximum=60.0)
    for attempts in range(1, 15):
        delay = policy.delay(attempts, VendorUnavailable("busy"))
        assert 0.0 <= delay <= min(60.0, 2.0 ** attempts)


def test_retry_after_is_honoured() -> None:
    """What the vendor asked for is what we wait."""
    assert RetryPolicy().delay(1, VendorUnavailable("busy", retry_after=7.0)) == 7.0


def test_vendor_failures_give_up_and_infrastructure_never_does() -> None:
    """A job is parked after max_attempts vendor failures; an outage of ours only waits."""
    policy = RetryPolicy(max_attempts=3)
    assert not policy.gives_up(2, VendorUnavailable("down"))
    assert policy.gives_up(3, VendorUnavailable("down"))
    for error in (TransportUnavailable("broker down"), StoreUnavailable("db down")):
        assert not policy.gives_up(1000, error)
        assert policy.delay(50, error) <= policy.infrastructure_maximum
