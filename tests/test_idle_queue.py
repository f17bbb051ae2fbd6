"""shared/idle_queue.py: Gradio's queue looks for work every 20 ms while empty, every millisecond
while events wait, and for progress only while an event runs; what it relies on in Gradio."""

from __future__ import annotations

import inspect
import threading
import time

from shared.idle_queue import BUSY_LOOK_S, IDLE_LOOK_S, PROGRESS_LOOK_S, look_less_when_idle


def test_gradios_queue_reads_its_sleeps_from_the_queue_at_each_look():
    """What look_less_when_idle relies on (gradio 6.31, queueing.py)."""
    from gradio.queueing import Queue

    assert "self.sleep_when_free =" in inspect.getsource(Queue.__init__)
    assert "self.progress_update_sleep_when_free =" in inspect.getsource(Queue.__init__)
    assert "await asyncio.sleep(self.sleep_when_free)" in inspect.getsource(Queue.start_processing)
    assert "asyncio.sleep(self.progress_update_sleep_when_free)" in inspect.getsource(Queue.start_progress_updates)


def test_an_idle_queue_looks_less_often_and_a_busy_one_as_gradio_does():
    import gradio as gr
    from gradio_client import Client

    started = threading.Event()

    def slow(text):
        started.set()
        time.sleep(0.6)
        return text.upper()

    with gr.Blocks() as blocks:
        box, out = gr.Textbox(), gr.Textbox()
        box.submit(slow, box, out, api_name="slow", concurrency_limit=1)
    blocks.queue()
    look_less_when_idle(blocks)
    queue = blocks._queue
    assert (queue.sleep_when_free, queue.progress_update_sleep_when_free) == (IDLE_LOOK_S, IDLE_LOOK_S)
    _, url, _ = blocks.launch(prevent_thread_lock=True, quiet=True)
    try:
        client = Client(url, verbose=False)
        jobs = [client.submit(word, api_name="/slow") for word in ("un", "deux", "trois")]
        assert started.wait(10)
        time.sleep(0.2)  # one runs, two wait for its slot
        assert queue.sleep_when_free == BUSY_LOOK_S and queue.progress_update_sleep_when_free == PROGRESS_LOOK_S
        assert [job.result(timeout=30) for job in jobs] == ["UN", "DEUX", "TROIS"]
        time.sleep(0.2)
        assert (queue.sleep_when_free, queue.progress_update_sleep_when_free) == (IDLE_LOOK_S, IDLE_LOOK_S)
        client.close()
    finally:
        blocks.close()
