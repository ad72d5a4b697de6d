"""Writing Faust tables from a batch (`stream.take_events`), which faust-streaming 0.15.3 does
not support (upstream issue #497, open): a table write finds the key's partition, for its
changelog and its local RocksDB store, from `faust.current_event()`, and in a take_events
batch that is never set in the agent's task (the stream fills the batch from another task).

`faust.current_event()` is the public way to read the event being processed; there is no
public way to set it (`Stream._set_current_event` is private too). So this one module sets the
context variable that `faust.current_event()` reads, for the duration of a write, to the event
whose partition the key belongs to. tests/unit/test_aggregator_watchdog.py checks through the
public reader that it still takes, so an upgrade that moves it fails there, not in production.
"""

import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import faust
import faust.streams as faust_streams


@contextmanager
def writing_as(event: faust.EventT) -> Iterator[None]:
    """Table reads and writes inside the block go to `event`'s partition."""
    token = faust_streams._current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        faust_streams._current_event.reset(token)
