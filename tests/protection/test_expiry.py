"""Certificates about to expire: logged once a day each, flagged in the metrics."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from digidialog.daemon.metrics import Metrics
from digidialog.protection.expiry import ExpiryWatch, inventory
from digidialog.testing.certificates import write_party
from tests.protection.pki import PORTAL, Pki, protection


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def test_expiring_certificates_are_logged_once_a_day(pki: Pki, tmp_path: Path) -> None:
    """Our signing certificate has 10 days left, a party's has expired: a warning and an error,
    not repeated the same day, repeated the next."""
    clock = Clock()
    soon = pki.issuing.issue("ours, soon", not_after=clock.now + dt.timedelta(days=10))
    write_party(tmp_path, PORTAL, signing=pki.expired.certificate,
                encryption=pki.portal.encryption.certificate)
    watch = ExpiryWatch(protection(pki, soon, pki.municipality.encryption, tmp_path,
                                   clock=clock), clock=clock)
    with capture_logs() as logs:
        expiring = watch.check()
        watch.check()
    assert {(h.owner, h.holder, h.use) for h in expiring} == {
        ("own", "default", "signing"), ("party", PORTAL, "signing")}
    events = [(e["event"], e["owner"], e["days_left"]) for e in logs
              if e["event"].startswith("certificate")]
    assert sorted(events) == [("certificate expires soon", "own", 9),
                              ("certificate has expired", "party", -3)]
    clock.now += dt.timedelta(days=1)
    with capture_logs() as logs:
        watch.check()
    assert sum(e["event"].startswith("certificate") for e in logs) == 2


def test_the_metrics_show_when_each_certificate_expires(pki: Pki, tmp_path: Path) -> None:
    """One gauge with the expiry time, one with 1 when it is within the warning period."""
    write_party(tmp_path, PORTAL, pki.portal)
    watched = protection(pki, pki.municipality.signing, pki.municipality.encryption, tmp_path)
    watch = ExpiryWatch(watched, warning=dt.timedelta(days=400))
    metrics = Metrics()
    now = dt.datetime.now(dt.UTC)
    for held in inventory(watched).certificates:
        metrics.set_certificate(*held.key, expires=held.expires,
                                expiring=watch.expiring(held, now))
    text, _ = metrics.render()
    samples = {(s.name, s.labels["owner"], s.labels["holder"], s.labels["use"]): s.value
               for family in text_string_to_metric_families(text.decode())
               for s in family.samples if s.name.startswith("digidialog_certificate")}
    expires = pki.portal.signing.certificate.not_valid_after_utc.timestamp()
    assert samples[("digidialog_certificate_expiry_timestamp_seconds", "party", PORTAL,
                    "signing")] == expires
    assert samples[("digidialog_certificate_expiring", "own", "default", "signing")] == 1.0
    assert len(samples) == 8  # two gauges for each of four certificates
