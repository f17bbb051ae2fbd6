"""Sampling playground (Gradio-free): how a language model picks its next token.

The model gives a score (logit) to every token of its vocabulary; softmax turns the scores into
probabilities; then filters reshape them, in the order transformers' `generate()` applies them
(`GenerationMixin._get_logits_processor`), with transformers' own processor classes:

    raw → repetition penalty → temperature → top-k → top-p → min-p → draw one token

`next_token_stages` shows the distribution after each stage (the lecture's "Apple 0.44, Bear 0.36,
Candy 0.03" slide, live); `compare_prompts` shows two prompts' distributions side by side (the
bias slide: « Le médecin a dit qu' » / « L'infirmière a dit qu' », « il » against « elle »); `generate` repeats "forward
pass, filters, draw" with a KV cache and streams the tokens. Temperature 0 means greedy (the most
likely token, no draw); top-k 0, top-p 1, min-p 0 and repetition penalty 1 switch their stage off.

The forward passes themselves are the model's `passes` (shared/batching.py): batched with other
users' and cached by context when the hub serves a room, direct and unbatched otherwise. There,
step by step costs one token's pass per token: after `draw_step` or `choose_step` the new
context is the previous one plus a token, and the batcher runs that token on the previous
context's kept key/value cache, in one pass with the room's other draws. Top-p is
transformers' own rule without its sort of the whole vocabulary (`FastTopP`), the same kept tokens.

Reproducibility without shared state: every draw uses a `torch.Generator` made for the call (or
carried in the user's own step-by-step state), never torch's global generator, and every
generation has its own rows of a KV cache. Seeded like `torch.manual_seed(seed)`, it draws exactly
what `generate()` draws with the same settings (tests/test_sampling_logic.py checks the token ids).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from transformers import (
    LogitsProcessor,
    LogitsProcessorList,
    MinPLogitsWarper,
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from shared.batching import DirectPasses
from spaces.sampling.options import (
    MIN_P_RANGE,
    REPETITION_PENALTY_RANGE,  # noqa: F401 (API)
    TEMPERATURE_RANGE,
    TOP_P_RANGE,
    SamplingSettings,
)

# A prefill of 2 048 tokens already takes seconds on a laptop CPU: longer texts lose their start
# (the hub's setting IAGEN_LM_CONTEXT_TOKENS lowers it for a lecture hall).
MAX_CONTEXT_TOKENS = 2048
# A token is rarely longer than this: a text is cut to context x this many characters before it
# is even tokenized, so a pasted book costs no more than a page.
MAX_CHARACTERS_PER_TOKEN = 8
STAGES = ("raw", "repetition_penalty", "temperature", "top_k", "top_p", "min_p")
ALTERNATIVES_SHOWN = 5  # per generated token, the model's most likely tokens at that step
# Tokens that end an assistant's turn in the chat templates of common instruct models.
END_OF_TURN_TOKENS = ("<|im_end|>", "<end_of_turn>", "<|eot_id|>", "<|end|>")


@dataclass(frozen=True)
class LanguageModel:
    """A causal LM and its tokenizer, as this demo uses them."""

    model: Any  # a transformers causal LM in eval mode
    tokenizer: Any
    passes: Any = None  # its forward passes: a shared.batching.ModelPasses, or None for DirectPasses
    context_tokens: int = MAX_CONTEXT_TOKENS  # the most tokens one call may read

    def __post_init__(self):
        if self.passes is None:
            object.__setattr__(self, "passes", DirectPasses(self.model))

    @property
    def device(self) -> torch.device:
        return self.model.device

    @property
    def vocabulary_size(self) -> int:
        return self.model.get_output_embeddings().weight.shape[0]  # the logits' width

    @property
    def context_limit(self) -> int:
        config = self.model.config.get_text_config()
        return min(self.context_tokens, getattr(config, "max_position_embeddings", self.context_tokens))

    @property
    def end_token_ids(self) -> frozenset[int]:
        """The tokens that end a text: the generation config's and the tokenizer's end of sequence."""
        configured = self.model.generation_config.eos_token_id
        ids = set(configured if isinstance(configured, list) else [] if configured is None else [configured])
        if self.tokenizer.eos_token_id is not None:
            ids.add(self.tokenizer.eos_token_id)
        return frozenset(ids)

    @property
    def end_of_turn_ids(self) -> frozenset[int]:
        """The tokens that end an answer in a chat: the end of text, and the template's end of turn."""
        vocabulary = self.tokenizer.get_vocab()
        return self.end_token_ids | {vocabulary[token] for token in END_OF_TURN_TOKENS if token in vocabulary}

    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self.tokenizer, "chat_template", None))


# --- settings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Adjustment:
    """A setting that was out of range, and the value used instead."""

    setting: str
    given: object
    used: float


def checked_settings(
    temperature: float | None,
    top_k: float | None,
    top_p: float | None,
    min_p: float | None,
    repetition_penalty: float | None,
    vocabulary_size: int,
) -> tuple[SamplingSettings, list[Adjustment]]:
    """The settings clamped to their ranges (None or NaN means the default), with what was changed."""
    defaults = SamplingSettings()
    adjustments: list[Adjustment] = []
    settings = SamplingSettings(
        temperature=clamped("temperature", temperature, *TEMPERATURE_RANGE, defaults.temperature, adjustments),
        top_k=int(clamped("top_k", top_k, 0, vocabulary_size, defaults.top_k, adjustments)),
        top_p=clamped("top_p", top_p, *TOP_P_RANGE, defaults.top_p, adjustments),
        min_p=clamped("min_p", min_p, *MIN_P_RANGE, defaults.min_p, adjustments),
        repetition_penalty=clamped(
            "repetition_penalty",
            repetition_penalty,
            *REPETITION_PENALTY_RANGE,
            defaults.repetition_penalty,
            adjustments,
        ),
    )
    return settings, adjustments


def clamped(setting: str, value, low: float, high: float, default: float, adjustments: list[Adjustment]) -> float:
    """`value` within [low, high]: None or NaN is the default; a value out of range, or that is no
    number (an API client's « abc »), is replaced and noted in `adjustments`."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        adjustments.append(Adjustment(setting, value, default))
        return default
    if math.isnan(number) or isinstance(value, bool):
        adjustments.append(Adjustment(setting, value, default))
        return default
    used = min(max(number, low), high)
    if used != number:
        adjustments.append(Adjustment(setting, value, used))
    return used


class KeepMostLikely(LogitsProcessor):
    """Temperature 0, the limit of ever colder temperatures: all the probability on the best token."""

    def __call__(self, input_ids: torch.LongTensor, scores: torch.Tensor) -> torch.Tensor:
        best = scores.argmax(dim=-1, keepdim=True)
        return torch.full_like(scores, -math.inf).scatter(-1, best, scores.gather(-1, best))


class FastTopP(TopPLogitsWarper):
    """transformers' top-p, the same kept tokens, without sorting the whole vocabulary.

    `TopPLogitsWarper` sorts all the scores (~25 ms for Gemma's 262 144 on a CPU) to find the
    smallest set of most likely tokens whose probabilities add up to `top_p`. The nucleus is
    usually a few dozen tokens: the most likely few hundred (a partial selection, ~0.1 ms) hold
    it whenever the first token they leave out is already beyond `top_p`, which proves the rest
    is too. A token is kept when the probability of the tokens more likely than it is below
    `top_p`, as in transformers (there: the ascending cumulative probability up to it exceeds
    1 - top_p). Where that decision is within `MARGIN` of the threshold, or two tokens of equal
    score straddle it (transformers' sort decides between them), the full sort decides.
    transformers' float32 cumulative sums were within 4.3e-7 of the exact ones on both packs
    (28 prompts x 6 temperatures, with and without top-k): the margin is 5 times that."""

    PARTIAL_SIZES = (256, 4096, 32768)
    MARGIN = 2e-6

    def __call__(self, input_ids: torch.LongTensor, scores: torch.Tensor) -> torch.Tensor:
        kept = [self.kept_tokens(row) for row in scores]
        if any(row is None for row in kept):
            return super().__call__(input_ids, scores)
        remove = torch.ones_like(scores, dtype=torch.bool)
        for row, indices in enumerate(kept):
            remove[row, indices] = False
        return scores.masked_fill(remove, self.filter_value)

    def kept_tokens(self, row: torch.Tensor) -> torch.Tensor | None:
        """The ids of the tokens top-p keeps in one row of scores; None when only a sort can tell."""
        log_total = torch.logsumexp(row.double(), dim=0)
        for size in self.PARTIAL_SIZES:
            size = min(size, row.numel())
            values, indices = row.topk(size)  # most likely first
            probabilities = (values.double() - log_total).exp()
            more_likely = probabilities.cumsum(0) - probabilities  # of each token: those before it
            count = max(int((more_likely < self.top_p).sum()), self.min_tokens_to_keep)
            if count >= size:
                if size == row.numel():
                    return indices  # everything is kept
                continue  # the nucleus may go beyond this selection: a bigger one
            last_kept, first_removed = count - 1, count
            clear = values[first_removed] == -math.inf or (
                more_likely[first_removed] >= self.top_p + self.MARGIN
                and (last_kept < self.min_tokens_to_keep or more_likely[last_kept] < self.top_p - self.MARGIN)
            )
            if not clear or values[last_kept] == values[first_removed]:
                return None
            return indices[:count]
        return None


def stage_processors(settings: SamplingSettings) -> list[tuple[str, LogitsProcessor | None]]:
    """Each filtering stage after "raw", in generate()'s order, with its processor (None: off)."""
    if settings.greedy:
        temperature = KeepMostLikely()
    elif settings.temperature != 1:
        temperature = TemperatureLogitsWarper(float(settings.temperature))
    else:
        temperature = None
    penalty = settings.repetition_penalty
    return [
        ("repetition_penalty", RepetitionPenaltyLogitsProcessor(float(penalty)) if penalty != 1 else None),
        ("temperature", temperature),
        ("top_k", TopKLogitsWarper(int(settings.top_k)) if settings.top_k else None),
        ("top_p", FastTopP(float(settings.top_p)) if settings.top_p < 1 else None),
        ("min_p", MinPLogitsWarper(float(settings.min_p)) if settings.min_p > 0 else None),
    ]


def logits_processors(settings: SamplingSettings) -> LogitsProcessorList:
    return LogitsProcessorList(processor for _, processor in stage_processors(settings) if processor is not None)


# --- context ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """The token ids the model reads, and how many were cut from the start to fit its context."""

    ids: tuple[int, ...]
    dropped_tokens: int = 0
    dropped_characters: int = 0  # cut from a very long text before it was even tokenized

    @property
    def truncated(self) -> bool:
        return bool(self.dropped_tokens or self.dropped_characters)


def fit_context(lm: LanguageModel, ids: Sequence[int], room_for_new_tokens: int = 0) -> Context:
    """Keep the end of `ids` so that they and `room_for_new_tokens` fit the context; a leading
    beginning-of-text token stays (Gemma writes nonsense without it)."""
    ids = tuple(ids)
    limit = max(1, lm.context_limit - room_for_new_tokens)
    if len(ids) <= limit:
        return Context(ids)
    bos = lm.tokenizer.bos_token_id
    keep_first = 1 if bos is not None and ids[0] == bos else 0
    kept = ids[:keep_first] + ids[len(ids) - (limit - keep_first) :]
    return Context(kept, dropped_tokens=len(ids) - len(kept))


def text_tail(lm: LanguageModel, text: str) -> str:
    """The end of `text` that can matter: at most context x MAX_CHARACTERS_PER_TOKEN characters,
    starting at a word (what comes before would be cut after tokenizing anyway)."""
    limit = lm.context_limit * MAX_CHARACTERS_PER_TOKEN
    if len(text) <= limit:
        return text
    tail = text[-limit:]
    space = tail.find(" ")
    return tail[space + 1 :] if 0 <= space < len(tail) // 2 else tail


def encode(lm: LanguageModel, text: str) -> tuple[int, ...]:
    """The text's token ids, with the special tokens the tokenizer adds (Gemma's <bos>)."""
    return tuple(lm.tokenizer(text).input_ids)


def text_context(
    lm: LanguageModel, text: str, appended_ids: Sequence[int] = (), room_for_new_tokens: int = 0
) -> Context:
    """What the model reads of `text` (then `appended_ids`): its end, as much as the context holds."""
    tail = text_tail(lm, text)
    context = fit_context(lm, encode(lm, tail) + tuple(appended_ids), room_for_new_tokens)
    return replace(context, dropped_characters=len(text) - len(tail))


def chat_ids(lm: LanguageModel, system_prompt: str, messages: Sequence[dict[str, str]]) -> tuple[int, ...]:
    """A conversation ({"role", "content"} messages) in the chat model's template, ready for the
    assistant's answer."""
    conversation = ([{"role": "system", "content": system_prompt}] if system_prompt.strip() else []) + list(messages)
    # Thinking off: Qwen3's template then writes an empty <think></think> block and the model answers
    # at once (other templates ignore the variable).
    encoded = lm.tokenizer.apply_chat_template(
        conversation, add_generation_prompt=True, tokenize=True, return_dict=True, enable_thinking=False
    )
    return tuple(encoded["input_ids"])


def fit_conversation(
    lm: LanguageModel, system_prompt: str, messages: Sequence[dict[str, str]], room_for_new_tokens: int
) -> tuple[Context, int]:
    """The conversation's ids, oldest messages dropped until it fits (the system prompt stays; if
    the last message alone is too long, its start is cut), and how many messages were dropped."""
    messages = list(messages)
    ids = chat_ids(lm, system_prompt, messages)
    dropped = 0
    while len(ids) > lm.context_limit - room_for_new_tokens and len(messages) > 1:
        messages, dropped = messages[1:], dropped + 1
        ids = chat_ids(lm, system_prompt, messages)
    return fit_context(lm, ids, room_for_new_tokens), dropped


# --- tokens as text --------------------------------------------------------------------------

_SENTENCEPIECE_BYTE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")


def _byte_level_alphabet() -> dict[str, int]:
    """GPT-2's byte-level BPE writes each byte as a printable character; this maps them back."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    characters = list(printable)
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            characters.append(256 + extra)
            extra += 1
    return {chr(character): byte for byte, character in zip(printable, characters, strict=True)}


BYTE_LEVEL_ALPHABET = _byte_level_alphabet()


def token_label(tokenizer, token_id: int) -> str:
    """The text of one token; for a piece of a character (an emoji is often 2-4 byte tokens),
    its bytes in hexadecimal, e.g. "‹F0 9F›", rather than "�"."""
    text = tokenizer.decode([token_id])
    if "\ufffd" not in text:
        return text
    token = tokenizer.convert_ids_to_tokens(token_id)
    byte = _SENTENCEPIECE_BYTE.match(token)
    if byte:  # sentencepiece byte fallback (Gemma): <0xF0>
        return f"‹{byte.group(1).upper()}›"
    if token and all(character in BYTE_LEVEL_ALPHABET for character in token):  # GPT-2 style (SmolLM2)
        data = bytes(BYTE_LEVEL_ALPHABET[character] for character in token)
        readable = data.decode("utf-8", errors="ignore")
        partial = " ".join(f"{b:02X}" for b in data[len(readable.encode()) :])
        return f"{readable}‹{partial}›" if readable else f"‹{partial}›"
    return token


# --- next token, stage by stage --------------------------------------------------------------


@dataclass(frozen=True)
class StageSummary:
    name: str  # one of STAGES
    active: bool  # False: this stage is switched off and changes nothing
    kept: int  # tokens still possible after this stage
    entropy_bits: float  # uncertainty of the distribution: 0 = certain, log2(kept) at most


@dataclass(frozen=True)
class Candidate:
    token_id: int
    label: str
    probabilities: tuple[float, ...]  # one per stage, 0 once a stage removed it

    @property
    def kept(self) -> bool:
        return self.probabilities[-1] > 0


@dataclass(frozen=True)
class NextToken:
    stages: tuple[StageSummary, ...]
    candidates: tuple[Candidate, ...]  # the most likely tokens after the repetition penalty
    scores: torch.Tensor = field(repr=False)  # after every stage, shape (1, vocabulary): what a draw uses
    context: Context
    raw_scores: torch.Tensor = field(
        repr=False
    )  # the model's, shape (vocabulary,): what the browser's filters start from


def next_token_stages(lm: LanguageModel, context: Context, settings: SamplingSettings, top_n: int = 10) -> NextToken:
    """The next-token distribution after each stage, for the `top_n` most likely candidates."""
    input_ids = torch.tensor([list(context.ids)], device=lm.device)
    raw_scores = lm.passes.scores([context.ids])[0]
    scores = raw_scores[None]  # shape (1, vocabulary), as the processors take them
    distributions = [StageDistribution.of_scores(scores[0], None, may_remove=True)]
    summaries = [StageSummary(STAGES[0], True, distributions[0].kept, distributions[0].entropy_bits())]
    for name, (_, processor) in zip(STAGES[1:], stage_processors(settings), strict=True):
        if processor is None:  # a stage switched off changes nothing: the previous stage's figures stand
            distributions.append(distributions[-1])
            summaries.append(replace(summaries[-1], name=name, active=False))
            continue
        scores = processor(input_ids, scores)
        removes = not isinstance(processor, (RepetitionPenaltyLogitsProcessor, TemperatureLogitsWarper))
        distributions.append(StageDistribution.of_scores(scores[0], distributions[-1].support, removes))
        summaries.append(StageSummary(name, True, distributions[-1].kept, distributions[-1].entropy_bits()))
    # Ranked after the penalty: the later stages never reorder tokens, so these are also the most
    # likely ones at every later stage.
    ranked = distributions[1].most_likely(top_n)
    table = torch.stack([distribution.probabilities_of(ranked) for distribution in distributions]).T.tolist()
    candidates = tuple(
        Candidate(token_id, token_label(lm.tokenizer, token_id), tuple(row))
        for token_id, row in zip(ranked.tolist(), table, strict=True)
    )
    return NextToken(tuple(summaries), candidates, scores, context, raw_scores)


@dataclass(frozen=True)
class StageDistribution:
    """One stage's distribution over the tokens it leaves possible.

    Once top-k or top-p has run, a few dozen of the 262 144 scores are finite: the later stages'
    figures are computed on those alone, and the stages that remove nothing (the penalty, the
    temperature) skip looking for the removed ones, a third of the view's time on a kept context.
    Its normalisation and entropy are sums in float64: float32's log-softmax over 262 144 scores
    put the entropy up to 2e-4 bits off, and the browser (filters.js) must find the same figures."""

    support: torch.Tensor | None  # the token ids still possible, ascending; None: the whole vocabulary
    values: torch.Tensor  # the stage's scores over `support` (over the whole vocabulary when it is None)
    log_total: float  # log(sum(exp(values))), in float64
    entropy_nats: float

    @staticmethod
    def of_scores(row: torch.Tensor, support: torch.Tensor | None, may_remove: bool) -> StageDistribution:
        """`row`: a stage's scores over the whole vocabulary; `support`: what the earlier stages left."""
        values = row if support is None else row[support]
        if may_remove:
            finite = torch.isfinite(values)
            if not bool(finite.all()):
                positions = finite.nonzero()[:, 0]
                support, values = (positions if support is None else support[positions]), values[positions]
        shifted = values.double() - float(values.max())
        weights = shifted.exp()
        total = float(weights.sum())
        entropy = math.log(total) - float(weights @ shifted) / total  # log Z - E[score - max]
        return StageDistribution(support, values, float(values.max()) + math.log(total), entropy)

    @property
    def kept(self) -> int:
        return self.values.numel()

    def entropy_bits(self) -> float:
        return max(0.0, self.entropy_nats / math.log(2))

    def most_likely(self, count: int) -> torch.Tensor:
        best = self.values.topk(min(count, self.kept)).indices
        return best if self.support is None else self.support[best]

    def probabilities_of(self, token_ids: torch.Tensor) -> torch.Tensor:
        """Each token's probability at this stage (float64), 0 for one an earlier stage removed."""
        if self.support is None:
            return (self.values[token_ids].double() - self.log_total).exp()
        positions = torch.searchsorted(self.support, token_ids).clamp(max=self.kept - 1)
        present = self.support[positions] == token_ids
        probabilities = (self.values[positions].double() - self.log_total).exp()
        return torch.where(present, probabilities, torch.zeros((), dtype=torch.float64))


# --- two prompts side by side ----------------------------------------------------------------


@dataclass(frozen=True)
class ComparedToken:
    token_id: int
    label: str
    probabilities: tuple[float, ...]  # the model's probability for it after each prompt


# The bias slide's pronouns: the pair whose tokens are likeliest after the prompts is the one the
# comparison talks about (« qu' » is followed by "il", « que » by " il", "that" by " he").
PRONOUN_PAIRS = (("il", "elle"), (" il", " elle"), (" he", " she"), ("he", "she"))
# Below this probability (the pair's, after the likeliest prompt) the prompts lead to no pronoun:
# the comparison says nothing of one.
PRONOUN_MINIMUM = 0.05


@dataclass(frozen=True)
class Pronouns:
    """A masculine and a feminine pronoun, each one token, and their probability after each prompt."""

    words: tuple[str, str]  # as a sentence writes them: "il", "elle"
    token_ids: tuple[int, int]
    probabilities: tuple[tuple[float, float], ...]  # per prompt: (masculine, feminine)

    def odds(self, prompt: int) -> float:
        """How many times likelier the masculine pronoun is than the feminine one after a prompt."""
        masculine, feminine = self.probabilities[prompt]
        return masculine / feminine if feminine else math.inf


@dataclass(frozen=True)
class Comparison:
    contexts: tuple[Context, ...]
    tokens: tuple[ComparedToken, ...]  # each prompt's `top_n` most likely, most likely (anywhere) first
    pronouns: Pronouns | None = None  # the bias in the model's own numbers, where the prompts call for a pronoun


def compare_prompts(lm: LanguageModel, contexts: Sequence[Context], top_n: int = 8) -> Comparison:
    """The model's next-token probabilities after each context (no filter: the bias is the
    model's own), for the tokens most likely after any of them, and the pronoun pair where the
    prompts call for one; the contexts run as one batch."""
    distributions = [scores.softmax(dim=-1) for scores in lm.passes.scores([context.ids for context in contexts])]
    favourites = []
    for distribution in distributions:
        for token_id in distribution.topk(min(top_n, distribution.numel())).indices.tolist():
            if token_id not in favourites:
                favourites.append(token_id)
    pronouns = likeliest_pronouns(lm, distributions)
    for token_id in pronouns.token_ids if pronouns else ():
        if token_id not in favourites:  # both pronouns side by side, however unlikely one is
            favourites.append(token_id)
    rows = torch.stack([distribution[favourites] for distribution in distributions]).T.tolist()
    tokens = sorted(
        (
            ComparedToken(token_id, token_label(lm.tokenizer, token_id), tuple(row))
            for token_id, row in zip(favourites, rows, strict=True)
        ),
        key=lambda token: -max(token.probabilities),
    )
    return Comparison(tuple(contexts), tuple(tokens), pronouns)


def likeliest_pronouns(lm: LanguageModel, distributions: Sequence[torch.Tensor]) -> Pronouns | None:
    """Of PRONOUN_PAIRS, the pair (both one token in this tokenizer) likeliest after some prompt, if
    it reaches PRONOUN_MINIMUM there."""
    best, best_probability = None, PRONOUN_MINIMUM
    for pair in PRONOUN_PAIRS:
        encoded = [lm.tokenizer.encode(word, add_special_tokens=False) for word in pair]
        if any(len(ids) != 1 for ids in encoded):
            continue
        token_ids = (encoded[0][0], encoded[1][0])
        probabilities = tuple((float(d[token_ids[0]]), float(d[token_ids[1]])) for d in distributions)
        likeliest = max(sum(pair_probabilities) for pair_probabilities in probabilities)
        if likeliest >= best_probability:
            best_probability = likeliest
            best = Pronouns((pair[0].strip(), pair[1].strip()), token_ids, probabilities)
    return best


def choose_token(scores: torch.Tensor, settings: SamplingSettings, generator: torch.Generator) -> int:
    """Draw the next token from the filtered scores, as generate() does; greedy takes the best
    and draws nothing (the generator is left as it was)."""
    if settings.greedy:
        return int(scores.argmax(dim=-1))
    return int(torch.multinomial(scores.softmax(dim=-1), num_samples=1, generator=generator))


def seeded_generator(lm: LanguageModel, seed: int) -> torch.Generator:
    """A random generator for one call, in the state torch.manual_seed(seed) gives the global one."""
    return torch.Generator(device=lm.device).manual_seed(int(seed))


# --- step by step ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Steps:
    """One user's step-by-step text: a prompt, the tokens appended one at a time, and the random
    generator's state, so that a seed makes the draws reproducible and undo restores them. With
    no token chosen by hand, N draws give the text `generate` gives with N tokens and that seed."""

    prompt: str
    seed: int
    model: str = ""  # whose tokens these are (a catalogue key)
    token_ids: tuple[int, ...] = ()
    drawn: tuple[bool, ...] = ()  # per appended token: True if drawn, False if chosen by the user
    rng_states: tuple[torch.Tensor | None, ...] = ()  # the generator's state before each token
    rng_state: torch.Tensor | None = None  # the generator's state now; None: freshly seeded

    def generator(self, lm: LanguageModel) -> torch.Generator:
        generator = seeded_generator(lm, self.seed)
        if self.rng_state is not None:
            generator.set_state(self.rng_state)
        return generator

    def reseeded(self, seed: int) -> Steps:
        """The next draws follow the new seed, from this point on."""
        return self if seed == self.seed else replace(self, seed=int(seed), rng_state=None)

    def appended(self, token_id: int, drawn: bool, rng_state: torch.Tensor | None) -> Steps:
        return replace(
            self,
            token_ids=self.token_ids + (token_id,),
            drawn=self.drawn + (drawn,),
            rng_states=self.rng_states + (self.rng_state,),
            rng_state=rng_state,
        )

    def undone(self) -> Steps:
        if not self.token_ids:
            return self
        return replace(
            self,
            token_ids=self.token_ids[:-1],
            drawn=self.drawn[:-1],
            rng_states=self.rng_states[:-1],
            rng_state=self.rng_states[-1],
        )


def steps_context(lm: LanguageModel, steps: Steps) -> Context:
    return text_context(lm, steps.prompt, steps.token_ids)


def draw_step(lm: LanguageModel, steps: Steps, settings: SamplingSettings) -> Steps:
    """Append one token drawn with the settings (the "next token" button): the filters applied as
    generate() applies them, without the stages' figures, which the view before the draw showed."""
    context = steps_context(lm, steps)
    scores = lm.passes.scores([context.ids])[0][None]
    filtered = logits_processors(settings)(torch.tensor([list(context.ids)], device=lm.device), scores)
    generator = steps.generator(lm)
    token_id = choose_token(filtered, settings, generator)
    return steps.appended(token_id, drawn=True, rng_state=generator.get_state())


def choose_step(steps: Steps, token_id: int) -> Steps:
    """Append a token the user picked; the generator does not move."""
    return steps.appended(token_id, drawn=False, rng_state=steps.rng_state)


# --- generation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratedToken:
    token_id: int
    text: str  # what it adds to the text: "" while a character's bytes are incomplete
    probability: float  # the model's own probability for it, before the settings' filters
    alternatives: tuple[tuple[str, float], ...]  # the model's most likely tokens at this step
    finish: str | None = None  # on the last token: "end_of_text", "stop_sequence" or "length"


class TextStream:
    """Decodes tokens one at a time. A character split over several tokens (an emoji is often
    2-4 byte tokens) comes out whole with its last token; the tokens before it add ""."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.ids: list[int] = []
        self.text = ""  # everything given out so far

    def add(self, token_id: int, last: bool = False) -> str:
        self.ids.append(token_id)
        new = self.tokenizer.decode(self.ids)[len(self.text) :]
        if new.endswith("\ufffd") and not last:
            return ""  # half a character: wait for the bytes that complete it
        self.text += new
        return new


class GenerationSteps:
    """What follows each forward pass of a generation: the settings' filters, one draw, the
    token's text, and whether to stop (end of text, a stop sequence, or the length). The forward
    passes themselves are the caller's (`generate`: the model's `passes`)."""

    def __init__(
        self,
        lm: LanguageModel,
        context: Context,
        settings: SamplingSettings,
        max_new_tokens: int,
        seed: int,
        stop_sequences: Sequence[str] = (),
        end_token_ids: frozenset[int] | None = None,
    ):
        self.lm = lm
        self.settings = settings
        self.processors = logits_processors(settings)
        self.generator = seeded_generator(lm, seed)
        self.input_ids = torch.tensor([list(context.ids)], device=lm.device)  # what the penalty reads
        self.stream = TextStream(lm.tokenizer)
        self.max_new_tokens = max_new_tokens
        self.count = 0  # tokens drawn so far
        self.stop_sequences = stop_sequences
        self.end_token_ids = lm.end_token_ids if end_token_ids is None else end_token_ids

    def __call__(self, scores: torch.Tensor) -> tuple[int, GeneratedToken, bool]:
        """After a pass (`scores`: the next token's, shape (vocabulary,)): the token drawn, what it
        shows, and whether the generation ends with it."""
        logits = scores[None]
        token_id = choose_token(self.processors(self.input_ids, logits), self.settings, self.generator)
        self.input_ids = torch.cat([self.input_ids, self.input_ids.new_tensor([[token_id]])], dim=-1)

        model_probabilities = logits.softmax(dim=-1)[0]
        top = model_probabilities.topk(ALTERNATIVES_SHOWN)
        alternatives = tuple(
            (token_label(self.lm.tokenizer, int(i)), float(p)) for p, i in zip(top.values, top.indices, strict=True)
        )
        self.count += 1
        finish = "length" if self.count == self.max_new_tokens else None
        if token_id in self.end_token_ids:
            text, finish = "", "end_of_text"
        else:
            shown_before = self.stream.text
            text = self.stream.add(token_id, last=finish is not None)
            stop_at = first_stop(self.stream.text, self.stop_sequences, since=len(shown_before))
            if stop_at is not None:
                text, finish = self.stream.text[len(shown_before) : stop_at], "stop_sequence"
        token = GeneratedToken(token_id, text, float(model_probabilities[token_id]), alternatives, finish)
        return token_id, token, finish is not None


def generate(
    lm: LanguageModel,
    context: Context,
    settings: SamplingSettings,
    max_new_tokens: int,
    seed: int,
    stop_sequences: Sequence[str] = (),
    end_token_ids: frozenset[int] | None = None,
) -> Iterator[GeneratedToken]:
    """Stream up to `max_new_tokens` tokens: one forward pass per token thanks to the KV cache,
    the settings' filters, one draw. Stops after an end-of-text token (`end_token_ids`, by
    default the model's) or, cutting the text just before it, at the first stop sequence."""
    steps = GenerationSteps(lm, context, settings, max_new_tokens, seed, stop_sequences, end_token_ids)
    return lm.passes.stream(context.ids, steps)


def first_stop(text: str, stop_sequences: Sequence[str], since: int) -> int | None:
    """Where the earliest stop sequence starts in `text`, looking only at matches that end after
    `since` (text before it was already checked); None if there is none."""
    starts = []
    for stop in stop_sequences:
        if stop:
            found = text.find(stop, max(0, since - len(stop) + 1))
            if found != -1:
                starts.append(found)
    return min(starts, default=None)


def parse_stop_sequences(text: str) -> tuple[str, ...]:
    """One stop sequence per line; "\\n" written out stands for a line break."""
    return tuple(line.replace("\\n", "\n") for line in (text or "").splitlines() if line)
