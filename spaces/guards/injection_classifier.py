"""The input classifier of prompt injection: a model from the hub reads the prompt and says whether
it tries to turn the assistant against its instructions (Gradio-free; torch and transformers are
imported on first use).

The default is `protectai/deberta-v3-base-prompt-injection-v2` (Apache-2.0, English, ungated;
DeBERTa-v3 base, 184 M parameters, labels SAFE / INJECTION). `IAGEN_MODEL_INJECTION_CLASSIFIER`
names another sequence classifier, e.g. the multilingual but gated
`meta-llama/Llama-Prompt-Guard-2-86M`: its positive labels are read from its config's id2label.
"""

from __future__ import annotations

from shared.hub import Hub
from shared.weights import WeightsUnavailable

KEY = "injection_classifier"
# A label naming an attack; every other label is harmless (SAFE, BENIGN, LABEL_0...).
POSITIVE_LABELS = ("INJECTION", "MALICIOUS", "JAILBREAK")
THRESHOLD = 0.5  # the positive labels' softmax probability, summed, that blocks a prompt
MAX_TOKENS = 512  # DeBERTa-v3's positions; the game's prompts are far shorter


class InjectionClassifier:
    """`is_injection(text)` through the hub's shared model cache; `unavailable()` says why not."""

    def __init__(self, hub: Hub):
        self.hub = hub

    def unavailable(self) -> str | None:
        """Why the classifier cannot run on this server (its weights missing, with the remedy), or
        None when it can: its files are here, or the hub is online and a first use fetches them."""
        missing = self.hub.weights.unavailable(KEY)
        return None if missing is None else str(missing)

    def is_injection(self, text: str) -> bool:
        return self.injection_probability(text) >= THRESHOLD

    def injection_probability(self, text: str) -> float:
        """The probability, summed over the positive labels, that `text` is an attack."""
        import torch

        model, tokenizer, positive = self.hub.load_model(KEY, self._load)
        inputs = tokenizer(text, truncation=True, max_length=MAX_TOKENS, return_tensors="pt").to(model.device)
        with torch.inference_mode():
            probabilities = model(**inputs).logits.float().softmax(dim=-1)[0]
        return float(probabilities[list(positive)].sum())

    def _load(self):
        """The model, its tokenizer and the indices of its positive labels."""
        from shared.device import torch_runtime
        from shared.language_models import ONE_LOAD_AT_A_TIME, _transformers

        transformers = _transformers()  # waits for another thread's import of it, if any
        folder = self.hub.weights.locate(KEY)
        runtime = torch_runtime(self.hub.settings)
        with ONE_LOAD_AT_A_TIME:
            tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
            model = transformers.AutoModelForSequenceClassification.from_pretrained(folder)
        positive = tuple(
            int(index) for index, label in model.config.id2label.items() if str(label).upper() in POSITIVE_LABELS
        )
        if not positive:
            source = self.hub.weights.source(KEY)
            labels = ", ".join(str(label) for label in model.config.id2label.values())
            raise WeightsUnavailable(source, f"{source.origin} has no label among {POSITIVE_LABELS} ({labels})")
        return model.to(runtime.device).eval(), tokenizer, positive
