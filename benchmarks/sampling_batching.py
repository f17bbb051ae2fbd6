"""Many users at once on the sampling playground: batched forward passes against the code before
issue 9 (one pass per request), and our batching queue against Gradio's own batching. Gemma 3
270M from its pack (converted in the default cache), torch on one thread.

1. Next-token views on contexts nobody asked for yet (the forward passes no cache can save),
   `--users` threads each asking one after the other for `--seconds`: the code before (each
   request its own pass, the requests in parallel threads as the hub ran them) vs ours (one
   worker, batched). Views per second and latency.
2. The same views through Gradio and HTTP (gradio_client users on an app served here): Gradio's
   batching (`batch=True, max_batch_size`: the function takes the waiting requests' prompts and
   runs one padded pass) vs our queue (`concurrency_limit` handlers sharing shared.batching's
   worker). Which one measures better decides what the tab uses.
3. Generations that start together (`--streams` users pressing « Générer » within 0.1 s, 32
   tokens, every stage on): the code before ran them one after the other (the heavy-call group's
   limit of 1) vs ours, decoding them together. Tokens per second for the room, and each
   stream's tokens checked against `generate()` with its seed.
4. Tokens drawn step by step (issue 22), ours (kept key/value caches, the room's draws joined in
   one pass) against the batcher before it (BEFORE_KEPT_CACHES, loaded from git: a full pass of
   the text for every token), side by side:
   a. one token drawn after a 50-token text, as the page does it (the draw, then the new
      text's view): CPU time, against a bare full pass of the text;
   b. `--sessions` sessions drawing `--draws` tokens each at once vs one session alone:
      tokens per second for the room and per session, the token ids of both sides compared;
   c. a burst of 16 new short prompts (the prefill of a room typing new texts): one padded
      pass (before), ours (the same pass, each row's cache cut out of it), and each body alone
      with one output layer for all (the other way to give every text its cache).

    python benchmarks/sampling_batching.py [--users 16] [--seconds 30] [--streams 4]
    python benchmarks/sampling_batching.py --draws-only [--sessions 16] [--draws 8]
    python benchmarks/sampling_batching.py --quick   # every part, 2 users for 0.5 s, 2 streams, tiny models: it runs
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import subprocess
import sys
import threading
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported

from common import REPO, machine_description, median, now, percentile, run_benchmark, use_tiny_language_models  # noqa: E402
from sampling import SEED, alternate_all, batched, every_stage, hub, logic_before, transformers_generate  # noqa: E402

MODEL = "gemma3_270m"
PROMPTS = (
    "Le chat est assis sur le",
    "Il était une fois, dans une petite ville de montagne,",
    "La capitale de la France est",
    "L'IGN publie des cartes, des photographies aériennes et des",
)
WORDS = ("forêt", "rivière", "carte", "village", "montagne", "route", "champ", "lac", "pont", "colline")
BEFORE_KEPT_CACHES = "2e91199"  # the last commit before issue 22's kept key/value caches
LONG_TEXT = (
    "L'Institut national de l'information géographique et forestière publie des cartes, des "
    "photographies aériennes et des modèles numériques de terrain pour tout le territoire, de la "
    "métropole aux outre-mer, et les met à la disposition de chacun depuis des années. Ce matin,"
)


def distinct_prompt(rng: random.Random) -> str:
    """A prompt of the room's kind that nobody typed before (no cache can answer it)."""
    return f"{rng.choice(PROMPTS)} {rng.choice(WORDS)} {rng.randrange(10**6)}"


def seconds_in_threads(target, count: int) -> float:
    """Run target(0) ... target(count - 1) in threads at once: the seconds until all have ended."""
    started = time.perf_counter()
    threads = [threading.Thread(target=target, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def load_for(seconds: float, users: int, ask) -> dict[str, float]:
    """`users` threads calling `ask(rng)` one after the other for `seconds`: views/s and latency."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    def user(index: int) -> None:
        rng = random.Random(index)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            ask(rng)
            latencies.append(time.perf_counter() - started)

    window = seconds_in_threads(user, users)
    latencies.sort()
    return {
        "views": len(latencies),
        "per_s": len(latencies) / window,
        "p50_ms": percentile(latencies, 0.5) * 1e3,
        "p95_ms": percentile(latencies, 0.95) * 1e3,
    }


def views_in_process(lm, users: int, seconds: float) -> dict[str, dict]:
    from spaces.sampling import logic, render

    before = logic_before()
    before_lm, ours_lm = before.LanguageModel(lm.model, lm.tokenizer), batched(lm)
    settings = every_stage()

    def ask_before(rng):
        context = before.fit_context(before_lm, before.encode(before_lm, distinct_prompt(rng)))
        return render.chart_html(before.next_token_stages(before_lm, context, settings, 10), "fr")

    def ask_ours(rng):
        context = logic.text_context(ours_lm, distinct_prompt(rng))
        return render.chart_html(logic.next_token_stages(ours_lm, context, settings, 10), "fr")

    results = {"before": load_for(seconds, users, ask_before), "ours": load_for(seconds, users, ask_ours)}
    results["ours"]["batches"] = ours_lm.passes.batcher.forward_passes
    return results


def views_through_gradio(lm, users: int, seconds: float) -> dict[str, dict]:
    """Both batchings behind one Gradio app, called over HTTP by gradio_client users."""
    import gradio as gr
    import torch
    from gradio_client import Client

    from shared.batching import last_scores, left_padded
    from spaces.sampling import logic, render

    ours_lm = batched(lm)
    settings = every_stage()

    def view_html(context, scores) -> str:
        stages = logic.next_token_stages(
            logic.LanguageModel(lm.model, lm.tokenizer, _Given(scores)), context, settings, 10
        )
        return render.chart_html(stages, "fr")

    def gradio_batched(prompts: list[str]) -> list[list[str]]:
        contexts = [logic.text_context(lm, prompt) for prompt in prompts]
        input_ids, mask, positions = left_padded([context.ids for context in contexts], lm.device)
        with torch.inference_mode():
            scores = last_scores(
                lm.model(input_ids=input_ids, attention_mask=mask, position_ids=positions, logits_to_keep=1)
            )
        return [[view_html(context, row) for context, row in zip(contexts, scores, strict=True)]]

    def queued(prompt: str) -> str:
        context = logic.text_context(ours_lm, prompt)
        return render.chart_html(logic.next_token_stages(ours_lm, context, settings, 10), "fr")

    with gr.Blocks() as app:
        prompt, shown = gr.Textbox(), gr.HTML()
        gr.Button().click(gradio_batched, prompt, shown, api_name="gradio_batched", batch=True, max_batch_size=users)
        gr.Button().click(queued, prompt, shown, api_name="queued", concurrency_limit=users)
    app.queue(default_concurrency_limit=users)
    _, url, _ = app.launch(prevent_thread_lock=True, quiet=True)
    try:
        clients = [Client(url, verbose=False, ssl_verify=False) for _ in range(users)]
        results = {}
        for api_name in ("gradio_batched", "queued"):
            local = threading.local()
            handed = iter(range(users))
            handed_lock = threading.Lock()

            def ask(rng, api_name=api_name, local=local, handed=handed, handed_lock=handed_lock):
                if not hasattr(local, "client"):
                    with handed_lock:
                        local.client = clients[next(handed)]
                return local.client.predict(distinct_prompt(rng), api_name=f"/{api_name}")

            results[api_name] = load_for(seconds, users, ask)
        for client in clients:
            client.close()
        return results
    finally:
        app.close()


class _Given:
    """Passes that return scores computed already (Gradio's batch function ran the pass)."""

    def __init__(self, scores):
        self.given = scores

    def scores(self, contexts):
        return [self.given]


def generations_together(lm, streams: int, tokens: int) -> dict[str, float]:
    from spaces.sampling import logic

    before = logic_before()
    before_lm, ours_lm = before.LanguageModel(lm.model, lm.tokenizer), batched(lm)
    settings = every_stage()
    prompts = [PROMPTS[index % len(PROMPTS)] for index in range(streams)]
    contexts = [logic.fit_context(lm, logic.encode(lm, prompt), room_for_new_tokens=tokens) for prompt in prompts]

    started = time.perf_counter()  # before: one after the other
    before_ids = [
        [t.token_id for t in before.generate(before_lm, before.Context(c.ids), settings, tokens, SEED + i)]
        for i, c in enumerate(contexts)
    ]
    before_s = time.perf_counter() - started

    ours_ids: list[list[int] | None] = [None] * streams

    def press(index: int) -> None:
        time.sleep(0.1 * index / streams)  # the room presses within a tenth of a second
        stream = logic.generate(ours_lm, contexts[index], settings, tokens, SEED + index)
        ours_ids[index] = [token.token_id for token in stream]

    ours_s = seconds_in_threads(press, streams)

    for index, context in enumerate(contexts):
        expected = transformers_generate(lm, context.ids, settings, tokens, SEED + index)
        if not ours_ids[index] == before_ids[index] == expected:
            raise AssertionError(f"stream {index}: ours, the code before and generate() disagree on the tokens")
    count = sum(len(ids) for ids in ours_ids)
    return {"tokens": count, "before_tok_s": count / before_s, "ours_tok_s": count / ours_s}


def batching_before():
    """shared/batching.py as it was at BEFORE_KEPT_CACHES, imported from git under its own name."""
    source = subprocess.run(
        ["git", "show", f"{BEFORE_KEPT_CACHES}:shared/batching.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    spec = importlib.util.spec_from_loader("batching_before", loader=None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    exec(compile(source, f"{BEFORE_KEPT_CACHES}:shared/batching.py", "exec"), module.__dict__)
    return module


def drawing_sides(lm) -> dict:
    """A fresh tab's model for each side: its passes through our batcher or the one before."""
    from shared.batching import Batcher, KeyValueCaches, ScoresCache
    from spaces.sampling import logic

    before = batching_before()

    def ours():
        batcher = Batcher(ScoresCache(256 * 2**20), KeyValueCaches(256 * 2**20), max_rows=16)
        return logic.LanguageModel(lm.model, lm.tokenizer, batcher.for_model(lm.model, "benchmark"))

    def code_before():
        batcher = before.Batcher(before.ScoresCache(256 * 2**20), max_rows=16)
        return logic.LanguageModel(lm.model, lm.tokenizer, batcher.for_model(lm.model, "benchmark"))

    return {"ours": ours, "before": code_before}


def text_of(lm, tokens: int) -> str:
    """The longest start of LONG_TEXT, cut at a word, that is at most `tokens` tokens long."""
    from spaces.sampling import logic

    words = LONG_TEXT.split(" ")
    while len(logic.encode(lm, " ".join(words))) > tokens:
        words.pop()
    return " ".join(words)


def draw_and_view(lm, steps, settings):
    """What the page does for « tirer un token »: the draw, then the new text's view."""
    from spaces.sampling import logic, render

    steps = logic.draw_step(lm, steps, settings)
    view = logic.next_token_stages(lm, logic.steps_context(lm, steps), settings, top_n=10)
    render.chart_html(view, "fr")
    return steps


def one_token_drawn(lm, repetitions: int) -> dict[str, float]:
    """One token drawn after a 50-token text (its view shown first, untimed): CPU time per side."""
    import torch

    from spaces.sampling import logic

    settings = every_stage()
    text = text_of(lm, 50)
    sides = drawing_sides(lm)
    ids = logic.text_context(lm, text).ids

    def drawn(make_lm, seed):
        def draw():
            side_lm = make_lm()
            steps = logic.Steps(text, seed=seed)
            logic.next_token_stages(side_lm, logic.steps_context(side_lm, steps), settings)  # the text's view
            started = time.process_time()  # a batcher works in its own thread: the whole process's CPU
            steps = draw_and_view(side_lm, steps, settings)
            return time.process_time() - started, steps.token_ids

        return draw

    def full_pass():
        started = time.process_time()
        with torch.inference_mode():
            lm.model(input_ids=torch.tensor([list(ids) + [ids[-1]]]), use_cache=False, logits_to_keep=1)
        return time.process_time() - started, ()

    timed_sides = {name: drawn(make, SEED) for name, make in sides.items()} | {"bare": full_pass}
    for side in timed_sides.values():  # warm-up
        side()
    _, results, _ = alternate_all(repetitions, timed_sides)
    cpu = {name: median(seconds for seconds, _ in runs) for name, runs in results.items()}
    same = all(ours[1] == before[1] for ours, before in zip(results["ours"], results["before"], strict=True))
    return {"text_tokens": len(ids), **{f"{name}_cpu_ms": seconds * 1e3 for name, seconds in cpu.items()}, "same": same}


def sessions_drawing(lm, sessions: int, draws: int) -> dict[str, dict[str, float]]:
    """`sessions` sessions, each on its own ~50-token text, drawing `draws` tokens at once (their
    texts' views shown first, untimed), then one session alone: tokens per second and CPU time
    per token (the whole process's), the token ids of both sides compared."""
    from spaces.sampling import logic

    settings = every_stage()
    start = text_of(lm, 44)
    texts = [f"{start} {WORDS[index % len(WORDS)]} {index}" for index in range(sessions)]

    def drawing(side_lm, texts: list[str]) -> tuple[float, float, list]:
        """The texts' views (untimed), then each session draws in its own thread: seconds, CPU
        seconds, the token ids."""
        all_steps = [logic.Steps(text, seed=SEED + index) for index, text in enumerate(texts)]
        logic.compare_prompts(side_lm, [logic.steps_context(side_lm, steps) for steps in all_steps])

        def session(index: int) -> None:
            for _ in range(draws):
                all_steps[index] = draw_and_view(side_lm, all_steps[index], settings)

        cpu_started = time.process_time()
        seconds = seconds_in_threads(session, len(texts))
        return seconds, time.process_time() - cpu_started, [steps.token_ids for steps in all_steps]

    results, token_ids = {}, {}
    for name, make_lm in drawing_sides(lm).items():
        together_s, together_cpu_s, token_ids[name] = drawing(make_lm(), texts)
        alone_s, alone_cpu_s, _ = drawing(make_lm(), [texts[0] + " seul"])
        results[name] = {
            "room_tok_s": sessions * draws / together_s,
            "per_session_tok_s": draws / together_s,
            "room_cpu_ms_per_token": together_cpu_s / (sessions * draws) * 1e3,
            "alone_tok_s": draws / alone_s,
            "alone_cpu_ms_per_token": alone_cpu_s / draws * 1e3,
        }
    results["text_tokens"] = len(logic.text_context(lm, texts[0]).ids)
    results["same_ids"] = token_ids["ours"] == token_ids["before"]
    return results


def burst_of_new_prompts(lm, prompts: int, repetitions: int) -> dict[str, float]:
    """`prompts` new short prompts at once: CPU time of the before's padded pass, ours (padded,
    each row's cache cut out), and each body alone with one output layer (caches kept too)."""
    import torch

    from shared.batching import output_scores
    from spaces.sampling import logic

    rng = random.Random(SEED)
    contexts = [logic.text_context(lm, distinct_prompt(rng)).ids for _ in range(prompts)]
    sides = drawing_sides(lm)

    def through(make_lm):
        def run():
            passes = make_lm().passes
            started = time.process_time()
            passes.scores(contexts)
            return time.process_time() - started

        return run

    def bodies_alone():
        started = time.process_time()
        with torch.inference_mode():
            body = lm.model.get_decoder()
            hidden = [body(input_ids=torch.tensor([ids]), use_cache=True).last_hidden_state[0, -1] for ids in contexts]
            output_scores(lm.model, torch.stack(hidden))
        return time.process_time() - started

    timed_sides = {"before": through(sides["before"]), "ours": through(sides["ours"]), "alone": bodies_alone}
    for side in timed_sides.values():  # warm-up
        side()
    _, results, _ = alternate_all(repetitions, timed_sides)
    return {"tokens": [len(ids) for ids in contexts]} | {
        f"{name}_cpu_ms": median(seconds) * 1e3 for name, seconds in results.items()
    }


def print_draws(lm, sessions: int, draws: int, repetitions: int, new_prompts: int) -> dict[str, object]:
    one = one_token_drawn(lm, repetitions)
    print(
        f"  one token drawn after a {one['text_tokens']}-token text (the draw and the new text's view), CPU: "
        f"ours {one['ours_cpu_ms']:.0f} ms vs before {one['before_cpu_ms']:.0f} ms -> "
        f"{one['ours_cpu_ms'] / one['before_cpu_ms']:.2f}x (target <= 0.3x); a bare full pass of the text "
        f"{one['bare_cpu_ms']:.0f} ms; the same token on both sides: {one['same']}"
    )
    room = sessions_drawing(lm, sessions, draws)
    print(f"  {sessions} sessions, each on its own {room['text_tokens']}-token text, drawing {draws} tokens at once:")
    for name in ("before", "ours"):
        figures = room[name]
        print(
            f"    {name:6} {figures['room_tok_s']:5.1f} tok/s for the room, {figures['per_session_tok_s']:.2f} per "
            f"session, {figures['room_cpu_ms_per_token']:.0f} ms of CPU a token; one session alone "
            f"{figures['alone_tok_s']:.1f} tok/s, {figures['alone_cpu_ms_per_token']:.0f} ms of CPU a token"
        )
    print(
        f"    -> the room {room['ours']['room_tok_s'] / room['before']['room_tok_s']:.1f}x the tokens per second; "
        f"the same token ids on both sides: {room['same_ids']}"
    )
    burst = burst_of_new_prompts(lm, new_prompts, repetitions)
    print(
        f"  {len(burst['tokens'])} new prompts at once ({min(burst['tokens'])}-{max(burst['tokens'])} tokens), CPU: one padded pass "
        f"(before) {burst['before_cpu_ms']:.0f} ms, ours (padded, caches cut out) {burst['ours_cpu_ms']:.0f} ms, "
        f"each body alone {burst['alone_cpu_ms']:.0f} ms"
    )
    return {"one_token": one, "sessions": room, "burst": burst}


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--draws-only", action="store_true", help="only the tokens drawn step by step (part 4)")
    parser.add_argument("--sessions", type=int, default=16)
    parser.add_argument("--draws", type=int, default=8)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="every part on 2 users, streams or sessions (seconds)")
    args = parser.parse_args(argv)
    stream_tokens, new_prompts = (8, 4) if args.quick else (32, 16)  # tokens per stream; new prompts at once
    if args.quick:
        # Four loads of 0.5 s: every user still asks at least once (its first call starts at once).
        args.users, args.seconds, args.streams = 2, 0.5, 2
        args.sessions, args.draws, args.repetitions = 2, 2, 1
        use_tiny_language_models()

    import torch

    from spaces.sampling.models import language_model

    torch.set_num_threads(1)
    lm = language_model(hub(), MODEL)
    print(f"== Sampling playground, many users at once — {now()}; {machine_description()}")
    results: dict[str, object] = {}
    if args.draws_only:
        results["draws"] = print_draws(lm, args.sessions, args.draws, args.repetitions, new_prompts)
        return results

    views = results["views"] = views_in_process(lm, args.users, args.seconds)
    print(f"  {args.users} users asking next-token views of new contexts for {args.seconds:g} s (in process):")
    for name, figures in views.items():
        print(
            f"    {name:8} {figures['per_s']:5.1f} views/s, p50 {figures['p50_ms']:6.0f} ms, p95 {figures['p95_ms']:6.0f} ms"
        )
    print(f"    -> {views['ours']['per_s'] / views['before']['per_s']:.1f}x the views per second")

    through = results["through_gradio"] = views_through_gradio(lm, args.users, args.seconds)
    print(f"  the same through Gradio, {args.users} gradio_client users:")
    for name, figures in through.items():
        print(
            f"    {name:15} {figures['per_s']:5.1f} views/s, p50 {figures['p50_ms']:6.0f} ms, "
            f"p95 {figures['p95_ms']:6.0f} ms"
        )

    streams = results["streams"] = generations_together(lm, args.streams, stream_tokens)
    print(
        f"  {args.streams} generations pressed together, {stream_tokens} tokens each, every stage on: ours "
        f"{streams['ours_tok_s']:.1f} tok/s for the room vs {streams['before_tok_s']:.1f} one after the other -> "
        f"{streams['ours_tok_s'] / streams['before_tok_s']:.2f}x (target >= 1.3x); the tokens of generate()"
    )
    results["draws"] = print_draws(lm, args.sessions, args.draws, args.repetitions, new_prompts)
    return results


if __name__ == "__main__":
    run_benchmark(main)
