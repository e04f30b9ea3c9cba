"""The conformance suite any vendor adapter passes against its mock, in one line.

    from digidialog.adapters.testing import conformance_tests
    TestGericaConformance = conformance_tests(GericaHarness)
"""

from digidialog.adapters.testing.harness import ConformanceHarness, ExpectedVisit
from digidialog.adapters.testing.suite import HOSTILE_REPLIES, AdapterConformance, conformance_tests

__all__ = [
    "HOSTILE_REPLIES",
    "AdapterConformance",
    "ConformanceHarness",
    "ExpectedVisit",
    "conformance_tests",
]
