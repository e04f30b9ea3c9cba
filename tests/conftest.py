"""Shared fixtures: where the national reference material is, and its validator.

The reference material (the official example messages and the national schemas,
with ``tools/refcheck.py`` that validates against them) is the steering
repository's ``shared/`` folder, placed beside this checkout as ``../shared``.
Without it, the tests that need it are skipped, except under CI (``CI=true``) or
with ``DIGIDIALOG_REQUIRE_SERVICES=1``: then they fail, so that a run that lost
the material cannot be green.

Tests marked ``disruptive`` restart PostgreSQL or RabbitMQ under every process
that uses them; they run only with ``DIGIDIALOG_DISRUPTIVE=1`` (``.ci/run`` sets
it: CI runs the tests one at a time, so a restart disturbs only its own test).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest
from lxml import etree

from digidialog.testing.services import unavailable

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
EXAMPLES = SHARED / "reference" / "helsenorge" / "examples"
REFCHECK = SHARED / "tools" / "refcheck.py"
DISRUPTIVE = "DIGIDIALOG_DISRUPTIVE"
WHERE_FROM = ("the steering repository's shared/ folder (reference/helsenorge, tools/refcheck.py) "
              "belongs beside the checkout, as ../shared")


def reference_missing(reason: str) -> NoReturn:
    """Skip the calling test for want of reference material, or fail it under CI.

    The rule of :func:`digidialog.testing.services.unavailable` (fail when
    ``DIGIDIALOG_REQUIRE_SERVICES=1``), and also under ``CI=true``, which every
    common CI service sets.
    """
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; {WHERE_FROM} (CI=true)", pytrace=False)
    unavailable(f"{reason}; {WHERE_FROM}")
    raise AssertionError("unreachable: unavailable() skips or fails")


def example_files() -> list[Path]:
    """The official example messages, or none when the reference folder is absent.

    For parametrizing at collection time; a test that needs the files asks
    :func:`examples_folder` or :func:`official_example`, which skip or fail.
    """
    return sorted(EXAMPLES.glob("*.xml")) if EXAMPLES.is_dir() else []


def examples_folder() -> Path:
    """The folder of official examples, or skip/fail (:func:`reference_missing`)."""
    if not example_files():
        reference_missing(f"the official examples are not at {EXAMPLES}")
    return EXAMPLES


def official_example(name: str) -> Path:
    """One official example by file name, or skip/fail (:func:`reference_missing`)."""
    path = EXAMPLES / name
    if not path.is_file():
        reference_missing(f"the official example {name} is not in {EXAMPLES}")
    return path


@pytest.fixture(scope="session")
def official_validate() -> Callable[[bytes], list[str]]:
    """Validate bytes against the OFFICIAL national schemas (shared/tools/refcheck.py).

    Returns the list of errors, empty when valid. Skips (or fails, see
    :func:`reference_missing`) when the reference folder is not beside the
    repository.
    """
    if not REFCHECK.exists():
        reference_missing(f"the national reference schemas are not at {REFCHECK.parent.parent}")
    spec = importlib.util.spec_from_file_location("refcheck", REFCHECK)
    assert spec is not None and spec.loader is not None
    refcheck = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(refcheck)
    schema = refcheck._schema()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)

    def validate(data: bytes) -> list[str]:
        document = etree.fromstring(data, parser)
        if schema.validate(document):
            return []
        return [f"line {e.line}: {e.message}" for e in schema.error_log]

    return validate


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the ``disruptive`` tests unless ``DIGIDIALOG_DISRUPTIVE=1`` asks for them.

    Skipped at collection, so that their fixtures (a running daemon) never start.
    """
    if os.environ.get(DISRUPTIVE) == "1":
        return
    skip = pytest.mark.skip(reason=(
        f"restarts PostgreSQL or RabbitMQ under every process using them; set {DISRUPTIVE}=1 "
        "to run it (.ci/run does), and run nothing else against those servers meanwhile"))
    for item in items:
        if item.get_closest_marker("disruptive") is not None:
            item.add_marker(skip)
