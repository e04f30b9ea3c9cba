"""Missing reference material skips a test on a developer's machine and fails it under CI."""

from __future__ import annotations

import pytest

from tests.conftest import official_example, reference_missing


@pytest.fixture
def developer_machine(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Neither CI nor DIGIDIALOG_REQUIRE_SERVICES set."""
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("DIGIDIALOG_REQUIRE_SERVICES", raising=False)
    return monkeypatch


def test_skipped_on_a_developer_machine(developer_machine: pytest.MonkeyPatch) -> None:
    """The skip says what is missing and where the material comes from."""
    with pytest.raises(pytest.skip.Exception, match=r"shared/ folder .* beside the checkout"):
        reference_missing("the official examples are not at X")


@pytest.mark.parametrize(("variable", "value"), [("CI", "true"), ("CI", "TRUE"),
                                                 ("DIGIDIALOG_REQUIRE_SERVICES", "1")])
def test_failed_under_ci(developer_machine: pytest.MonkeyPatch, variable: str,
                         value: str) -> None:
    """CI=true (any CI service) or DIGIDIALOG_REQUIRE_SERVICES=1 turns the skip into a failure."""
    developer_machine.setenv(variable, value)
    with pytest.raises(pytest.fail.Exception, match="the official examples are not at X"):
        reference_missing("the official examples are not at X")


def test_a_missing_example_goes_through_the_rule(developer_machine: pytest.MonkeyPatch) -> None:
    """Asking for an example that is not there is subject to the same rule."""
    developer_machine.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"no-such-example\.xml"):
        official_example("no-such-example.xml")
