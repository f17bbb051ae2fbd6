"""The guarded assistant and the injection classifier, through the hub's shared model cache
(Gradio-free). The assistant is the hub's best chat model (Luth, then Qwen3-0.6B, else the
offline SmolLM2-135M-Instruct); its passes go through a batcher (shared/batching.py), so that a
room's attempts share their forward passes."""

from __future__ import annotations

import functools
from collections.abc import Iterator

from shared.gpu import on_zerogpu
from shared.hub import Hub
from shared.language_models import chat_model, end_token_ids, model_title, shared_model, shared_tokenizer
from spaces.guards import logic


class GuardModels:
    def __init__(self, hub: Hub):
        from shared.batching import Batcher, KeyValueCaches, ScoresCache

        self.hub = hub
        # Streams only: no scores are kept, and each stream holds its own key/value cache.
        self.batcher = Batcher(ScoresCache(0), KeyValueCaches(0), max_rows=2 * hub.settings.lm_stream_concurrency)

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
        return self.batcher.for_model(model, (self.key, self.hub.weights.version(self.key))).stream(ids, steps)

    @functools.cached_property
    def classifier(self):
        """The injection classifier, or None where this server cannot have it (levels 6 and 7 then
        play without it, and say so)."""
        from spaces.guards.injection_classifier import InjectionClassifier

        classifier = InjectionClassifier(self.hub)
        return None if classifier.unavailable() else classifier
