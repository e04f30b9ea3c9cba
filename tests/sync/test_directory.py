"""The EPJ's services and recipients, cached with a time to live and one early refresh."""

from __future__ import annotations

from collections.abc import Iterator

from digidialog.adapters.contract import CitizenRecord, VendorService
from digidialog.sync.directory import Directory
from digidialog.testing import samples

CITIZEN = samples.CITIZEN.id
RELATIVE = samples.RELATIVE.id


class CountingEpj:
    """Answers services() and citizens() from lists the test changes, counting calls."""

    def __init__(self) -> None:
        self.services_calls = 0
        self.citizens_calls = 0
        self.recipients = {CITIZEN}

    def services(self) -> list[VendorService]:
        self.services_calls += 1
        return [VendorService(code="HSP", name="Hjemmesykepleie", open_for_dialog=True),
                VendorService(code="PB", name="Praktisk bistand", open_for_dialog=False)]

    def citizens(self, service_code: str | None = None) -> Iterator[CitizenRecord]:
        self.citizens_calls += 1
        for national_id in sorted(self.recipients):
            yield CitizenRecord(national_id=national_id, name="Line Danser",
                                service_codes=(service_code or "HSP",), digitally_active=True)


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_services_are_read_once_per_ttl() -> None:
    """Repeated look-ups within the time to live do not call the EPJ."""
    epj, clock = CountingEpj(), Clock()
    directory = Directory(epj, ttl=60, clock=clock)  # type: ignore[arg-type]
    assert directory.service("HSP") is not None
    assert directory.service("PB") is not None and not directory.service("PB").open_for_dialog
    assert directory.service("NONE") is None
    assert directory.service_name("HSP") == "Hjemmesykepleie"
    assert epj.services_calls == 1
    clock.now = 61
    directory.service("HSP")
    assert epj.services_calls == 2


def test_a_new_recipient_is_found_by_one_early_refresh() -> None:
    """A citizen missing from the cached list makes one refresh, not one per message."""
    epj, clock = CountingEpj(), Clock()
    directory = Directory(epj, ttl=600, min_refresh=30, clock=clock)  # type: ignore[arg-type]
    assert directory.recipient(CITIZEN, "HSP") is not None
    assert directory.recipient(RELATIVE, "HSP") is None
    assert epj.citizens_calls == 1  # too soon to refresh again
    epj.recipients.add(RELATIVE)
    clock.now = 31
    assert directory.recipient(RELATIVE, "HSP") is not None
    assert directory.recipient(RELATIVE, "HSP") is not None
    assert epj.citizens_calls == 2
    directory.forget()
    directory.recipient(CITIZEN, "HSP")
    assert epj.citizens_calls == 3
