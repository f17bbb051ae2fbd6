"""The guarded assistant and the injection classifier, through the hub's shared model cache
(Gradio-free). The assistant is the hub's best chat model (Luth, then Qwen3-0.6B, else the
offline SmolLM2-135M-Instruct); its passes go through a batcher (shared/batching.py), so that a
room's attempts share their forward passes. Every attempt at a level (its secret, its language)
begins with the same system prompt: the batcher computes its keys and values once and keeps them,
so an attempt's first token costs the player's own words, not the whole prompt again."""

from __future__ import annotations

import functools
from collections.abc import Iterator

from shared.gpu import on_zerogpu
from shared.hub import Hub
from shared.language_models import chat_model, end_token_ids, model_title, shared_model, shared_tokenizer
from spaces.guards import logic

SYSTEM_PROMPT_CACHE_MB = 128  # Qwen3-0.6B: ~15 MB a system prompt in float32; SmolLM2: ~6 MB


def attempts_at_once(hub: Hub) -> int:
    """How many attempts the game answers at once: four times the hub's other streams (a lecture:
    32). An attempt is short (60 tokens at most) and the batcher decodes every running attempt in
    one pass a token, where a row costs little; with the other streams' 8, a room's attempts (one
    a second) queued behind each other into timeouts (benchmarks/load_harness.py lecture_guards)."""
    return 4 * hub.settings.lm_stream_concurrency


def system_prompt_tokens(tokenizer, system: str, ids: list[int]) -> int:
    """How many of an attempt's first ids are its system prompt's, in the chat template: the same
    for every attempt with that system prompt (the template laid out for it alone, as far as it
    agrees with the whole prompt's ids)."""
    alone = tokenizer.apply_chat_template([{"role": "system", "content": system}], tokenize=True, return_dict=True)
    shared = 0
    for own, whole in zip(alone["input_ids"], ids, strict=False):
        if own != whole:
            break
        shared += 1
    return shared


class GuardModels:
    def __init__(self, hub: Hub):
        from shared.batching import Batcher, KeyValueCaches, ScoresCache

        self.hub = hub
        # Streams only: no scores are kept; each stream holds its own key/value cache, and the
        # system prompts' caches are kept (a room: one per level and language, a few MB each).
        self.batcher = Batcher(
            ScoresCache(0),
            KeyValueCaches(SYSTEM_PROMPT_CACHE_MB * 2**20),
            max_rows=attempts_at_once(hub),
        )

    @functools.cached_property
    def key(self) -> str:
        """The assistant's model, chosen once."""
        return chat_model(self.hub)

    def title(self) -> str:
        return model_title(self.hub, self.key)

    def available(self) -> bool:
        return self.hub.weights.unavailable(self.key) is None

    def stream(self, system: str, prompt: str, progress=None, language: str = "fr") -> Iterator[str]:
        """The answer's text as its tokens come (raises WeightsUnavailable)."""
        from shared.batching import DirectPasses

        tokenizer = shared_tokenizer(self.hub, self.key, progress, language)
        model = shared_model(self.hub, self.key, progress, language)
        ids = logic.chat_prompt_ids(tokenizer, system, prompt)
        steps = logic.GreedySteps(tokenizer, end_token_ids(model, tokenizer, instruct=True))
        if on_zerogpu():
            return DirectPasses(model).stream(ids, steps)
        passes = self.batcher.for_model(model, (self.key, self.hub.weights.version(self.key)))
        return passes.stream(ids, steps, system_prompt_tokens(tokenizer, system, ids))

    @functools.cached_property
    def classifier(self):
        """The injection classifier, or None where this server cannot have it (levels 6 and 7 then
        play without it, and say so)."""
        from spaces.guards.injection_classifier import InjectionClassifier

        classifier = InjectionClassifier(self.hub)
        return None if classifier.unavailable() else classifier
