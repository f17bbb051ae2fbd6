"""« De GPT-3 à ChatGPT »: the same prompt to a base model and to its instruct version. Gradio-free.

A base model continues a text, as GPT-3 did; its instruct version (fine-tuned on conversations,
then on human preferences, as ChatGPT was) reads the prompt as a user's message in its chat
template and answers it. From the hub, the pair is one network at two steps: Qwen3-0.6B-Base and
Qwen3-0.6B. Offline, the packs hold no such pair: a base model (Gemma 3 270M) and an instruct
model (SmolLM2-135M-Instruct) of two different networks, which the page says.

Both replies are drawn with the same settings and seed (Qwen3's recommended sampling without
thinking), token by token, through the hub's batched passes (shared/batching.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

# Qwen3's card recommends these without thinking; the same for both models, so that only the
# fine-tuning differs.
TEMPERATURE = 0.7
TOP_K = 20
TOP_P = 0.8
MAX_PROMPT_CHARACTERS = 2000  # the presets are one line; a pasted book is refused, not cut
NEW_TOKENS_RANGE = (1, 200)
DEFAULT_NEW_TOKENS = 48
SEED_RANGE = (0, 2**31 - 1)
DEFAULT_SEED = 42


@dataclass(frozen=True)
class Pair:
    base: str  # model keys of shared.language_models
    instruct: str
    same_network: bool  # the instruct model is the base model, fine-tuned


HUB_PAIR = Pair("qwen3_0_6b_base", "qwen3_0_6b", same_network=True)
OFFLINE_PAIR = Pair("gemma3_270m", "smollm2_135m_instruct", same_network=False)


def best_pair(is_available: Callable[[str], bool]) -> Pair | None:
    """The hub's pair of one network if both its models can be had, else the packs' pair, else None."""
    for pair in (HUB_PAIR, OFFLINE_PAIR):
        if is_available(pair.base) and is_available(pair.instruct):
            return pair
    return None


class BadInput(ValueError):
    """What a user sent that cannot be used: `key` names the sentence that says why (texts.py)."""

    def __init__(self, key: str, **values):
        super().__init__(key)
        self.key = key
        self.values = values


def checked_request(prompt, max_new_tokens, seed) -> tuple[str, int, int]:
    """The prompt, the number of new tokens and the seed, or BadInput. An API client may send
    anything; the page's number boxes refuse bad numbers before sending them (shared/number_boxes.py)."""
    prompt = "" if prompt is None else str(prompt)
    if not prompt.strip():
        raise BadInput("assistant_empty_prompt")
    if len(prompt) > MAX_PROMPT_CHARACTERS:
        raise BadInput("assistant_long_prompt", count=len(prompt), limit=MAX_PROMPT_CHARACTERS)
    return (
        prompt,
        _whole_number("max_new_tokens", max_new_tokens, *NEW_TOKENS_RANGE),
        _whole_number("seed", seed, *SEED_RANGE),
    )


def _whole_number(name: str, value, low: int, high: int) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadInput("assistant_not_a_number", setting=name, given=str(value)[:20]) from None
    if number != number or not number.is_integer() or not low <= number <= high:  # NaN, 2.5, out of range
        raise BadInput("assistant_out_of_range", setting=name, given=str(value)[:20], low=low, high=high)
    return int(number)


def base_prompt_ids(tokenizer, prompt: str) -> list[int]:
    """What the base model reads: the text itself (with the beginning-of-text token its tokenizer adds)."""
    return list(tokenizer(prompt).input_ids)


def instruct_prompt_ids(tokenizer, prompt: str) -> list[int]:
    """What the instruct model reads: the prompt as a user's message in its chat template, thinking
    off (Qwen3's template then writes an empty <think></think>; others ignore the variable)."""
    encoded = tokenizer.apply_chat_template(
        [{"role": "user", "content": prompt}],
        add_generation_prompt=True,
        tokenize=True,
        return_dict=True,
        enable_thinking=False,
    )
    return list(encoded["input_ids"])


# The CPU time of the thread that runs the passes (the batcher's worker, or the caller's on ZeroGPU)
# when it last drew a token, for each such thread: what it spent since then is the last pass.
_passes_thread = threading.local()


class ReplySteps:
    """A Batcher stream's step (shared/batching.Step): after each pass, one token drawn with the
    pair's settings; the item is the reply's text so far and the CPU seconds its passes took;
    the stream ends at an end token or at the length."""

    def __init__(self, tokenizer, end_ids: frozenset[int], max_new_tokens: int, seed: int):
        import torch

        self.tokenizer = tokenizer
        self.end_ids = end_ids
        self.max_new_tokens = max_new_tokens
        self.generator = torch.Generator().manual_seed(seed)
        self.ids: list[int] = []
        self.text = ""
        self.cpu_seconds = 0.0

    def __call__(self, scores) -> tuple[int, tuple[str, float], bool]:
        # Called in the thread that ran the pass, right after it: that thread's CPU since its last
        # draw is this pass (a thread's CPU time starts at 0 and does not grow while it waits).
        now = time.thread_time()
        self.cpu_seconds += now - getattr(_passes_thread, "last_draw", 0.0)
        _passes_thread.last_draw = now
        token_id = draw(scores, self.generator)
        self.ids.append(token_id)
        if token_id in self.end_ids:
            return token_id, (self.text, self.cpu_seconds), True
        decoded = self.tokenizer.decode(self.ids, skip_special_tokens=True)
        last = len(self.ids) >= self.max_new_tokens
        if last or not decoded.endswith("\ufffd"):  # half a character waits for the bytes that complete it
            self.text = decoded
        return token_id, (self.text, self.cpu_seconds), last


def draw(scores, generator) -> int:
    """One token from the scores (float32, shape (vocabulary,)) after temperature, top-k and top-p."""
    import torch

    values, indices = torch.topk(scores.float().cpu() / TEMPERATURE, min(TOP_K, scores.shape[-1]))
    probabilities = values.softmax(-1)
    kept = probabilities.cumsum(-1) - probabilities < TOP_P  # the smallest set reaching TOP_P
    probabilities = torch.where(kept, probabilities, torch.zeros_like(probabilities))
    return int(indices[torch.multinomial(probabilities / probabilities.sum(), 1, generator=generator)])


@dataclass
class ReplyCost:
    """What one reply took: its tokens and the CPU seconds of its forward passes."""

    tokens: int = 0
    cpu_seconds: float = 0.0


@dataclass
class Reply:
    text: str = ""
    done: bool = False
    cost: ReplyCost = field(default_factory=ReplyCost)


def measured_reply(stream: Iterator[tuple[str, float]]) -> Iterator[Reply]:
    """The one place where a reply is produced: from the stream's items (ReplySteps': the text so
    far and the CPU seconds of its passes), the reply as it grows with its cost; the last one
    marked done."""
    reply = Reply()
    for reply.text, reply.cost.cpu_seconds in stream:
        reply.cost.tokens += 1
        yield reply
    reply.done = True
    yield reply


def side_by_side(streams: Sequence[Iterator[Reply]]) -> Iterator[tuple[Reply, ...]]:
    """Advance the replies in turn, one token each, until all are done: both texts grow together
    on the page. Yields every reply's state after each step."""
    states = [Reply() for _ in streams]
    while not all(state.done for state in states):
        for index, stream in enumerate(streams):
            if not states[index].done:
                states[index] = next(stream)
        yield tuple(states)
