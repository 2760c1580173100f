"""TinyDB is not thread-safe: the store's one lock is what keeps threads from losing or repeating writes.

The mock's handlers run on one event loop, but the store is a library anyone can import (and the group
commit's fsync runs in a thread), so every call into TinyDB goes through :attr:`Store.lock`. The first test
is the guarantee; the second shows that it is the lock that gives it, by running the same work without it.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from typing import Iterator

import pytest

from mockserver.store import Store

THREADS = 8
WRITES_PER_THREAD = 400


@pytest.fixture
def busy_switching() -> Iterator[None]:
    """Switch threads as often as CPython allows, so that any unguarded read-modify-write interleaves."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


def hammer(store: Store) -> tuple[list[int], int, list[Exception]]:
    """Threads taking numbers from one sequence and storing a record under each.

    Returns the numbers handed out, how many records are stored, and what the threads raised.
    """
    session = store.session("threads")
    numbers: list[int] = []
    errors: list[Exception] = []
    start = threading.Barrier(THREADS)

    def work(thread: int) -> None:
        start.wait()
        for i in range(WRITES_PER_THREAD):
            try:
                number = session.next_number("seq")
                session.table("records").insert(f"{thread}-{i}", {"number": number})
            except Exception as exc:  # an unguarded TinyDB may also fail outright
                errors.append(exc)
                continue
            numbers.append(number)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return numbers, len(session.table("records")), errors


def test_concurrent_threads_get_unique_numbers_and_keep_every_write(busy_switching):
    numbers, stored, errors = hammer(Store())
    assert errors == []
    assert sorted(numbers) == list(range(1, THREADS * WRITES_PER_THREAD + 1))
    assert stored == THREADS * WRITES_PER_THREAD


def test_without_the_lock_the_same_threads_repeat_numbers(busy_switching):
    store = Store()
    store.lock = contextlib.nullcontext()  # what the store would be without its guard
    numbers, _, errors = hammer(store)
    assert errors or len(set(numbers)) < len(numbers), "unguarded, the read-modify-writes should have interleaved"
