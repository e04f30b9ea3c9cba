"""The crash harness: real ``digidialog run`` processes SIGKILLed under traffic, then counted.

``python -m digidialog.testing.crash --kills 200 --seed 7`` runs the daemon
(one process, or several on one PostgreSQL and one broker) against the portal
simulator and the vendor mocks over RabbitMQ and PostgreSQL, with steady
traffic both ways, kills it at random points and restarts it, and after the
last restart counts every effect: each citizen message in the EPJ once, each
AppRec sent, each staff message at the portal once, each cancellation
registered and answered once, each visit done pushed once. It prints the lost
and duplicated counts (both must be 0) and the seed that replays the run.

Needs the ``mock`` extra, PostgreSQL and RabbitMQ (found as the tests find
them: :mod:`digidialog.testing.services`). A kind of traffic is a
:class:`~.traffic.Traffic`; add one through :attr:`CrashSettings.traffic`, as
:func:`standard_traffic_with_nightly` adds tonight's nightly run (``--nightly``:
every nightly effect once, :mod:`.nightly`).
"""

from digidialog.testing.crash.report import Report
from digidialog.testing.crash.run import (
    CrashSettings,
    crash_run,
    standard_traffic,
    standard_traffic_with_nightly,
)
from digidialog.testing.crash.traffic import Count, Traffic

__all__ = ["Count", "CrashSettings", "Report", "Traffic", "crash_run", "standard_traffic",
           "standard_traffic_with_nightly"]
