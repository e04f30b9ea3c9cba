"""Benchmarks of digidialog's Helsenorge codecs: ``python -m benchmarks [--quick]``.

- :mod:`benchmarks.fixtures` builds the measured messages;
- :mod:`benchmarks.codec_rates` measures decode and encode against raw lxml;
- :mod:`benchmarks.memory` measures memory per decoded appointment;
- :mod:`benchmarks.__main__` is the command line and the table.
"""
