"""The domain's rules: who may act for whom, and who may use which service."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from pydantic import ValidationError

from digidialog.domain import (
    Action,
    Person,
    Proxy,
    ProxyScope,
    Relation,
    Service,
    ServiceCatalog,
    ServiceEnrolment,
    may_act_for,
    may_use_service,
    open_services_for,
)
from digidialog.domain.timezone import OSLO

CITIZEN = "13116900216"
ADULT = Person(national_id="15076500565", given_name="Roland", family_name="Gundersen")
MINOR = Person(national_id="01010750160", given_name="Unge", family_name="Gundersen")
NOW = datetime(2024, 6, 1, 12, tzinfo=OSLO)


def _proxy(holder: Person = ADULT, **changes: object) -> Proxy:
    fields: dict[str, object] = {
        "holder": holder,
        "citizen_id": CITIZEN,
        "relation": Relation.FULLMAKT,
        "valid_from": date(2024, 1, 1),
    }
    fields.update(changes)
    return Proxy.model_validate(fields)


def test_citizen_always_acts_for_themself() -> None:
    """The citizen needs no proxy for their own matters."""
    assert may_act_for(CITIZEN, CITIZEN, Action.WRITE_MESSAGE, [], NOW)


def test_proxy_holder_may_act_within_scope_and_period() -> None:
    """A valid full-scope fullmakt allows every action."""
    proxy = _proxy()
    for action in Action:
        assert may_act_for(ADULT.national_id, CITIZEN, action, [proxy], NOW)


@pytest.mark.parametrize(
    ("proxy", "action", "reason"),
    [
        (None, Action.WRITE_MESSAGE, "no proxy"),
        (_proxy(valid_to=date(2024, 5, 31)), Action.WRITE_MESSAGE, "not valid"),
        (_proxy(valid_from=date(2024, 6, 2)), Action.WRITE_MESSAGE, "not valid"),
        (_proxy(scope=ProxyScope.APPOINTMENTS_AND_PRACTITIONERS), Action.WRITE_MESSAGE, "scope"),
        (_proxy(scope=ProxyScope.APPOINTMENTS_AND_PRACTITIONERS), Action.READ_MESSAGES, "scope"),
        (_proxy(holder=MINOR), Action.CANCEL_APPOINTMENT, "18 or older"),
    ],
)
def test_refusals_say_why(proxy: Proxy | None, action: Action, reason: str) -> None:
    """Each refusal names its reason: no proxy, outside the period, outside scope, under 18."""
    holder = proxy.holder.national_id if proxy else ADULT.national_id
    decision = may_act_for(holder, CITIZEN, action, [proxy] if proxy else [], NOW)
    assert not decision
    assert reason in decision.reason


def test_appointment_scope_covers_the_calendar() -> None:
    """'Timeavtaler og behandlere' lets the proxy see and cancel visits."""
    proxy = _proxy(scope=ProxyScope.APPOINTMENTS_AND_PRACTITIONERS)
    assert may_act_for(ADULT.national_id, CITIZEN, Action.CANCEL_APPOINTMENT, [proxy], NOW)
    assert may_act_for(ADULT.national_id, CITIZEN, Action.VIEW_APPOINTMENTS, [proxy], NOW)


def test_parent_under_18_is_not_refused_for_age() -> None:
    """The age rule is for a given fullmakt; foreldreansvar follows from law."""
    proxy = _proxy(holder=MINOR, relation=Relation.FORELDREANSVAR)
    assert may_act_for(MINOR.national_id, CITIZEN, Action.WRITE_MESSAGE, [proxy], NOW)


def test_validity_is_judged_on_the_oslo_date() -> None:
    """23:30 UTC on 31 May is already 1 June in Oslo."""
    proxy = _proxy(valid_from=date(2024, 6, 1))
    late_utc = datetime.fromisoformat("2024-05-31T23:30:00+00:00")
    assert may_act_for(ADULT.national_id, CITIZEN, Action.WRITE_MESSAGE, [proxy], late_utc)


def test_proxy_must_be_ordered_and_not_self() -> None:
    """A proxy ending before it starts, or held by the citizen, is invalid."""
    with pytest.raises(ValidationError, match="before valid_from"):
        _proxy(valid_to=date(2023, 1, 1))
    with pytest.raises(ValidationError, match="cannot be the citizen"):
        _proxy(citizen_id=ADULT.national_id)


SERVICE = Service(vendor_code="HSP", service_id="12", name="Hjemmesykepleie", her_id="95316",
                  open_for_dialog=True)
CLOSED = Service(vendor_code="PB", service_id="13", name="Praktisk bistand", her_id="95316")
ENROLMENTS = [
    ServiceEnrolment(citizen_id=CITIZEN, service_id="12", start=date(2024, 1, 1)),
    ServiceEnrolment(citizen_id=CITIZEN, service_id="13", start=date(2024, 1, 1)),
]


def test_service_rule_needs_received_and_open() -> None:
    """Only a service the citizen receives AND that is open may be used."""
    assert may_use_service(SERVICE, CITIZEN, ENROLMENTS, date(2024, 6, 1))
    assert "not open" in may_use_service(CLOSED, CITIZEN, ENROLMENTS, date(2024, 6, 1)).reason
    assert "does not receive" in may_use_service(
        SERVICE, ADULT.national_id, ENROLMENTS, date(2024, 6, 1)).reason
    assert "unknown" in may_use_service(None, CITIZEN, ENROLMENTS, date(2024, 6, 1)).reason
    ended = [ServiceEnrolment(citizen_id=CITIZEN, service_id="12", start=date(2024, 1, 1),
                              end=date(2024, 3, 1))]
    assert not may_use_service(SERVICE, CITIZEN, ended, date(2024, 6, 1))


def test_catalog_lookups_and_overview() -> None:
    """The catalog finds services by either id; the overview lists only open, received ones."""
    catalog = ServiceCatalog(municipality="Eksempel", municipality_her_id="87688",
                             services=(SERVICE, CLOSED))
    assert catalog.by_service_id("TjenesteId: 12") is SERVICE
    assert catalog.by_vendor_code("PB") is CLOSED
    assert catalog.by_her_id("95316") == [SERVICE, CLOSED]
    assert open_services_for(catalog, ENROLMENTS, CITIZEN, date(2024, 6, 1)) == [SERVICE]
