"""Tests for the tokenizer explorer logic (offline, no Gradio)."""

from __future__ import annotations

import json
import threading
import time

import pytest

from spaces.tokenizer import logic
from spaces.tokenizer.logic import (
    DEFAULT_COMPARISON,
    ENCODINGS,
    EXAMPLES,
    UnknownEncoding,
    compare,
    count_words,
    decode,
    encode,
    register_tokenizer,
    tokenize,
)

ALL_ENCODINGS = list(ENCODINGS)

# Texts whose characters are split across several byte-level tokens in at least one encoding.
MULTIBYTE_TEXTS = {
    "emoji with skin tone": "Bravo 👍🏽 !",
    "family emoji (ZWJ)": "👨‍👩‍👧",
    "CJK": "日本語の文章です。中文也可以。",
    "accented French": "Où est l'école ? À côté du château, dès l'été — ça coûte 5 €.",
    "mixed scripts": "Paris Париж 巴黎 باريس 🇫🇷 e\u0301 ﬁ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
}

ROUND_TRIP_TEXTS = [
    *EXAMPLES,
    *MULTIBYTE_TEXTS.values(),
    "  leading and trailing spaces  \n\n\ttabs\r\nCRLF",
    "<|endoftext|> <|fim_prefix|> <|endofprompt|>",
    "\x00\x1b[31mrouge\x1b[0m\x7f",
]

PROSE = "Les modèles d'IA générative découpent le texte en tokens. Hello world! 👍🏽 日本語\n"
LONG_TEXT = (PROSE * (200_000 // len(PROSE) + 1))[:200_000]

SPECIAL_TOKEN_IDS = {"r50k_base": 50256, "cl100k_base": 100257, "o200k_base": 199999}


def assert_segments_cover(result: logic.Tokenization) -> None:
    """Segments tile the text, keep all ids in order and never show U+FFFD."""
    assert "".join(segment.text for segment in result.segments) == result.text
    assert [i for segment in result.segments for i in segment.token_ids] == result.ids
    position = 0
    for segment in result.segments:
        assert segment.start == position
        assert result.text[segment.start : segment.end] == segment.text
        assert segment.text
        position = segment.end
    if "\ufffd" not in result.text:
        assert all("\ufffd" not in segment.text for segment in result.segments)


def gpt2_tokenizer_with_special_token_and_truncation():
    """GPT-2 as a model would ship it: <|endoftext|> is a special token, truncation on."""
    tokenizer = logic.build_gpt2_tokenizer()
    tokenizer.add_special_tokens(["<|endoftext|>"])
    tokenizer.enable_truncation(max_length=4)
    return tokenizer


@pytest.fixture
def isolated_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registrations made by a test disappear after it (already loaded encodings are kept)."""
    monkeypatch.setattr(logic, "_registered", {})
    monkeypatch.setattr(logic, "_loaded", dict(logic._loaded))


# --- exact ids -------------------------------------------------------------------------


def test_r50k_exact_ids() -> None:
    assert encode("Say 'hello' to my little friend!", "r50k_base") == [
        25515,
        705,
        31373,
        6,
        284,
        616,
        1310,
        1545,
        0,
    ]


def test_cl100k_exact_ids_with_typographic_apostrophe() -> None:
    assert encode("La géomatique c\u2019est f", "cl100k_base") == [
        8921,
        74672,
        81868,
        2428,
        272,
        22117,
        282,
    ]


def test_tokenize_ids_match_encode() -> None:
    assert tokenize("Say 'hello' to my little friend!", "r50k_base").ids == [
        25515,
        705,
        31373,
        6,
        284,
        616,
        1310,
        1545,
        0,
    ]


@pytest.mark.parametrize("encoding", ALL_ENCODINGS)
def test_special_token_text_is_plain_text(encoding: str) -> None:
    text = "avant <|endoftext|> après"
    ids = encode(text, encoding)
    assert SPECIAL_TOKEN_IDS[encoding] not in ids
    assert decode(ids, encoding) == text


# --- round trip and segments -------------------------------------------------------------


@pytest.mark.parametrize("encoding", ALL_ENCODINGS)
@pytest.mark.parametrize("text", ROUND_TRIP_TEXTS)
def test_round_trip(encoding: str, text: str) -> None:
    assert decode(encode(text, encoding), encoding) == text


@pytest.mark.parametrize("encoding", ALL_ENCODINGS)
@pytest.mark.parametrize("text", MULTIBYTE_TEXTS.values(), ids=MULTIBYTE_TEXTS.keys())
def test_segments_cover_text_without_replacement_character(encoding: str, text: str) -> None:
    result = tokenize(text, encoding)
    assert result.text == text
    assert_segments_cover(result)
    assert not result.truncated


@pytest.mark.parametrize("encoding", ALL_ENCODINGS)
def test_emoji_with_skin_tone_groups_tokens_into_whole_characters(encoding: str) -> None:
    result = tokenize("👍🏽", encoding)
    # Two code points (thumbs up, skin tone modifier), each split into several byte tokens
    # somewhere: the tokens are grouped back into one segment per character.
    assert [segment.text for segment in result.segments] == ["👍", "🏽"]
    assert any(len(segment.token_ids) > 1 for segment in result.segments)
    assert result.n_tokens > 2


def test_tokens_splitting_one_character_share_a_segment() -> None:
    # cl100k cuts "語" into two byte tokens; they must not be shown as two "�".
    result = tokenize("語", "cl100k_base")
    assert result.n_tokens == 2
    assert [(s.text, len(s.token_ids)) for s in result.segments] == [("語", 2)]


def test_counts() -> None:
    text = "C'est l'été, aujourd'hui ! 👍🏽 123"
    result = tokenize(text, "cl100k_base")
    assert result.n_chars == len(text) == 33
    assert result.n_words == 4  # C'est, l'été, aujourd'hui, 123
    assert result.n_tokens == len(result.ids) == len(encode(text, "cl100k_base"))
    assert result.chars_per_token == pytest.approx(33 / result.n_tokens)


def test_count_words_unicode() -> None:
    assert count_words("Hello darkness my old friend") == 5
    assert count_words("peut-être demain, Париж ! 👍🏽 — ...") == 3
    assert count_words("cafe\u0301 noir") == 2  # a combining accent does not split a word
    assert count_words("  \n\t ") == 0


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ALL_ENCODINGS)
def test_empty_text(encoding: str) -> None:
    result = tokenize("", encoding)
    assert (result.ids, result.segments, result.truncated) == ([], [], False)
    assert (result.n_tokens, result.n_chars, result.n_words) == (0, 0, 0)
    assert result.chars_per_token == 0.0
    assert encode("", encoding) == []


@pytest.mark.parametrize("encoding", ALL_ENCODINGS)
def test_200k_characters_exact_counts_truncated_segments_bounded_time(encoding: str) -> None:
    encode("warm-up", encoding)  # first load is not what is measured
    started = time.perf_counter()
    result = tokenize(LONG_TEXT, encoding)
    elapsed = time.perf_counter() - started

    assert result.ids == encode(LONG_TEXT, encoding)
    assert result.n_tokens == len(result.ids) > 5000
    assert result.n_chars == 200_000
    assert result.truncated
    assert len(result.segments) == 5000
    shown = "".join(segment.text for segment in result.segments)
    assert LONG_TEXT.startswith(shown) and 0 < len(shown) < len(LONG_TEXT)
    assert elapsed < 5  # measured ~0.15 s (r50k) and ~0.03 s (cl100k, o200k)


def test_max_segments_limits_display_only() -> None:
    result = tokenize("un deux trois quatre", "cl100k_base", max_segments=2)
    assert [segment.text for segment in result.segments] == ["un", " deux"]
    assert result.truncated
    assert result.n_tokens == 4
    assert not tokenize("un deux trois quatre", "cl100k_base", max_segments=4).truncated


@pytest.mark.parametrize("encoding", ["cl100k_base", "o200k_base"])
def test_more_than_200k_tokens(encoding: str) -> None:
    # bpe-openai's Encoding.encode refuses more than 200 000 tokens; we must not.
    text = "👍🏽" * 100_000
    result = tokenize(text, encoding)
    assert result.n_tokens == len(encode(text, encoding)) > 200_000
    assert result.truncated


@pytest.mark.parametrize("encoding", ALL_ENCODINGS)
def test_control_characters(encoding: str) -> None:
    text = "a\x00b\x1b[1mgras\x1b[0m\tc\rd\r\ne\x07"
    result = tokenize(text, encoding)
    assert_segments_cover(result)
    assert result.replaced_surrogates == 0
    assert decode(result.ids, encoding) == text


@pytest.mark.parametrize("encoding", ALL_ENCODINGS)
def test_lone_surrogates_are_replaced_and_reported(encoding: str) -> None:
    result = tokenize("a\ud800b\udfffc", encoding)
    assert result.replaced_surrogates == 2
    assert result.text == "a\ufffdb\ufffdc"
    assert result.ids == encode("a\ufffdb\ufffdc", encoding) == encode("a\ud800b\udfffc", encoding)
    assert_segments_cover(result)
    assert tokenize("a\ufffdb", encoding).replaced_surrogates == 0


@pytest.mark.parametrize(
    "call",
    [
        lambda: encode("x", "gpt-5"),
        lambda: decode([1], "gpt-5"),
        lambda: tokenize("x", "gpt-5"),
        lambda: compare(("a", "b"), ["gpt-5"]),
    ],
)
def test_unknown_encoding(call) -> None:
    with pytest.raises(UnknownEncoding) as raised:
        call()
    assert isinstance(raised.value, ValueError)
    message = str(raised.value)
    assert "'gpt-5'" in message
    assert all(name in message for name in ALL_ENCODINGS)


# --- compare ---------------------------------------------------------------------------------


def test_compare_french_costs_more_tokens_than_english() -> None:
    english, french = DEFAULT_COMPARISON
    [cl100k] = compare((english, french), ["cl100k_base"])
    assert cl100k.encoding == "cl100k_base" and cl100k.label == "GPT-3.5 / GPT-4"
    assert cl100k.token_counts == [len(encode(english, "cl100k_base")), len(encode(french, "cl100k_base"))]
    assert cl100k.token_counts[1] > cl100k.token_counts[0]
    assert cl100k.ratio == pytest.approx(cl100k.token_counts[1] / cl100k.token_counts[0])


def test_compare_defaults_to_every_encoding(isolated_registry: None) -> None:
    comparisons = compare()
    assert [c.encoding for c in comparisons] == ALL_ENCODINGS
    assert all(c.ratio is not None and c.ratio > 1 for c in comparisons)


def test_compare_ratio_undefined() -> None:
    assert compare(["seul"], ["o200k_base"])[0].ratio is None
    assert compare(["", "abc"], ["o200k_base"])[0].ratio is None


def test_examples() -> None:
    assert EXAMPLES[:2] == ["Hello darkness my old friend", "123456"]
    assert "👍🏽" in EXAMPLES
    assert "Say 'hello' to my little friend!" in EXAMPLES
    assert "La géomatique c\u2019est fascinant !" in EXAMPLES  # the slide's « c’est f… », completed


# --- registered Hugging Face tokenizers ------------------------------------------------------


def test_registered_tokenizers_library_tokenizer_matches_r50k(isolated_registry: None) -> None:
    original = gpt2_tokenizer_with_special_token_and_truncation()
    register_tokenizer("gpt2-test", "GPT-2 (test)", lambda: original)
    assert logic.list_encodings()["gpt2-test"] == "GPT-2 (test)"

    for text in [*ROUND_TRIP_TEXTS, LONG_TEXT[:5000]]:
        # Special-token text stays plain and the saved truncation (4 tokens) is ignored.
        assert encode(text, "gpt2-test") == encode(text, "r50k_base")
        assert decode(encode(text, "gpt2-test"), "gpt2-test") == text

    result = tokenize(MULTIBYTE_TEXTS["mixed scripts"], "gpt2-test")
    assert result.ids == encode(MULTIBYTE_TEXTS["mixed scripts"], "r50k_base")
    assert_segments_cover(result)

    # The caller's tokenizer is left as it was.
    assert original.truncation is not None and not original.encode_special_tokens
    assert original.encode("<|endoftext|>").ids == [50256]


def test_registered_transformers_tokenizer_matches_r50k(isolated_registry: None) -> None:
    from transformers import GPT2TokenizerFast

    def load_gpt2_fast() -> GPT2TokenizerFast:
        # In-memory vocab/merges: GPT2TokenizerFast(vocab_file=..., merges_file=...)
        # silently builds an empty tokenizer in transformers 5.
        bpe_model = json.loads(logic.build_gpt2_tokenizer().to_str())["model"]
        return GPT2TokenizerFast(vocab=bpe_model["vocab"], merges=[tuple(m) for m in bpe_model["merges"]])

    register_tokenizer("gpt2-transformers", "GPT-2 (transformers)", load_gpt2_fast)
    text = "Say 'hello' to my little friend! <|endoftext|> 👍🏽"
    assert encode(text, "gpt2-transformers") == encode(text, "r50k_base")


def test_registered_tokenizer_with_offset_gaps_still_covers_text(isolated_registry: None) -> None:
    # A word-level tokenizer whose offsets skip whitespace (like many non-GPT tokenizers).
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    def load_word_tokenizer() -> Tokenizer:
        tokenizer = Tokenizer(models.WordLevel({"[UNK]": 0, "bonjour": 1, "le": 2, "monde": 3}, unk_token="[UNK]"))
        tokenizer.normalizer = normalizers.Lowercase()
        tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
        return tokenizer

    register_tokenizer("words", "Mots", load_word_tokenizer)
    result = tokenize("  Bonjour le\tMONDE !  ", "words")
    assert result.ids == [1, 2, 3, 0]
    # Skipped whitespace joins the following segment; the tail joins the last one.
    assert [segment.text for segment in result.segments] == ["  Bonjour", " le", "\tMONDE", " !  "]
    assert_segments_cover(result)
    assert tokenize("   ", "words").segments == [logic.Segment("   ", [], 0, 3)]


def test_register_rejects_duplicates_and_non_tokenizers(isolated_registry: None) -> None:
    with pytest.raises(ValueError, match="already exists"):
        register_tokenizer("cl100k_base", "clash", logic.build_gpt2_tokenizer)
    register_tokenizer("not-a-tokenizer", "oops", lambda: "not a tokenizer")
    with pytest.raises(ValueError, match="already exists"):
        register_tokenizer("not-a-tokenizer", "again", logic.build_gpt2_tokenizer)
    with pytest.raises(TypeError, match="tokenizers.Tokenizer"):
        encode("x", "not-a-tokenizer")


def test_each_encoding_loads_once_under_concurrency(isolated_registry: None) -> None:
    calls = []

    def slow_loader():
        calls.append(1)
        time.sleep(0.1)  # long enough for every thread to arrive while loading
        return logic.build_gpt2_tokenizer()

    register_tokenizer("slow", "slow", slow_loader)
    results: list[list[int]] = []
    threads = [threading.Thread(target=lambda: results.append(encode("bonjour", "slow"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert results == [encode("bonjour", "r50k_base")] * 8
