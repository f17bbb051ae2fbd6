"""Gradio's queue, while nothing waits in it: it looks for work every 20 ms instead of every 1 ms.

Gradio's queue (gradio 6.31, queueing.py's `Queue.start_processing`) sleeps `sleep_when_free`,
1 ms, between looks, whether none waits or every slot is taken, and looks for progress to send
every 10 ms whether an event runs or not: ~25 ms of the server's CPU a second for each page's
queue with nothing to do, a quarter of what the hub spent when a room of 100 phones opened
Cémantix's page (its files cost the rest). With this, an empty queue looks every 20 ms (an event
arriving then starts 10 ms later on average), and for progress only while an event runs; a queue
holding events keeps Gradio's millisecond, so that a freed slot is taken at once and a busy hub
serves as many calls.
tests/test_idle_queue.py pins what it relies on against the installed Gradio.
"""

from __future__ import annotations

IDLE_LOOK_S = 0.02  # nothing waits: a new event starts within this
BUSY_LOOK_S = 0.001  # events wait for a slot: Gradio's own (Linux, macOS)
PROGRESS_LOOK_S = 0.01  # events run: Gradio's own


def look_less_when_idle(blocks) -> None:
    """Make the queue of `blocks` (after `blocks.queue(...)`) look for work every IDLE_LOOK_S
    while it is empty, every BUSY_LOOK_S while it holds events."""
    queue = blocks._queue
    for constant in ("sleep_when_free", "progress_update_sleep_when_free"):  # set in Queue.__init__
        queue.__dict__.pop(constant, None)
    looks = {
        "sleep_when_free": property(lambda queue: BUSY_LOOK_S if len(queue) else IDLE_LOOK_S),
        # The progress of running events, sent every 10 ms; none runs: nothing to send.
        "progress_update_sleep_when_free": property(
            lambda queue: PROGRESS_LOOK_S if any(job is not None for job in queue.active_jobs) else IDLE_LOOK_S
        ),
    }
    queue.__class__ = type("LessWhenIdle" + type(queue).__name__, (type(queue),), looks)
