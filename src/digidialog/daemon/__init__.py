"""The daemon's own machinery: configuration, HTTP endpoints, metrics and the loop runner.

The operator-facing names (configuration keys, endpoints, metrics) are fixed by
``daemon.md``; the sync pipeline plugs into these pieces:

- :mod:`digidialog.daemon.config`: the TOML file as validated, typed settings;
- :mod:`digidialog.daemon.http`: ``/healthz``, ``/readyz``, ``/metrics`` and the
  vendor push callbacks under ``/epj/<municipality her_id>/``;
- :mod:`digidialog.daemon.metrics`: the Prometheus metrics the pipeline updates;
- :mod:`digidialog.daemon.runner`: named loops in threads, restarted when they
  fail, stopped cleanly on SIGTERM/SIGINT.
"""
