"""Answer deadlines end to end, for every vendor, on both backends.

A citizen's message is due by the end of the next Norwegian working day; an
interim answer from staff is recorded as such and leaves the deadline
standing (a full answer is still owed); the full answer clears it. Past its
deadline an unanswered thread is listed as overdue, interim answer and all.
"""

from __future__ import annotations

from datetime import timedelta

from digidialog.domain import answer_deadline, is_working_day, to_oslo
from digidialog.helsenorge import Function
from digidialog.store import Thread
from tests.engine.world import World, eventually


def thread(world: World, root: str) -> Thread | None:
    """The store's thread with this root."""
    return world.store.threads.get(root)


def test_interim_answers_keep_the_deadline_and_the_full_answer_clears_it(
        running: World) -> None:
    """Deadline set on arrival, interim recorded, overdue past the deadline, cleared by 19."""
    world = running
    citizen = world.citizens[0]
    question = world.portal.send_citizen_message(world.municipality, world.service, citizen)
    owed = eventually(lambda: (t := thread(world, question.msg_id)) and t.answer_deadline
                      and t, timeout=15, what="the thread and its deadline")
    assert owed.last_citizen_message_at is not None and owed.answer_deadline is not None
    assert owed.answer_deadline == answer_deadline(owed.last_citizen_message_at)
    due_day = to_oslo(owed.answer_deadline - timedelta(seconds=1)).date()
    assert is_working_day(due_day) and due_day > to_oslo(owed.last_citizen_message_at).date()

    world.harness.write_staff_message(citizen, "Vi ser på saken og svarer i morgen.",
                                      thread_id=question.msg_id, in_reply_to=question.msg_id,
                                      interim=True)
    world.portal.wait_for(function=Function.SERVICE_REPLY, thread=question.msg_id, timeout=15)
    interim = eventually(lambda: (t := thread(world, question.msg_id)) and t.interim_answer_at
                         and t, timeout=15, what="the interim answer recorded")
    assert interim.answer_deadline == owed.answer_deadline, "an interim answer is no answer"
    assert interim.last_answer_at is None
    after = owed.answer_deadline + timedelta(seconds=1)
    [late] = world.store.threads.overdue(after, world.municipality)
    assert late.root == question.msg_id and late.interim_answer_at == interim.interim_answer_at
    assert world.store.threads.overdue(owed.answer_deadline - timedelta(seconds=1),
                                       world.municipality) == []

    world.harness.write_staff_message(citizen, "Vi kommer kl. 10.", thread_id=question.msg_id,
                                      in_reply_to=question.msg_id)
    answered = eventually(lambda: (t := thread(world, question.msg_id))
                          and t.answer_deadline is None and t, timeout=15,
                          what="the full answer clears the deadline")
    assert answered.last_answer_at is not None and answered.interim_answer_at is None
    assert world.store.threads.overdue(after, world.municipality) == []
    world.portal.assert_no_violations()
