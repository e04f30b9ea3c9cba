"""The shared adapter machinery: plugin checks, SOAP replies, faults, retries, translation."""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import requests.exceptions
import zeep.exceptions
from lxml import etree

from digidialog.adapters import registry, soap
from digidialog.adapters.contract import EpjAdapter
from digidialog.adapters.registry import PluginError, check_plugin
from digidialog.adapters.soap import CallPolicy, SoapEndpoint, SoapFault, SoapVersion
from digidialog.errors import (
    AuthenticationFailed,
    DigidialogError,
    MalformedReply,
    VendorRejected,
    VendorUnavailable,
)

# ------------------------------------------------------------------ plugins


class _CompleteAdapter:
    """Implements every contract method with the contract's parameters."""

    @property
    def capabilities(self) -> Any:
        return None

    def services(self) -> list[Any]:
        return []

    def citizens(self, service_code: str | None = None) -> Iterator[Any]:
        return iter(())

    def set_digital_status(self, updates: Any) -> int:
        return 0

    def appointments(self, citizen_id: str, start: Any, end: Any) -> list[Any]:
        return []

    def changes(self, checkpoint: str | None, limit: int = 500) -> Any:
        return None

    def acknowledge(self, batch: Any) -> None:
        return None

    def deliver_message(self, message: Any) -> Any:
        return None

    def register_cancellation(self, request: Any) -> Any:
        return None

    def push_endpoint(self) -> Any:
        return None

    def close(self) -> None:
        return None


class _Plugin:
    def __init__(self, name: str, adapter_class: type) -> None:
        self.name = name
        self.adapter_class = adapter_class

    def create(self, settings: Any) -> Any:
        return self.adapter_class()


def test_a_complete_plugin_passes() -> None:
    """A plugin whose adapter implements the whole contract is accepted as it is."""
    plugin = _Plugin("acme", _CompleteAdapter)
    assert check_plugin("acme", plugin) is plugin
    assert isinstance(_CompleteAdapter(), EpjAdapter)


def test_plugin_errors_name_the_plugin() -> None:
    """Missing parts, a wrong name, a missing method, a wrong signature: each names the plugin."""
    with pytest.raises(PluginError, match="'acme' lacks"):
        check_plugin("acme", object())
    with pytest.raises(PluginError, match="'acme' calls itself 'other'"):
        check_plugin("acme", _Plugin("other", _CompleteAdapter))
    missing = type("Missing", (), {k: v for k, v in vars(_CompleteAdapter).items()
                                   if k != "changes"})
    with pytest.raises(PluginError, match="'acme': Missing does not implement changes"):
        check_plugin("acme", _Plugin("acme", missing))

    def changes(self: Any, since: str | None) -> None:  # wrong parameter name
        return None

    wrong = type("Wrong", (_CompleteAdapter,), {"changes": changes})
    with pytest.raises(PluginError, match=r"'acme': Wrong.changes takes"):
        check_plugin("acme", _Plugin("acme", wrong))


def test_unknown_and_broken_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unknown name lists what is installed; a plugin failing on import is named."""

    class _Entry:
        name = "broken"
        value = "broken_pkg.plugin:plugin"

        def load(self) -> Any:
            raise ImportError("no module named broken_pkg")

    monkeypatch.setattr(registry, "entry_points", lambda group: [_Entry()])
    with pytest.raises(PluginError, match="no adapter plugin named 'nope' \\(installed: broken\\)"):
        registry.load("nope")
    with pytest.raises(PluginError, match=r"'broken' .* failed to load"):
        registry.load("broken")


# ------------------------------------------------------------------ translation


def _exception_classes(module: Any) -> list[type[BaseException]]:
    return [c for _, c in inspect.getmembers(module, inspect.isclass)
            if issubclass(c, BaseException) and c.__module__ == module.__name__]


@pytest.mark.parametrize("module", [requests.exceptions, zeep.exceptions])
def test_every_third_party_exception_is_translated(module: Any) -> None:
    """Every exception class requests and zeep define is mapped to a digidialog error."""
    covered = [kind for kind, _ in soap._TRANSLATIONS]
    warnings_only = {c for c in _exception_classes(module) if issubclass(c, Warning)}
    missing = [c.__name__ for c in _exception_classes(module)
               if c not in warnings_only and not any(issubclass(c, k) for k in covered)]
    assert missing == []


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (requests.exceptions.ConnectTimeout("slow"), soap.VendorTimeout),
        (requests.exceptions.SSLError("bad cert"), AuthenticationFailed),
        (requests.exceptions.ConnectionError("refused"), VendorUnavailable),
        (zeep.exceptions.ValidationError("Missing element X"), VendorRejected),
        (etree.XMLSyntaxError("broken", 1, 1, 1), MalformedReply),
    ],
)
def test_translation_picks_the_specific_error(error: BaseException, expected: type) -> None:
    """The most specific row wins: an SSL error is not a mere connection error."""
    with pytest.raises(expected), soap.vendor_errors():
        raise error


# ------------------------------------------------------------------ replies


def _response(status: int, body: bytes, content_type: str, **headers: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers["Content-Type"] = content_type
    response.headers.update(headers)
    return response


def _endpoint(version: SoapVersion) -> SoapEndpoint:
    def mapper(fault: SoapFault) -> DigidialogError:
        return VendorRejected(fault.reason, code=fault.subcode or fault.code)

    return SoapEndpoint(client=None, address="http://127.0.0.1:9", session=requests.Session(),
                        version=version, action=lambda op: op, fault_mapper=mapper)  # type: ignore[arg-type]


SOAP11 = b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>%s</s:Body></s:Envelope>'
SOAP12 = b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body>%s</e:Body></e:Envelope>'


def test_reply_body_is_returned() -> None:
    """A normal reply gives the Body's first element."""
    body = _endpoint(SoapVersion.V11).interpret(
        _response(200, SOAP11 % b"<x:OkSvar xmlns:x='urn:x'><x:A>1</x:A></x:OkSvar>", "text/xml"),
        SOAP11 % b"<x:OkSvar xmlns:x='urn:x'><x:A>1</x:A></x:OkSvar>")
    assert etree.QName(body).localname == "OkSvar"


def test_faults_of_both_versions_reach_the_mapper() -> None:
    """SOAP 1.1 faultcode/faultstring and SOAP 1.2 Code/Subcode/Reason are both read."""
    fault11 = SOAP11 % (b"<s:Fault><faultcode>s:Client</faultcode><faultstring>Ukjent</faultstring>"
                        b"<detail/></s:Fault>")
    with pytest.raises(VendorRejected, match="Client: Ukjent"):
        _endpoint(SoapVersion.V11).interpret(_response(500, fault11, "text/xml"), fault11)
    fault12 = SOAP12 % (b"<e:Fault><e:Code><e:Value>e:Sender</e:Value><e:Subcode>"
                        b"<e:Value xmlns:p='urn:p'>p:NotFound</e:Value></e:Subcode></e:Code>"
                        b"<e:Reason><e:Text xml:lang='en'>No visit</e:Text></e:Reason></e:Fault>")
    with pytest.raises(VendorRejected, match="NotFound: No visit"):
        _endpoint(SoapVersion.V12).interpret(
            _response(500, fault12, "application/soap+xml"), fault12)


@pytest.mark.parametrize(
    ("status", "body", "content_type", "expected"),
    [
        (401, b"", "text/html", AuthenticationFailed),
        (503, b"", "text/plain", VendorUnavailable),
        (502, b"<html/>", "text/html", VendorUnavailable),
        (200, b"<html/>", "text/html", MalformedReply),
        (200, b"<not-closed>", "text/xml", MalformedReply),
        (200, b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "text/xml", MalformedReply),
        (200, b"<Envelope/>", "text/xml", MalformedReply),
    ],
)
def test_broken_replies(status: int, body: bytes, content_type: str, expected: type) -> None:
    """Refused credentials, unavailability and broken or hostile replies map to their errors."""
    with pytest.raises(expected):
        _endpoint(SoapVersion.V11).interpret(_response(status, body, content_type), body)


def test_oversized_replies_are_refused_before_reading() -> None:
    """A declared length over the limit is refused without reading the body."""
    response = _response(200, b"", "text/xml", **{"Content-Length": str(10**9)})
    with pytest.raises(MalformedReply, match="larger than the limit"):
        soap.read_limited(response, 1024)


def test_retries_honour_retry_after() -> None:
    """A Busy answer with Retry-After is retried no sooner than asked."""
    calls: list[float] = []

    def flaky() -> str:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise VendorUnavailable("busy", retry_after=0.4)
        return "done"

    policy = CallPolicy(attempts=3, backoff_initial=0.01, backoff_max=5)
    assert soap.with_retries(flaky, policy) == "done"
    assert calls[1] - calls[0] >= 0.4


def test_final_errors_are_not_retried() -> None:
    """A final error is raised at once, after one attempt."""
    calls: list[int] = []

    def final() -> None:
        calls.append(1)
        raise VendorRejected("unknown citizen", code="UKJENT_MOTTAKER")

    with pytest.raises(VendorRejected):
        soap.with_retries(final, CallPolicy(attempts=5, backoff_initial=0.01))
    assert calls == [1]


def test_sessions_ignore_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A CA bundle or proxy in the environment cannot change whom an adapter trusts."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/somewhere/else.pem")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    session = soap.new_session()
    assert session.trust_env is False
    settings = session.merge_environment_settings("https://epj.example", {}, None, True, None)
    assert settings["verify"] is True
    assert settings["proxies"] == {}
