"""``python -m digidialog.testing.crash``: a crash run from the command line; 0 if it passed."""

from __future__ import annotations

import argparse
import logging
import random
import sys
from dataclasses import replace
from functools import partial
from pathlib import Path

from digidialog import log
from digidialog.testing.crash.nightly import NIGHTLY_CITIZENS
from digidialog.testing.crash.run import CrashSettings, crash_run, standard_traffic_with_nightly


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run, print the report."""
    parser = argparse.ArgumentParser(prog="python -m digidialog.testing.crash",
                                     description=__doc__)
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs over the run (20)")
    parser.add_argument("--seed", type=int, default=None,
                        help="replays a run's kill schedule and traffic (default: random)")
    parser.add_argument("--vendors", default="gerica,profil,cosdoc",
                        help="comma-separated vendor mocks, one municipality each")
    parser.add_argument("--daemons", type=int, default=1,
                        help="daemons on one PostgreSQL and broker; each kill hits one")
    parser.add_argument("--citizens", type=int, default=4, help="citizens per municipality")
    parser.add_argument("--interval", type=float, default=0.25,
                        help="seconds between two units of traffic (0.25)")
    parser.add_argument("--up", type=float, nargs=2, default=(0.5, 6.0), metavar=("MIN", "MAX"),
                        help="seconds a daemon serves before it is killed (0.5 6)")
    parser.add_argument("--startup-kills", type=float, default=0.2, metavar="SHARE",
                        help="share of kills aimed at a daemon still starting up (0.2)")
    parser.add_argument("--down", type=float, nargs=2, default=(0.0, 1.0),
                        metavar=("MIN", "MAX"), help="seconds it stays dead (0 1)")
    parser.add_argument("--drain", type=float, default=180.0,
                        help="seconds the backlog may take after the last restart (180)")
    parser.add_argument("--nightly", action="store_true",
                        help="tonight's nightly run too, started as the daemons start")
    parser.add_argument("--nightly-citizens", type=int, default=NIGHTLY_CITIZENS,
                        help=f"more citizens per municipality for the nightly "
                             f"({NIGHTLY_CITIZENS})")
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep the daemons' configurations and logs in this folder")
    options = parser.parse_args(argv)
    # This process plays the portal and the vendors: only their warnings are worth reading.
    log.configure("WARNING")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    seed = options.seed if options.seed is not None else random.SystemRandom().randrange(10**6)
    settings = CrashSettings(
        seed=seed, kills=options.kills, vendors=tuple(options.vendors.split(",")),
        daemons=options.daemons, citizens=options.citizens, interval=options.interval,
        up=tuple(options.up), down=tuple(options.down), startup_kills=options.startup_kills,
        drain=options.drain, folder=options.keep)
    if options.nightly:
        settings = replace(settings, traffic=partial(standard_traffic_with_nightly,
                                                     options.nightly_citizens))
    report = crash_run(settings, say=lambda line: print(line, flush=True))
    print(report.render(), flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
