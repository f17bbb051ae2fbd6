"""The sampling playground against the plain transformers calls and against itself before
issue 9 (its logic loaded from git at BEFORE, the commit before the batching work), side by
side in one run; one user alone.

1. Streamed generation, consumed token by token with each token's HTML as the Générer view
   streams it: ours (through the tab's batcher, as the tab runs it) vs the code before vs
   `model.generate()`, same settings and seed, in tokens per second (targets: >= 1.3x before,
   which was 1.03x generate()). Every stage is on (temperature 0.8, top-k 50, top-p 0.95,
   min-p 0.05, repetition penalty 1.1); all three must give the same token ids, which is checked.
2. Next-token view (encode + forward pass + the six stages + the table and chart HTML): ours on
   a context not seen yet (through the batcher, its cache emptied), ours on a context seen
   already (a slider move), the code before, and one bare forward pass
   `model(input_ids, logits_to_keep=1)`; on the lecture's short prompt and on a ~500-token text
   (targets: first view <= 1.05x before, <= 1.2x the bare pass).
3. Load time, each model in a fresh process: from the packaged GGUF (dequantized to float32) vs
   from the converted safetensors in the model cache (converted first if needed).
4. Resident memory of a fresh process with both models loaded through the hub's cache and used.
5. Torch threads 1 vs 2: generation speed and next-token latency of SmolLM2.

Both models come from their packs, converted once into the default cache (IAGEN_CACHE_DIR, as
`python -m shared.prefetch` leaves it). Calls alternate between the two sides; medians are printed.

--quick runs every part with 8 tokens, the fewest rounds, a long text of ~60 tokens and one model's
load, on tiny random models of the two architectures (benchmarks/common.py
use_tiny_language_models): a check that it runs, not figures.

    python benchmarks/sampling.py [--tokens 48] [--repetitions 3] [--one-user-only] [--quick]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported; the thread phase changes it

from common import REPO, machine_description, median, mib, now, run_benchmark, use_tiny_language_models  # noqa: E402

MODELS = ("gemma3_270m", "smollm2_135m_instruct")
GENERATION_PROMPT = "Il était une fois, dans une petite ville de montagne,"
LONG_PROMPT_SENTENCE = (
    "L'Institut national de l'information géographique et forestière publie des cartes, des "
    "photographies aériennes et des modèles numériques de terrain. "
)
LONG_PROMPT = LONG_PROMPT_SENTENCE * 20
QUICK_LONG_PROMPT = LONG_PROMPT_SENTENCE * 2
SEED = 1234
BEFORE = "31d0abf"  # the last commit before issue 9's batching, caching and fast top-p


def logic_before():
    """spaces/sampling/logic.py as it was at BEFORE, imported from git under its own name."""
    source = subprocess.run(
        ["git", "show", f"{BEFORE}:spaces/sampling/logic.py"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    spec = importlib.util.spec_from_loader("sampling_logic_before", loader=None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    exec(compile(source, f"{BEFORE}:spaces/sampling/logic.py", "exec"), module.__dict__)
    return module


def batched(lm):
    """The model as the tab runs it: its passes through a batcher with an empty scores cache."""
    from shared.batching import Batcher, KeyValueCaches, ScoresCache
    from spaces.sampling import logic

    batcher = Batcher(ScoresCache(256 * 2**20), KeyValueCaches(256 * 2**20), max_rows=16)
    return logic.LanguageModel(lm.model, lm.tokenizer, batcher.for_model(lm.model, "benchmark"))


def hub():
    from shared.hub import Hub
    from shared.settings import load_settings

    return Hub(load_settings([], {**os.environ, "HF_HUB_OFFLINE": "1", "IAGEN_TORCH_THREADS": "1"}))


def every_stage():
    from spaces.sampling.logic import SamplingSettings

    return SamplingSettings(temperature=0.8, top_k=50, top_p=0.95, min_p=0.05, repetition_penalty=1.1)


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def alternate_all(repetitions: int, sides: dict) -> tuple[dict[str, list[float]], dict[str, list], dict]:
    """Run every side `repetitions` times, each time in another order: their wall times, their
    results, and their CPU times (the whole process's: a batcher works in its own thread). On a
    machine shared with other work the CPU time is the steadier measure of what a side costs."""
    names = list(sides)
    times = {name: [] for name in names}
    cpu_times = {name: [] for name in names}
    results = {name: [] for name in names}
    for repetition in range(repetitions):
        shift = repetition % len(names)
        for name in names[shift:] + names[:shift]:
            cpu_started = time.process_time()
            seconds, result = timed(sides[name])
            cpu_times[name].append(time.process_time() - cpu_started)
            times[name].append(seconds)
            results[name].append(result)
    return times, results, cpu_times


def transformers_generate(lm, ids, settings, tokens: int, seed: int) -> list[int]:
    """The plain library call our streams are compared with: `generate()` with the same stages and seed."""
    import torch

    input_ids = torch.tensor([list(ids)])
    torch.manual_seed(seed)
    output = lm.model.generate(
        input_ids,
        attention_mask=torch.ones_like(input_ids),
        do_sample=True,
        max_new_tokens=tokens,
        temperature=settings.temperature,
        top_k=settings.top_k,
        top_p=settings.top_p,
        min_p=settings.min_p,
        repetition_penalty=settings.repetition_penalty,
        eos_token_id=sorted(lm.end_token_ids),
        pad_token_id=lm.tokenizer.pad_token_id,
    )
    return output[0, input_ids.shape[1] :].tolist()


def generation(lm, tokens: int, repetitions: int) -> dict[str, float]:
    from spaces.sampling import logic, render

    before = logic_before()
    ours_lm, before_lm = batched(lm), before.LanguageModel(lm.model, lm.tokenizer)
    settings = every_stage()
    context = logic.fit_context(lm, logic.encode(lm, GENERATION_PROMPT), room_for_new_tokens=tokens)

    def streamed(stream):
        shown, ids = "", []
        for token in stream:
            shown += render.generated_token_html(token, "fr")
            ids.append(token.token_id)
        return ids

    def ours():
        return streamed(logic.generate(ours_lm, context, settings, tokens, SEED))

    def code_before():
        return streamed(before.generate(before_lm, before.Context(context.ids), settings, tokens, SEED))

    def generate():
        return transformers_generate(lm, context.ids, settings, tokens, SEED)

    sides = {"ours": ours, "before": code_before, "generate": generate}
    for side in sides.values():  # warm-up
        side()
    times, results, cpu_times = alternate_all(repetitions, sides)
    if not results["ours"][0] == results["before"][0] == results["generate"][0]:
        raise AssertionError("our generation, the code before and generate() disagree on the tokens")
    count = len(results["ours"][0])
    return {
        "tokens": count,
        **{f"{name}_tok_s": count / median(times[name]) for name in sides},
        **{f"{name}_cpu_tok_s": count / median(cpu_times[name]) for name in sides},
    }


def next_token_view(lm, prompt: str, repetitions: int) -> dict[str, float]:
    import torch

    from shared.batching import KeyValueCaches, ScoresCache
    from spaces.sampling import logic, render

    before = logic_before()
    ours_lm, before_lm = batched(lm), before.LanguageModel(lm.model, lm.tokenizer)
    settings = every_stage()
    input_ids = torch.tensor([list(logic.text_context(lm, prompt).ids)])

    def ours():
        result = logic.next_token_stages(ours_lm, logic.text_context(ours_lm, prompt), settings, top_n=10)
        return render.stages_table_html(result, "fr") + render.chart_html(result, "fr")

    def first_view():
        # A context nobody asked for yet: neither its scores nor its key/value cache kept
        ours_lm.passes.batcher.cache = ScoresCache(256 * 2**20)
        ours_lm.passes.batcher.key_values = KeyValueCaches(256 * 2**20)
        return ours()

    def code_before():
        context = before.fit_context(before_lm, before.encode(before_lm, prompt))
        result = before.next_token_stages(before_lm, context, settings, top_n=10)
        return render.stages_table_html(result, "fr") + render.chart_html(result, "fr")

    def bare():
        with torch.inference_mode():
            return lm.model(input_ids=input_ids, logits_to_keep=1).logits

    sides = {"first": first_view, "before": code_before, "bare": bare}
    for side in sides.values():
        side()
    times, _, cpu_times = alternate_all(repetitions, sides)
    ours()  # the context is now kept: what a slider move costs
    cached_times, _, _ = alternate_all(repetitions, {"cached": ours})
    return {
        "tokens": input_ids.shape[1],
        **{f"{name}_ms": median(times[name]) * 1e3 for name in sides},
        **{f"{name}_cpu_ms": median(cpu_times[name]) * 1e3 for name in sides},
        "cached_ms": median(cached_times["cached"]) * 1e3,
    }


def load_phase(key: str) -> dict[str, float]:
    """In a fresh process: the GGUF load, then the converted copy's."""
    import torch
    from transformers import AutoModelForCausalLM

    from shared.language_models import load_model, weights_folder

    the_hub = hub()
    converted = the_hub.weights.converted_dir(key, "transformers")
    conversion_s = timed(load_model, the_hub, key)[0] if not (converted / ".complete").exists() else None
    folder, gguf_file = weights_folder(the_hub, key)
    gguf_s = timed(lambda: AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf_file, dtype=torch.float32))[0]
    converted_s = timed(load_model, the_hub, key)[0]
    return {"gguf_s": gguf_s, "converted_s": converted_s, "conversion_s": conversion_s}


def memory_phase() -> dict[str, float]:
    """In a fresh process: both models loaded, each used once (the weights are memory-mapped:
    only a forward pass brings all of them into memory)."""
    import psutil

    from shared.model_cache import measure_bytes
    from spaces.sampling import logic
    from spaces.sampling.models import language_model

    process = psutil.Process()
    before = process.memory_info().rss
    the_hub = hub()
    models = [language_model(the_hub, key) for key in MODELS]
    for lm in models:
        logic.next_token_stages(lm, logic.fit_context(lm, logic.encode(lm, GENERATION_PROMPT)), every_stage())
    return {
        "rss_before": before,
        "rss_after": process.memory_info().rss,
        "weights": sum(measure_bytes(lm.model) for lm in models),
    }


def in_fresh_process(*phase: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--phase", *phase],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        timeout=900,
    )
    if done.returncode:
        raise RuntimeError(f"phase {phase} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=48, help="tokens per generation")
    parser.add_argument("--repetitions", type=int, default=3, help="alternating pairs per generation comparison")
    parser.add_argument(
        "--one-user-only", action="store_true", help="only the generation and next-token comparisons (~3 min)"
    )
    parser.add_argument("--quick", action="store_true", help="8 tokens, the fewest rounds of each part (seconds)")
    parser.add_argument("--phase", nargs="+", help=argparse.SUPPRESS)  # internal: one measurement in a fresh process
    args = parser.parse_args(argv)
    # Rounds of a next-token view: with one user, then in the threads part.
    view_rounds, thread_view_rounds = (1, 1) if args.quick else (10, 4)
    long_prompt, loaded_models = (
        (QUICK_LONG_PROMPT, ("smollm2_135m_instruct",)) if args.quick else (LONG_PROMPT, MODELS)
    )
    if args.quick:
        args.tokens, args.repetitions = 8, 1
        use_tiny_language_models()
    if args.phase:
        name, *rest = args.phase
        print(json.dumps(load_phase(*rest) if name == "load" else memory_phase()))
        return {}

    import torch

    from spaces.sampling.models import language_model

    print(f"== Sampling playground vs plain transformers — {now()}; {machine_description()}")
    results: dict[str, object] = {}
    if not args.one_user_only:
        print("  load, each model in a fresh process (the converted copy read from a warm file cache):")
        for key in loaded_models:
            figures = results[f"load {key}"] = in_fresh_process("load", key)
            conversion = f" (converted first: {figures['conversion_s']:.1f} s)" if figures["conversion_s"] else ""
            print(
                f"    {key:22} GGUF {figures['gguf_s']:6.1f} s, converted {figures['converted_s']:5.1f} s -> "
                f"{figures['gguf_s'] / figures['converted_s']:.0f}x faster{conversion}"
            )
        memory = results["memory"] = in_fresh_process("memory")
        print(
            f"  memory, a fresh process with both models loaded: RSS {mib(memory['rss_after'])} "
            f"(before loading {mib(memory['rss_before'])}; weights {mib(memory['weights'])})"
        )

    torch.set_num_threads(1)
    the_hub = hub()
    models = {key: language_model(the_hub, key) for key in MODELS}
    print(f"  1 torch thread; generation of {args.tokens} tokens, every stage on, median of {args.repetitions} rounds:")
    for key, lm in models.items():
        figures = results[f"generate {key}"] = generation(lm, args.tokens, args.repetitions)
        figures["vs_before"] = figures["ours_tok_s"] / figures["before_tok_s"]
        figures["vs_generate"] = figures["ours_tok_s"] / figures["generate_tok_s"]
        figures["cpu_vs_before"] = figures["ours_cpu_tok_s"] / figures["before_cpu_tok_s"]
        print(
            f"    {key:22} ours {figures['ours_tok_s']:5.1f} tok/s, before {figures['before_tok_s']:5.1f}, "
            f"generate() {figures['generate_tok_s']:5.1f} -> {figures['vs_before']:.2f}x before (target >= 1.3x "
            f"for streams together: sampling_batching.py), {figures['vs_generate']:.2f}x generate(); in CPU time "
            f"{figures['cpu_vs_before']:.2f}x before; the same {figures['tokens']} tokens"
        )
    print(
        f"  next-token view, median of {view_rounds} rounds (first view: a context not seen yet; kept: a slider move):"
    )
    for key, lm in models.items():
        for label, prompt in (("short", GENERATION_PROMPT), ("long", long_prompt)):
            figures = results[f"next_token {key} {label}"] = next_token_view(lm, prompt, view_rounds)
            figures["vs_before"] = figures["first_ms"] / figures["before_ms"]
            figures["vs_bare"] = figures["first_ms"] / figures["bare_ms"]
            figures["cpu_vs_before"] = figures["first_cpu_ms"] / figures["before_cpu_ms"]
            print(
                f"    {key:22} {figures['tokens']:4} tokens: first view {figures['first_ms']:7.1f} ms, before "
                f"{figures['before_ms']:7.1f}, bare forward {figures['bare_ms']:7.1f} -> {figures['vs_before']:.2f}x "
                f"before (target <= 1.05x; CPU time {figures['cpu_vs_before']:.2f}x), {figures['vs_bare']:.2f}x bare; "
                f"kept: {figures['cached_ms']:5.1f} ms"
            )
    if args.one_user_only:
        return results
    print("  threads, SmolLM2 (our generation; next-token view on the long text):")
    smollm2 = models["smollm2_135m_instruct"]
    for threads in (1, 2):
        torch.set_num_threads(threads)
        speed = generation(smollm2, args.tokens // 2, 1)["ours_tok_s"]
        latency = next_token_view(smollm2, long_prompt, thread_view_rounds)["first_ms"]
        results[f"threads {threads}"] = {"tok_s": speed, "next_token_ms": latency}
        print(f"    {threads} thread(s): {speed:5.1f} tok/s, next token {latency:6.1f} ms")
    torch.set_num_threads(1)
    return results


if __name__ == "__main__":
    run_benchmark(main)
