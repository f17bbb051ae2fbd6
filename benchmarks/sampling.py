"""The sampling playground against the plain transformers calls, side by side in one run.

1. Streamed generation (spaces.sampling.logic.generate, consumed token by token with each token's
   HTML, as the Générer view streams it) vs `model.generate()` with the same settings and seed,
   in tokens per second (target >= 0.9x). Every stage is on (temperature 0.8, top-k 50, top-p
   0.95, min-p 0.05, repetition penalty 1.1); both must give the same token ids, which is checked.
2. Next-token view (encode + forward pass + the six stages + the table and chart HTML) vs one
   bare forward pass `model(input_ids, logits_to_keep=1)`, on the lecture's short prompt and on a
   ~500-token text (target <= 1.2x).
3. Load time, each model in a fresh process: from the packaged GGUF (dequantized to float32) vs
   from the converted safetensors in the model cache (converted first if needed).
4. Resident memory of a fresh process with both models loaded through the hub's cache and used.
5. Torch threads 1 vs 2: generation speed and next-token latency of SmolLM2.

Both models come from their packs, converted once into the default cache (IAGEN_CACHE_DIR, as
`python -m shared.prefetch` leaves it). Calls alternate between the two sides; medians are printed.

    python benchmarks/sampling.py [--tokens 48] [--repetitions 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported; the thread phase changes it

from common import REPO, machine_description, median, mib, now  # noqa: E402

MODELS = ("gemma3_270m", "smollm2_135m_instruct")
GENERATION_PROMPT = "Il était une fois, dans une petite ville de montagne,"
LONG_PROMPT = (
    "L'Institut national de l'information géographique et forestière publie des cartes, des "
    "photographies aériennes et des modèles numériques de terrain. "
) * 20
SEED = 1234


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


def alternate(repetitions: int, ours, theirs) -> tuple[list[float], list[float], list, list]:
    """Run both sides `repetitions` times, alternating which goes first; their times and results."""
    times = ([], [])
    results = ([], [])
    for repetition in range(repetitions):
        order = ((0, ours), (1, theirs)) if repetition % 2 == 0 else ((1, theirs), (0, ours))
        for side, function in order:
            seconds, result = timed(function)
            times[side].append(seconds)
            results[side].append(result)
    return times[0], times[1], results[0], results[1]


def generation(lm, tokens: int, repetitions: int) -> dict[str, float]:
    import torch

    from spaces.sampling import logic, ui

    settings = every_stage()
    context = logic.fit_context(lm, logic.encode(lm, GENERATION_PROMPT), room_for_new_tokens=tokens)
    input_ids = torch.tensor([list(context.ids)])

    def ours():
        shown, ids = "", []
        for token in logic.generate(lm, context, settings, tokens, SEED):
            shown += ui.generated_token_html(token, "fr")
            ids.append(token.token_id)
        return ids

    def theirs():
        torch.manual_seed(SEED)
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

    ours(), theirs()  # warm-up
    ours_times, theirs_times, ours_ids, theirs_ids = alternate(repetitions, ours, theirs)
    if ours_ids[0] != theirs_ids[0]:
        raise AssertionError("our generation and generate() disagree on the tokens")
    count = len(ours_ids[0])
    return {"tokens": count, "ours_tok_s": count / median(ours_times), "generate_tok_s": count / median(theirs_times)}


def next_token_view(lm, prompt: str, repetitions: int) -> dict[str, float]:
    import torch

    from spaces.sampling import logic, ui

    settings = every_stage()
    context = logic.fit_context(lm, logic.encode(lm, prompt))
    input_ids = torch.tensor([list(context.ids)])

    def ours():
        result = logic.next_token_stages(lm, logic.fit_context(lm, logic.encode(lm, prompt)), settings, top_n=10)
        return ui.stages_table_html(result, "fr") + ui.chart_html(result, "fr")

    def bare():
        with torch.inference_mode():
            return lm.model(input_ids=input_ids, logits_to_keep=1).logits

    ours(), bare()
    ours_times, bare_times, _, _ = alternate(repetitions, ours, bare)
    return {"tokens": len(context.ids), "ours_ms": median(ours_times) * 1e3, "bare_ms": median(bare_times) * 1e3}


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
    from spaces.sampling.ui import language_model

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
    parser.add_argument("--phase", nargs="+", help=argparse.SUPPRESS)  # internal: one measurement in a fresh process
    args = parser.parse_args(argv)
    if args.phase:
        name, *rest = args.phase
        print(json.dumps(load_phase(*rest) if name == "load" else memory_phase()))
        return {}

    import torch

    from spaces.sampling.ui import language_model

    print(f"== Sampling playground vs plain transformers — {now()}; {machine_description()}")
    results: dict[str, object] = {}
    print("  load, each model in a fresh process (the converted copy read from a warm file cache):")
    for key in MODELS:
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
    print(f"  1 torch thread; generation of {args.tokens} tokens, every stage on, median of {args.repetitions} pairs:")
    for key, lm in models.items():
        figures = results[f"generate {key}"] = generation(lm, args.tokens, args.repetitions)
        figures["ratio"] = figures["ours_tok_s"] / figures["generate_tok_s"]
        print(
            f"    {key:22} streamed {figures['ours_tok_s']:5.1f} tok/s vs generate() "
            f"{figures['generate_tok_s']:5.1f} tok/s -> {figures['ratio']:.2f}x (target >= 0.9x), "
            f"same {figures['tokens']} tokens"
        )
    print("  next-token view vs one bare forward pass, median of 10 pairs:")
    for key, lm in models.items():
        for label, prompt in (("short", GENERATION_PROMPT), ("long", LONG_PROMPT)):
            figures = results[f"next_token {key} {label}"] = next_token_view(lm, prompt, 10)
            figures["ratio"] = figures["ours_ms"] / figures["bare_ms"]
            print(
                f"    {key:22} {figures['tokens']:4} tokens: view {figures['ours_ms']:7.1f} ms vs forward "
                f"{figures['bare_ms']:7.1f} ms -> {figures['ratio']:.2f}x (target <= 1.2x)"
            )
    print("  threads, SmolLM2 (our generation; next-token view on the long text):")
    smollm2 = models["smollm2_135m_instruct"]
    for threads in (1, 2):
        torch.set_num_threads(threads)
        speed = generation(smollm2, args.tokens // 2, 1)["ours_tok_s"]
        latency = next_token_view(smollm2, LONG_PROMPT, 4)["ours_ms"]
        results[f"threads {threads}"] = {"tok_s": speed, "next_token_ms": latency}
        print(f"    {threads} thread(s): {speed:5.1f} tok/s, next token {latency:6.1f} ms")
    torch.set_num_threads(1)
    return results


if __name__ == "__main__":
    main()
