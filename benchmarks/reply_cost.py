"""What measuring each reply's cost (shared/reply_cost.py) adds, side by side in one run.

1. A reply: the sampling tab's generation of N tokens by SmolLM2-135M-Instruct (through the tab's
   batcher, each token's HTML built, as handlers.py streams it), with the meter around it and the
   cost line built at its end (codecarbon's segment, ecologits' estimates, the HTML), against the
   same reply without; the two alternate, the same tokens each time (checked). Printed: medians of
   wall and CPU time and their ratios (target <= 1.02x), the meter's own work per reply timed
   apart (entering and leaving its measure, building the line), and the first reply's wait for
   codecarbon's hardware probe, once per process.
2. The hub's start: `python -X importtime app.py` to its first page, this tree against the tree
   before the meter (BEFORE, from git), alternating; and whether our started hubs had imported
   codecarbon or ecologits (they must not: they load at the first reply), read in their import
   log while they run, beside what importing them and starting the tracker would add to a start
   (a fresh process). Logging the imports costs a start nothing measurable (6.0 s with it, 6.1 s
   without, medians of 3 alternating pairs on a 2-core Xeon VM), and it is on for both trees.

The model comes from its pack, converted once into the default cache (IAGEN_CACHE_DIR, as
`python -m shared.prefetch` leaves it). --quick: a tiny random model, 8 tokens, 2 rounds, one
start each (a check that it runs, not figures).

    python benchmarks/reply_cost.py [--tokens 48] [--repetitions 8] [--starts 3] [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

from common import REPO, hub_environment, machine_description, median, now, run_benchmark, use_tiny_language_models  # noqa: E402
from hub_server import free_port, wait_until_served  # noqa: E402 (tests/ is on the path via common)
from startup import stop  # noqa: E402

BEFORE = "681dcbe"  # the commit before the reply-cost meter
MODEL = "smollm2_135m_instruct"
PROMPT = "Il était une fois, dans une petite ville de montagne,"
SEED = 42
TARGET_RATIO = 1.02
STARTING_THEM = """
import time
started = time.perf_counter()
import codecarbon, ecologits.tracers.utils
imported = time.perf_counter()
from shared.reply_cost import ReplyCostMeter
with ReplyCostMeter().measure():
    pass
print(imported - started, time.perf_counter() - imported)
"""


def replies(tokens: int, repetitions: int) -> dict[str, float]:
    import torch

    from shared.batching import Batcher, KeyValueCaches, ScoresCache
    from shared.hub import Hub
    from shared.reply_cost import ReplyCostMeter, cost_line, hosted_estimates
    from shared.reply_cost_line import reply_cost_html
    from shared.settings import load_settings
    from spaces.sampling import logic, render
    from spaces.sampling.models import language_model

    torch.set_num_threads(1)
    hub = Hub(load_settings([], {**os.environ, "HF_HUB_OFFLINE": "1", "IAGEN_TORCH_THREADS": "1"}))
    plain = language_model(hub, MODEL)
    batcher = Batcher(ScoresCache(2**28), KeyValueCaches(2**28), max_rows=16)
    lm = logic.LanguageModel(plain.model, plain.tokenizer, batcher.for_model(plain.model, "benchmark"))
    settings = logic.SamplingSettings(temperature=0.8, top_k=50, top_p=0.95)
    context = logic.fit_context(lm, logic.encode(lm, PROMPT), room_for_new_tokens=tokens)
    meter = ReplyCostMeter()
    meter_seconds, costs = [], []

    def streamed() -> list[int]:
        shown, ids = "", []
        for token in logic.generate(lm, context, settings, tokens, SEED):
            shown += render.generated_token_html(token, "fr")
            ids.append(token.token_id)
        return ids

    def with_meter() -> list[int]:
        started = time.perf_counter()
        measuring = meter.measure()
        reply = measuring.__enter__()
        entered = time.perf_counter()
        ids = streamed()
        reply.tokens = len(ids)
        generated = time.perf_counter()
        measuring.__exit__(None, None, None)
        reply_cost_html(reply.cost, "fr")
        costs.append(reply.cost)
        meter_seconds.append(entered - started + time.perf_counter() - generated)
        return ids

    streamed()  # warm-up: the batcher's worker, the first passes
    started = time.perf_counter()
    with meter.measure():  # the first reply: codecarbon's hardware probe, once per process
        pass
    probe_s = time.perf_counter() - started
    reply_cost_html(_a_cost(), "fr")  # ecologits' first import: once per process, not each reply's
    sides = {"with": with_meter, "without": streamed}
    times = {name: [] for name in sides}
    cpu_times = {name: [] for name in sides}
    token_ids = set()
    for repetition in range(repetitions):
        for name in ("with", "without") if repetition % 2 == 0 else ("without", "with"):
            cpu_started, started = time.process_time(), time.perf_counter()
            token_ids.add(tuple(sides[name]()))
            times[name].append(time.perf_counter() - started)
            cpu_times[name].append(time.process_time() - cpu_started)
    if len(token_ids) != 1:
        raise AssertionError("the replies with and without the meter differ")
    return {
        "tokens": len(token_ids.pop()),
        "with_s": median(times["with"]),
        "without_s": median(times["without"]),
        "ratio": median(times["with"]) / median(times["without"]),
        "cpu_ratio": median(cpu_times["with"]) / median(cpu_times["without"]),
        "meter_ms": 1e3 * median(meter_seconds),
        "meter_share": median(meter_seconds) / median(times["without"]),
        "first_reply_probe_s": probe_s,
        "energy_measured": meter._energy_measured,
        # What the line under the last reply said, in English
        "line": cost_line(costs[-1], hosted_estimates(costs[-1].tokens), "en"),
        "energy_wh": costs[-1].energy_wh,
        "cpu_s": costs[-1].cpu_seconds,
    }


def _a_cost():
    """A cost to build one line with before timing (ecologits' first import is not a reply's cost)."""
    from shared.reply_cost import ReplyCost

    return ReplyCost(10, 1.0, 0.01, 0.001, False)


def time_hub_start(tree: str, environ: dict[str, str], log_path: str) -> tuple[float, set[str]]:
    """Seconds from `python -X importtime app.py` in `tree` to its first page served (as startup.py
    measures it), and the modules it had imported by then (its import log, read before it stops)."""
    port = free_port()
    with open(log_path, "w") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-X", "importtime", "app.py", "--port", str(port)],
            env=environ,
            cwd=tree,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_served(f"http://127.0.0.1:{port}/", process, 120)
            seconds = time.perf_counter() - started
            return seconds, imported_modules(log_path)
        finally:
            stop(process)


def imported_modules(log_path: str) -> set[str]:
    """The modules named in a -X importtime log: `import time: <self> | <cumulative> | <name>` lines."""
    with open(log_path) as log:
        return {line.rsplit("|", 1)[1].strip() for line in log if line.startswith("import time:")}


def hub_starts(starts: int) -> dict[str, object]:
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="iagen-bench-reply-cost-") as scratch:
        before_tree = f"{scratch}/before"
        os.mkdir(before_tree)
        archive = subprocess.run(["git", "archive", BEFORE], cwd=REPO, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", before_tree], input=archive, check=True)
        environ = hub_environment(f"{scratch}/cache")
        trees = {"ours": str(REPO), "before": before_tree}
        times = {name: [] for name in trees}
        imported_by_ours: set[str] = set()  # by any of our started hubs
        for repetition in range(starts):
            for name in ("ours", "before") if repetition % 2 == 0 else ("before", "ours"):
                seconds, imported = time_hub_start(trees[name], environ, f"{scratch}/hub.log")
                times[name].append(seconds)
                if name == "ours":
                    imported_by_ours |= imported
        results["ours_s"], results["before_s"] = median(times["ours"]), median(times["before"])
        results["ratio"] = results["ours_s"] / results["before_s"]
        results["codecarbon_at_start"] = "codecarbon" in imported_by_ours
        results["ecologits_at_start"] = "ecologits" in imported_by_ours
        done = subprocess.run(
            [sys.executable, "-c", STARTING_THEM], cwd=REPO, env=environ, capture_output=True, text=True, check=True
        )
        results["import_them_s"], results["start_tracker_s"] = (float(value) for value in done.stdout.split()[-2:])
    return results


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=48, help="tokens per reply")
    parser.add_argument("--repetitions", type=int, default=8, help="alternating pairs of replies")
    parser.add_argument("--starts", type=int, default=3, help="alternating pairs of hub starts")
    parser.add_argument("--quick", action="store_true", help="a tiny model, 8 tokens, 2 pairs, 1 start each (seconds)")
    args = parser.parse_args(argv)
    if args.quick:
        args.tokens, args.repetitions, args.starts = 8, 2, 1
        use_tiny_language_models()

    print(f"== Reply costs: what the meter adds — {now()}; {machine_description()}")
    reply = replies(args.tokens, args.repetitions)
    verdict = "within" if reply["ratio"] <= TARGET_RATIO else "ABOVE"
    print(
        f"  reply of {reply['tokens']} tokens ({MODEL}, 1 torch thread), medians of {args.repetitions} alternating pairs:"
    )
    print(
        f"    reply: with the meter {reply['with_s']:.3f} s, without {reply['without_s']:.3f} s -> ratio "
        f"{reply['ratio']:.3f}x ({verdict} the {TARGET_RATIO}x target); CPU time ratio {reply['cpu_ratio']:.3f}x"
    )
    print(
        f"    the meter's own work per reply: {reply['meter_ms']:.1f} ms ({100 * reply['meter_share']:.2f} % of a reply); "
        f"the first reply waits {reply['first_reply_probe_s']:.2f} s for codecarbon's hardware probe, once per process; "
        f"processor energy {'measured (RAPL)' if reply['energy_measured'] else 'modelled from CPU load'}"
    )
    print(f"    the line under the last reply: {reply['line']}")
    start = hub_starts(args.starts)
    print(f"  hub start (`python -X importtime app.py` to its first page), medians of {args.starts} alternating pairs:")
    print(
        f"    hub first page: ours {start['ours_s']:.2f} s, before {start['before_s']:.2f} s -> ratio {start['ratio']:.3f}x"
    )
    yes_no = {True: "yes", False: "no"}
    print(
        f"    at the hub's start: codecarbon imported {yes_no[start['codecarbon_at_start']]}, ecologits imported "
        f"{yes_no[start['ecologits_at_start']]}; importing them would add {start['import_them_s']:.2f} s and starting "
        f"the tracker {start['start_tracker_s']:.2f} s"
    )
    return {"reply": reply, "start": start}


if __name__ == "__main__":
    run_benchmark(main)
