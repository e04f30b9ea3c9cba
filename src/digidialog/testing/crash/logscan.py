"""Reading every line the daemons logged for what must never be there.

No national id, no name, no message text: the run knows every citizen and
relative it made up, the names the EPJs hold, and the texts it wrote, and
looks for each of them in each line, as well as for any eleven digits that
pass the national-id check digits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from digidialog.domain.national_id import inspect_national_id

_ELEVEN_DIGITS = re.compile(r"(?<!\d)\d{11}(?!\d)")
TEXT_MARKERS = ("Jeg er bortreist", "Besøket må gjennomføres", "Hei, dette er", "Spørsmål")
"""Phrases of the run's texts."""
MARKER = re.compile(r"\b(?:melding|svar)-[0-9a-f]{12}\b")
"""The unique word each of the run's texts carries (see :func:`.messages.token`)."""


@dataclass
class Personal:
    """What the run knows is personal: ids, names, text."""

    ids: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    texts: set[str] = field(default_factory=lambda: set(TEXT_MARKERS))


@dataclass(frozen=True)
class Leak:
    """One log line holding personal data: which daemon, which line, what kind."""

    daemon: str
    line_number: int
    kind: str

    def __str__(self) -> str:
        return f"{self.daemon} line {self.line_number}: {self.kind}"


def _valid_id(digits: str) -> bool:
    try:
        inspect_national_id(digits)
    except ValueError:
        return False
    return True


def scan(daemon: str, lines: Iterable[str], personal: Personal) -> list[Leak]:
    """Every line of ``daemon``'s log that holds a national id, a name or a text."""
    leaks = []
    names = [n for n in personal.names if len(n) >= 4]
    for number, raw in enumerate(lines, start=1):
        # JSON escapes what is not ASCII: the values are read as well as the bytes.
        try:
            line = raw + " " + json.dumps(json.loads(raw), ensure_ascii=False)
        except ValueError:
            line = raw
        kind = None
        if any(i in line for i in personal.ids) or any(
                _valid_id(m.group()) for m in _ELEVEN_DIGITS.finditer(line)):
            kind = "national id"
        elif any(n in line for n in names):
            kind = "name"
        elif any(t in line for t in personal.texts) or MARKER.search(line):
            kind = "message text"
        if kind is not None:
            leaks.append(Leak(daemon, number, kind))
    return leaks
