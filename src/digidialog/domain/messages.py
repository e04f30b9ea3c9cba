"""Message threads between a citizen and a municipal service.

A thread is identified by the MsgId of its first message; every later message
points to the one it answers (its parent). Either side may open a thread: the
citizen with a question, the service with a message that allows a reply or a
one-off notice that does not. Replies from the service name the staff member
who wrote them; a citizen's message written by a relative with a proxy is
shown in the EPJ as written "på vegne av" the citizen.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from digidialog.domain.base import Frozen
from digidialog.domain.people import Person, Relation
from digidialog.domain.timezone import AwareDatetime

SUBJECT_SHOWN_CHARS = 50
BODY_SHOWN_CHARS = 1000


class MessageKind(StrEnum):
    """What a message is in its thread (eKontakt functions)."""

    CITIZEN_QUESTION = "citizen_question"  # HE
    SERVICE_REPLY = "service_reply"  # 19
    SERVICE_STARTED_DIALOG = "service_started_dialog"  # DI, the citizen may answer
    SERVICE_NOTICE = "service_notice"  # EKI, no answer possible
    CITIZEN_ANSWER = "citizen_answer"  # 22
    THREAD_CLOSED = "thread_closed"  # 13
    REFUSED = "refused"  # 26
    NO_ACCESS = "no_access"  # 30
    GENERAL_ERROR = "general_error"  # 31

    @property
    def from_citizen(self) -> bool:
        """Whether the citizen's side (citizen or proxy) writes this kind."""
        return self in {MessageKind.CITIZEN_QUESTION, MessageKind.CITIZEN_ANSWER}

    @property
    def opens_thread(self) -> bool:
        """Whether this kind starts a new thread."""
        return self in {
            MessageKind.CITIZEN_QUESTION,
            MessageKind.SERVICE_STARTED_DIALOG,
            MessageKind.SERVICE_NOTICE,
        }


class BodyFormat(StrEnum):
    """Plain text, or XHTML 1.1 wrapped in an XHTML ``div`` (portal format)."""

    TEXT = "text"
    XHTML = "xhtml"


class OnBehalfOf(Frozen):
    """A relative writing for the citizen, and by which right."""

    person: Person
    relation: Relation


class Message(Frozen):
    """One message in a thread."""

    msg_id: str = Field(min_length=1)
    thread_id: str = Field(min_length=1, description="MsgId of the thread's first message")
    parent_id: str | None = None
    kind: MessageKind
    citizen: Person
    service_her_id: str | None = None
    subject: str | None = None
    body: str = ""
    body_format: BodyFormat = BodyFormat.TEXT
    sent_at: AwareDatetime
    on_behalf_of: OnBehalfOf | None = None
    staff_author: str | None = Field(default=None, description="staff member who answered")
    interim: bool = Field(default=False, description="promises a full answer later")

    @model_validator(mode="after")
    def _thread_rules(self) -> Message:
        if self.kind.opens_thread:
            if self.parent_id is not None or self.thread_id != self.msg_id:
                raise ValueError(
                    "a message opening a thread is its own thread id and has no parent"
                )
        elif self.parent_id is None:
            raise ValueError("a reply must name the message it answers (parent_id)")
        if self.on_behalf_of is not None and not self.kind.from_citizen:
            raise ValueError("only the citizen's side writes on behalf of someone")
        if self.staff_author is not None and self.kind.from_citizen:
            raise ValueError("a citizen's message has no staff author")
        if self.kind in {MessageKind.SERVICE_STARTED_DIALOG, MessageKind.SERVICE_NOTICE} and (
            not self.subject
        ):
            raise ValueError("a message started by the service needs a subject")
        return self

    @property
    def shown_subject(self) -> str | None:
        """The subject as Helsenorge shows it (at most 50 characters)."""
        return None if self.subject is None else _shorten(self.subject, SUBJECT_SHOWN_CHARS)

    @property
    def shown_body(self) -> str:
        """The body as Helsenorge shows it (at most 1000 characters)."""
        return _shorten(self.body, BODY_SHOWN_CHARS)

    @property
    def fits_portal(self) -> bool:
        """Whether subject and body are shown whole on helsenorge.no."""
        return (self.subject is None or len(self.subject) <= SUBJECT_SHOWN_CHARS) and len(
            self.body
        ) <= BODY_SHOWN_CHARS


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Thread(Frozen):
    """A thread: its messages in order, and what may happen next."""

    thread_id: str
    messages: tuple[Message, ...]

    @model_validator(mode="after")
    def _belong(self) -> Thread:
        if not self.messages or self.messages[0].msg_id != self.thread_id:
            raise ValueError("a thread starts with the message whose id it carries")
        if any(m.thread_id != self.thread_id for m in self.messages):
            raise ValueError("every message of a thread carries the thread's id")
        return self

    @property
    def closed(self) -> bool:
        """Closed by the service, or a one-off notice that takes no reply."""
        kinds = {m.kind for m in self.messages}
        return MessageKind.THREAD_CLOSED in kinds or MessageKind.SERVICE_NOTICE in kinds

    @property
    def citizen_may_reply(self) -> bool:
        """Whether the portal should let the citizen write in this thread."""
        return not self.closed
