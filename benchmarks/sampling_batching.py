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

    python benchmarks/sampling_batching.py [--users 16] [--seconds 30] [--streams 4]
"""

from __future__ import annotations

import argparse
import os
import random
import threading
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported

from common import machine_description, now, percentile  # noqa: E402
from sampling import SEED, batched, every_stage, hub, logic_before, transformers_generate  # noqa: E402

MODEL = "gemma3_270m"
PROMPTS = (
    "Le chat est assis sur le",
    "Il était une fois, dans une petite ville de montagne,",
    "La capitale de la France est",
    "L'IGN publie des cartes, des photographies aériennes et des",
)
WORDS = ("forêt", "rivière", "carte", "village", "montagne", "route", "champ", "lac", "pont", "colline")


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


def generations_together(lm, streams: int, tokens: int = 32) -> dict[str, float]:
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


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--streams", type=int, default=4)
    args = parser.parse_args(argv)

    import torch

    from spaces.sampling.models import language_model

    torch.set_num_threads(1)
    lm = language_model(hub(), MODEL)
    print(f"== Sampling playground, many users at once — {now()}; {machine_description()}")
    results: dict[str, object] = {}

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

    streams = results["streams"] = generations_together(lm, args.streams)
    print(
        f"  {args.streams} generations pressed together, 32 tokens each, every stage on: ours "
        f"{streams['ours_tok_s']:.1f} tok/s for the room vs {streams['before_tok_s']:.1f} one after the other -> "
        f"{streams['ours_tok_s'] / streams['before_tok_s']:.2f}x (target >= 1.3x); the tokens of generate()"
    )
    return results


if __name__ == "__main__":
    main()
