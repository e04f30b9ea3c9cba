"""The conformance suite: every adapter passes it against its mock, in one line.

In a vendor's tests::

    from digidialog.testing.conformance import conformance_tests
    TestGericaConformance = conformance_tests("gerica")

The vendor's harness (:class:`~digidialog.testing.harness.ConformanceHarness`)
comes from its ``digidialog.mocks`` entry point; a harness factory may be
given instead of a name. The returned class, collected by pytest, holds the
adapter contract's tests (:mod:`.suite`) and those of the harness's control
API (:mod:`.control`; seeding visits in :mod:`.appointments`, what staff do to
them in :mod:`.staff`); each test gets a started harness, stopped afterwards.
"""

from __future__ import annotations

from collections.abc import Callable

from digidialog.testing import mocks
from digidialog.testing.conformance.appointments import AppointmentConformance
from digidialog.testing.conformance.control import ControlConformance
from digidialog.testing.conformance.staff import StaffConformance
from digidialog.testing.conformance.suite import HOSTILE_REPLIES, AdapterConformance
from digidialog.testing.harness import ConformanceHarness

__all__ = [
    "HOSTILE_REPLIES",
    "AdapterConformance",
    "AppointmentConformance",
    "ControlConformance",
    "StaffConformance",
    "conformance_tests",
]


def conformance_tests(vendor: str | Callable[[], ConformanceHarness]
                      ) -> type[AdapterConformance]:
    """The conformance test class for a vendor (assign it to a ``Test...`` name).

    ``vendor`` is the name of a ``digidialog.mocks`` entry point, whose harness
    is used, or a callable making a harness.
    """
    if isinstance(vendor, str):
        name = vendor

        def make() -> ConformanceHarness:
            return mocks.harness(name)
    else:
        name, make = getattr(vendor, "__name__", "Vendor"), vendor
    return type(
        f"Test{name.title()}Conformance",
        (AdapterConformance, ControlConformance, AppointmentConformance, StaffConformance),
        # staticmethod: a plain function stored on the class would be bound to the test.
        {"make_harness": staticmethod(make), "__test__": True},
    )
