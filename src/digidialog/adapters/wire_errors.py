"""What went wrong on the way to an EPJ, in words an operator reads at a glance.

requests wraps urllib3's ``MaxRetryError``, which wraps a ``NewConnectionError``,
which wraps the ``ConnectionRefusedError`` that says what happened; printed, the
chain reads ``HTTPConnectionPool(host=...): Max retries exceeded ... [Errno 111]``.
:func:`where` finds the address (``127.0.0.1:9``) and :func:`cause` the innermost
reason (``connection refused``), so that :mod:`digidialog.adapters.soap` can say
"could not connect to 127.0.0.1:9 (connection refused)".
"""

from __future__ import annotations

import re
import socket
import ssl
from collections.abc import Iterator
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
# urllib3's own prefix: "HTTPConnectionPool(host='h', port=1): ...".
_POOL_PREFIX = re.compile(r"^\w+\(host=[^)]*\):\s*")
# Around OpenSSL's own words: "[SSL: CODE] the words (_ssl.c:1006)".
_SSL_NOISE = re.compile(r"\[SSL(?:: [A-Z0-9_]+)?\]\s*|\s*\(_ssl\.c:\d+\)")


def chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` and what it wraps, outermost first.

    Follows what each layer keeps: requests puts urllib3's error in ``args[0]``,
    urllib3's ``MaxRetryError`` keeps its cause in ``reason``, and the rest
    raise ``from`` the error below them.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        reason = getattr(current, "reason", None)
        first = current.args[0] if current.args else None
        if isinstance(reason, BaseException):
            current = reason
        elif isinstance(first, BaseException):
            current = first
        else:
            current = current.__cause__ or current.__context__


def address(url: str) -> str | None:
    """``host:port`` of ``url`` (the scheme's port when none is given), or ``None``."""
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{host}:{port}" if port else host


def public_url(url: str) -> str:
    """``url`` without user name and password, fit for an error message."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "the EPJ"
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def where(error: BaseException) -> str:
    """The address the failed call went to (``127.0.0.1:9``), or ``the EPJ`` if unknown."""
    for link in chain(error):
        request = getattr(link, "request", None)
        url = getattr(request, "url", None)
        if isinstance(url, str) and (found := address(url)):
            return found
        pool = getattr(link, "pool", None)
        host, port = getattr(pool, "host", None), getattr(pool, "port", None)
        if isinstance(host, str) and host:
            shown = f"[{host}]" if ":" in host else host
            return f"{shown}:{port}" if port else shown
    return "the EPJ"


def cause(error: BaseException) -> str:
    """The innermost reason of ``error`` in a few lower-case words (``connection refused``)."""
    links = list(chain(error))
    for link in reversed(links):
        words = _known(link)
        if words:
            return words
    innermost = links[-1]
    return _POOL_PREFIX.sub("", str(innermost))[:200] or type(innermost).__name__


def _known(error: BaseException) -> str | None:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ConnectionResetError):
        return "connection reset"
    if isinstance(error, socket.gaierror):
        return "host name not found"
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {error.verify_message or error.reason}"
    if isinstance(error, ssl.SSLEOFError):
        # What a server that refuses our client certificate usually does.
        return "the connection was closed during the handshake: was our certificate refused?"
    if isinstance(error, ssl.SSLError):
        words = _SSL_NOISE.sub("", error.strerror or str(error)).strip()
        return words or str(error.reason or "TLS error").lower().replace("_", " ")
    if isinstance(error, OSError) and error.strerror:
        return error.strerror[:1].lower() + error.strerror[1:]
    return None
