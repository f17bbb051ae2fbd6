"""The French assistant's speed on random weights of Qwen3-0.6B's exact published configuration
(Luth-0.6B-Instruct is the same network), through the hub's engine: the chat's code
(spaces/sampling/logic.py `generate`) on the hub's batched passes (shared/batching.py Batcher),
against the plain library call `model.generate()`, float32 against bfloat16 (the published
weights' dtype) and 1 against 2 torch threads, side by side in one run. Compute does not depend on
the weights' values: the timings hold for the real model.

1. One user: time to the first token after a 100-token prompt (target <= 2 s), and tokens per
   second streamed after it (target >= 4), for each dtype x threads; generate() on the same
   prompt and seed beside ours (ours must not be slower).
2. Chats at once, in the fastest setting: N users sending a 100-token prompt together (their first
   passes share one batch); the slowest first token for N = 1, 2, 3...; how many keep it <= 3 s.

--quick: a tiny random Qwen3 (tests/tiny_models.py), a 20-token prompt, 4 tokens: a check that it
runs, not figures.

    python benchmarks/assistant.py [--tokens 24] [--quick]
"""

from __future__ import annotations

import argparse
import os
import threading
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported; each phase sets its own

from common import machine_description, now, run_benchmark  # noqa: E402
from tiny_models import TINY_LAYERS  # noqa: E402 (tests/ is on the path via common)

PROMPT_TOKENS = 100
FIRST_TOKEN_TARGET_S = 2.0
STREAM_TARGET_TOK_S = 4.0
ROOM_FIRST_TOKEN_LIMIT_S = 3.0
SEED = 1234


def published_qwen3_config():
    """Qwen/Qwen3-0.6B's config.json, as published (Luth-0.6B-Instruct and Qwen3-0.6B-Base share it)."""
    from transformers import Qwen3Config

    return Qwen3Config(
        vocab_size=151936,
        hidden_size=1024,
        intermediate_size=3072,
        num_hidden_layers=28,
        num_attention_heads=16,
        num_key_value_heads=8,
        head_dim=128,
        max_position_embeddings=40960,
        rope_theta=1000000.0,
        rms_norm_eps=1e-6,
        tie_word_embeddings=True,
        bos_token_id=151643,
        eos_token_id=151645,
    )


def tiny_qwen3_config():
    from transformers import Qwen3Config

    return Qwen3Config(
        vocab_size=400,
        **TINY_LAYERS,
        head_dim=16,
        max_position_embeddings=1024,
        tie_word_embeddings=True,
    )


def random_model(config, dtype):
    """The architecture with transformers' own random initialisation, in `dtype`."""
    import torch
    from transformers import Qwen3ForCausalLM

    torch.manual_seed(0)
    return Qwen3ForCausalLM(config).to(dtype).eval()


class Tokenizer:
    """What the chat's generation asks of a tokenizer, for random ids of the full vocabulary (no
    tokenizer of 151 936 tokens ships offline): each id decodes to a short word. Its cost is nil
    next to a pass."""

    eos_token_id = None

    def decode(self, ids):
        return "".join(f" w{token_id}" for token_id in ids)

    def convert_ids_to_tokens(self, token_id):
        return f"w{token_id}"


def chat_settings(lm):
    """The chat's settings, as the page sends them by default (spaces/sampling/options.py)."""
    from spaces.sampling import logic

    return logic.checked_settings(None, None, None, None, None, lm.vocabulary_size)[0]


def stream_timings(lm, prompt_ids, tokens: int) -> tuple[float, float]:
    """Ours: seconds to the first token, then tokens per second for the rest."""
    from spaces.sampling import logic

    started = time.perf_counter()
    first = None
    count = 0
    for _ in logic.generate(
        lm, logic.Context(tuple(prompt_ids)), chat_settings(lm), tokens, SEED, end_token_ids=frozenset()
    ):
        count += 1
        if first is None:
            first = time.perf_counter()
    end = time.perf_counter()
    return first - started, (count - 1) / (end - first) if count > 1 else float("nan")


def generate_timings(model, prompt_ids, tokens: int) -> tuple[float, float]:
    """model.generate() alone: its first token (max_new_tokens=1), then its whole run's rate after it."""
    import torch

    input_ids = torch.tensor([prompt_ids])
    arguments = dict(do_sample=True, temperature=0.7, top_k=50, top_p=0.95, pad_token_id=0, eos_token_id=None)
    with torch.inference_mode():
        torch.manual_seed(SEED)
        started = time.perf_counter()
        model.generate(input_ids, max_new_tokens=1, min_new_tokens=1, **arguments)
        first = time.perf_counter() - started
        torch.manual_seed(SEED)
        started = time.perf_counter()
        model.generate(input_ids, max_new_tokens=tokens, min_new_tokens=tokens, **arguments)
        whole = time.perf_counter() - started
    return first, (tokens - 1) / max(whole - first, 1e-3)


def first_tokens_at_once(lm, prompts: list[list[int]]) -> list[float]:
    """N users sending their prompts together: each one's seconds to its first token."""
    from spaces.sampling import logic

    results = [0.0] * len(prompts)
    barrier = threading.Barrier(len(prompts))

    def one_user(index: int) -> None:
        barrier.wait()
        started = time.perf_counter()
        stream = logic.generate(
            lm, logic.Context(tuple(prompts[index])), chat_settings(lm), 2, SEED, end_token_ids=frozenset()
        )
        next(stream)
        results[index] = time.perf_counter() - started
        for _ in stream:  # its second token ends it: no pass left running when the next round starts
            pass

    users = [threading.Thread(target=one_user, args=(index,)) for index in range(len(prompts))]
    for user in users:
        user.start()
    for user in users:
        user.join()
    return results


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=24, help="tokens per streamed reply")
    parser.add_argument("--quick", action="store_true", help="tiny model, a short prompt: a check that it runs")
    arguments = parser.parse_args()

    import torch

    from shared.batching import Batcher, KeyValueCaches, ScoresCache
    from spaces.sampling import logic

    config = tiny_qwen3_config() if arguments.quick else published_qwen3_config()
    prompt_tokens = 20 if arguments.quick else PROMPT_TOKENS
    tokens = 4 if arguments.quick else arguments.tokens
    generator = torch.Generator().manual_seed(SEED)
    prompt = torch.randint(
        1000 if not arguments.quick else 10, config.vocab_size, (prompt_tokens,), generator=generator
    )
    prompt_ids = prompt.tolist()

    print(f"# French assistant (Qwen3-0.6B architecture), {now()}")
    print(f"machine: {machine_description()}")
    print(f"load average before: {open('/proc/loadavg').read().split()[:3]}")
    print(
        f"config: {'tiny' if arguments.quick else 'published Qwen3-0.6B'}, prompt {prompt_tokens} tokens, {tokens} new tokens"
    )
    figures: dict = {"one_user": {}, "at_once": {}}
    models = {}
    for dtype_name in ("float32", "bfloat16"):
        started = time.perf_counter()
        models[dtype_name] = random_model(config, getattr(torch, dtype_name))
        print(f"{dtype_name}: random model built in {time.perf_counter() - started:.1f} s")

    best = None
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for dtype_name, model in models.items():
            batcher = Batcher(ScoresCache(0), KeyValueCaches(0), max_rows=16)
            lm = logic.LanguageModel(model, Tokenizer(), batcher.for_model(model, (dtype_name, threads)), 4096)
            stream_timings(lm, prompt_ids[:8], 2)  # warm-up: first calls pay one-off costs
            first_s, tok_s = stream_timings(lm, prompt_ids, tokens)
            plain_first, plain_tok_s = generate_timings(model, prompt_ids, tokens)
            key = f"{dtype_name}_{threads}_threads"
            figures["one_user"][key] = {
                "first_token_s": first_s,
                "tok_s": tok_s,
                "generate_first_token_s": plain_first,
                "generate_tok_s": plain_tok_s,
            }
            print(
                f"{dtype_name:8s} {threads} thread(s): first token {first_s:.2f} s (generate() {plain_first:.2f} s), "
                f"{tok_s:.1f} tok/s (generate() {plain_tok_s:.1f}) -> {tok_s / plain_tok_s:.2f}x generate()"
            )
            if best is None or first_s + tokens / tok_s < best[0]:
                best = (first_s + tokens / tok_s, dtype_name, threads, lm)
    _, dtype_name, threads, lm = best
    torch.set_num_threads(threads)
    one = figures["one_user"][f"{dtype_name}_{threads}_threads"]
    print(
        f"fastest: {dtype_name}, {threads} thread(s): first token {one['first_token_s']:.2f} s "
        f"(target <= {FIRST_TOKEN_TARGET_S} s), {one['tok_s']:.1f} tok/s (target >= {STREAM_TARGET_TOK_S})"
    )

    kept = 0
    for users in range(1, 17):
        prompts = [[(token + user) % config.vocab_size for token in prompt_ids] for user in range(users)]
        slowest = max(first_tokens_at_once(lm, prompts))
        figures["at_once"][users] = {"slowest_first_token_s": slowest}
        print(f"{users} chat(s) at once: slowest first token {slowest:.2f} s")
        if slowest > ROOM_FIRST_TOKEN_LIMIT_S:
            break
        kept = users
    figures["chats_within_limit"] = kept
    print(
        f"chats at once with a first token <= {ROOM_FIRST_TOKEN_LIMIT_S:.0f} s: {kept} ({dtype_name}, {threads} thread(s))"
    )
    print(f"load average after: {open('/proc/loadavg').read().split()[:3]}")
    return figures


if __name__ == "__main__":
    run_benchmark(main)
