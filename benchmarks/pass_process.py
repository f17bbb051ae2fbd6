"""The language models' passes in a process of their own (shared/pass_process.py) against the
same passes in the hub's process (shared/batching.py's worker thread), side by side in one run,
with Gemma 3 270M (its pack, from the default cache as `python -m shared.prefetch` leaves it).

Each side computes the next-token scores of the same new texts (a forward pass each, one after
the other), first on a quiet process, then beside a Python thread busy 60 % of the time in
12 ms bursts, as Gradio's event loop is under a room's load. Printed: milliseconds per pass on
each side, their ratio, and the busy thread's own work done meanwhile (bursts per second: what
the event loop would get through).

    python benchmarks/pass_process.py [--texts 12] [--quick]

--quick: 2 texts per side and condition, on tiny random models in Gemma's place (a check that it runs).
"""

from __future__ import annotations

import argparse
import os
import threading
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

from common import machine_description, median, now, run_benchmark, use_tiny_language_models  # noqa: E402

WORDS = ("forêt", "rivière", "carte", "village", "montagne", "champ", "route", "ville", "lac", "colline")
BURST_S, PAUSE_S = 0.012, 0.008  # the busy thread: 60 % of the time in Python


class BusyThread:
    """Pure Python work in bursts, as an event loop answering a room: counts its bursts."""

    def __init__(self):
        self.bursts = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            while time.perf_counter() - started < BURST_S:
                pass
            self.bursts += 1
            time.sleep(PAUSE_S)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_):
        self._stop.set()
        self._thread.join()


def new_texts(count: int, round_: int) -> list[list[int]]:
    """Texts nobody sent before in this run (no kept scores, no kept cache): 12-16 tokens each."""
    return [
        f"Le chat est assis sur le {WORDS[index % len(WORDS)]} {WORDS[round_ % len(WORDS)]} numéro {index} {round_}"
        for index in range(count)
    ]


def timed_passes(passes, tokenizer, texts: list[str]) -> float:
    """Median milliseconds per pass, one new text after the other."""
    timings = []
    for text in texts:
        ids = tokenizer(text)["input_ids"]
        started = time.perf_counter()
        passes.scores([ids])
        timings.append(time.perf_counter() - started)
    return 1e3 * median(timings)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=12, help="new texts per side and condition")
    parser.add_argument("--quick", action="store_true", help="2 texts, tiny random models (seconds)")
    args = parser.parse_args(argv)
    if args.quick:
        args.texts = 2
        use_tiny_language_models()

    import torch

    from shared.batching import Batcher, KeyValueCaches, ScoresCache
    from shared.hub import Hub
    from shared.language_models import load_model, load_tokenizer
    from shared.pass_process import PassProcess
    from shared.settings import load_settings

    torch.set_num_threads(1)
    hub = Hub(load_settings(["--torch-threads", "1"]))
    model, tokenizer = load_model(hub, "gemma3_270m"), load_tokenizer(hub, "gemma3_270m")
    in_hub = Batcher(ScoresCache(2**28), KeyValueCaches(2**28), max_rows=16).for_model(model, "gemma3_270m")
    process = PassProcess(ScoresCache(2**28), kv_cache_bytes=2**28, max_rows=16, threads=1)
    in_process = process.for_model(model, "gemma3_270m", streams=in_hub)
    sides = {"in the hub's process": in_hub, "in a process of its own": in_process}
    for passes in sides.values():  # loaded and warm: the process imports torch and loads its copy
        timed_passes(passes, tokenizer, new_texts(3, 99))

    print(f"== Next-token passes, Gemma 3 270M, new texts of 12-16 tokens — {now()}; {machine_description()}")
    results = {}
    for round_, condition in enumerate(("quiet", "beside a busy Python thread")):
        for name, passes in sides.items():
            texts = new_texts(args.texts, 10 * round_ + len(results))
            if condition == "quiet":
                results[(condition, name)] = (timed_passes(passes, tokenizer, texts), None)
                continue
            with BusyThread() as busy:
                started = time.perf_counter()
                milliseconds = timed_passes(passes, tokenizer, texts)
                bursts_per_s = busy.bursts / (time.perf_counter() - started)
            results[(condition, name)] = (milliseconds, bursts_per_s)
    process.close()
    alone = 1 / (BURST_S + PAUSE_S)
    figures = {}
    for condition in ("quiet", "beside a busy Python thread"):
        print(f"  {condition}:")
        figures[condition] = {}
        for name in sides:
            milliseconds, bursts = results[(condition, name)]
            busy_note = "" if bursts is None else f"; the busy thread got {bursts:.0f} of its {alone:.0f} bursts/s"
            print(f"    {name:26} {milliseconds:6.1f} ms a pass{busy_note}")
            figures[condition][name] = {"ms_a_pass": milliseconds, "busy_bursts_per_s": bursts}
        ratio = results[(condition, "in the hub's process")][0] / results[(condition, "in a process of its own")][0]
        print(f"    -> the hub's process takes {ratio:.2f}x the time of a process of its own")
        figures[condition]["ratio"] = ratio
    return figures


if __name__ == "__main__":
    run_benchmark(main)
