"""The sync engine: moves messages between the portal and the EPJ, at least once, effect once.

- :mod:`~digidialog.sync.context`: what the engine knows about one municipality;
- :mod:`~digidialog.sync.receiver`: portal queues into the inbox (stored before settled);
- :mod:`~digidialog.sync.inbound`: each stored portal message checked, answered and routed;
- :mod:`~digidialog.sync.follower`: the EPJ's changes into the outbox;
- :mod:`~digidialog.sync.worker`: the outbox carried out, retried, or parked;
- :mod:`~digidialog.sync.engine`: the loops a daemon runs.
"""
