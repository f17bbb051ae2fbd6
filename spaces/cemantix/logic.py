"""Cémantix: guess the secret word, each guess scored by how near its vector is (Gradio-free).

Scores, as on cemantix.certitudes.org:

* temperature = cosine similarity with the secret × 100, in °C, two decimals;
* ‰ = rank among the 1 000 words nearest the secret: 1000 is the secret, 999 the nearest word,
  1 the 999th; a word outside the top 1 000 has no ‰;
* emoji: 🧊 below 0 °C, 🥶 outside the top 1 000, 😎 1–899 ‰, 🥵 900+, 🔥 990+, 😱 999, 🥳 found.

`Game(words_language, secret)` keeps one player's game; the secret's ranking is computed once per secret
and shared by every game on it (a room of 100 players costs one ranking). The daily word is
the same for everyone and changes at midnight, Europe/Paris.
"""

from __future__ import annotations

import functools
import hashlib
import random
import time
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np

from spaces.cemantix.vocabulary import Vocabulary, load_vocabulary, normalise_word

PUZZLE_TIMEZONE = ZoneInfo("Europe/Paris")
FIRST_PUZZLE_DAY = date(2025, 1, 1)  # daily puzzle n°1
MAX_WORD_LENGTH = 30  # longer than any word of the vocabulary
HINT_STEP = 0.5  # a hint lands halfway (in ‰) between the best guess and the nearest word
NEAREST_SHOWN = 100

# Why a guess did not count.
EMPTY, TOO_LONG, SEVERAL_WORDS, DIGITS, NOT_LETTERS = "empty", "too_long", "several_words", "digits", "not_letters"
UNKNOWN, REPEATED, GAME_OVER = "unknown", "repeated", "game_over"
# How a game ended: found, given up, or its room ended (its creator revealed the word).
FOUND, GAVE_UP, ROOM_ENDED = "found", "gave_up", "room_ended"
# Plural and other regular endings, tried on an unknown word to suggest a known one.
SUGGESTED_ENDINGS = {
    "fr": (("aux", "al"), ("s", ""), ("x", ""), ("es", ""), ("e", "")),
    "en": (("ies", "y"), ("es", ""), ("s", ""), ("ing", ""), ("ed", ""), ("ed", "e")),
}


def heat_emoji(temperature: float, permille: int | None) -> str:
    if permille == 1000:
        return "🥳"
    if permille == 999:
        return "😱"
    if permille is not None and permille >= 990:
        return "🔥"
    if permille is not None and permille >= 900:
        return "🥵"
    if permille:
        return "😎"
    return "🧊" if temperature < 0 else "🥶"


@dataclass(frozen=True)
class Entry:
    """One line of the history: a counted guess (with its number) or a hint (number None)."""

    word: str
    temperature: float
    permille: int | None
    number: int | None

    @property
    def is_hint(self) -> bool:
        return self.number is None

    @property
    def emoji(self) -> str:
        return heat_emoji(self.temperature, self.permille)


@dataclass(frozen=True)
class GuessResult:
    word: str  # the input as normalised (trimmed, NFC, lowercase)
    counted: bool  # false for an invalid, unknown or repeated word, or after the end
    temperature: float | None  # °C; None when the word has no vector
    permille: int | None  # None outside the top 1 000
    problem: str | None = None  # why it did not count: EMPTY, TOO_LONG, ... GAME_OVER
    entry: Entry | None = None  # its line in the history (the earlier one for a repeated word)
    suggestion: str | None = None  # a known word close in spelling, for an unknown one

    @property
    def found(self) -> bool:
        return self.counted and self.permille == 1000


@dataclass(frozen=True)
class MapPoint:
    word: str
    x: float  # the distance from the secret (0, 0) is exactly 1 − cosine
    y: float
    temperature: float
    permille: int | None
    kind: str  # "secret", "guess", "hint" or "neighbour"


def clean_guess(text: str | None) -> tuple[str, str | None]:
    """The word to look up, and the reason it cannot be one (None when it can)."""
    text = (text or "").strip()
    if len(text) > MAX_WORD_LENGTH:
        return text[:MAX_WORD_LENGTH], TOO_LONG
    word = normalise_word(text)
    if not word:
        return word, EMPTY
    if any(character.isspace() for character in word):
        return word, SEVERAL_WORDS
    if any(character.isdigit() for character in word):
        return word, DIGITS
    if not word.isalpha():
        return word, NOT_LETTERS
    return word, None


class Game:
    """One player's game against one secret word."""

    def __init__(
        self,
        words_language: str,
        secret: str,
        vocabulary: Vocabulary | None = None,
        puzzle_number: int | None = None,
        room_code: str | None = None,
    ):
        self.vocabulary = vocabulary if vocabulary is not None else default_vocabulary(words_language)
        if self.vocabulary.words_language != words_language:
            raise ValueError(f"a {self.vocabulary.words_language} vocabulary cannot play a {words_language} game")
        secret = normalise_word(secret)
        if secret not in self.vocabulary:
            raise ValueError(f"{secret!r} is not in the {words_language} vocabulary")
        self.words_language = words_language
        self.secret = secret
        self.puzzle_number = puzzle_number  # the daily puzzle's number; None for a random word
        self.room_code = room_code
        self.ranking = self.vocabulary.ranking(secret)
        self.entries: list[Entry] = []  # in the order played
        self._by_word: dict[str, Entry] = {}
        self.guesses = 0
        self.hints = 0
        self.outcome: str | None = None  # FOUND, GAVE_UP or ROOM_ENDED once over
        self.started_at = time.time()
        self.ended_at: float | None = None

    @property
    def over(self) -> bool:
        return self.outcome is not None

    @property
    def latest(self) -> Entry | None:
        return self.entries[-1] if self.entries else None

    @property
    def best(self) -> Entry | None:
        return max(self.entries, key=lambda entry: entry.temperature, default=None)

    @property
    def seconds(self) -> float:
        return (self.ended_at or time.time()) - self.started_at

    def score(self, word: str) -> tuple[float, int | None]:
        """Temperature (°C) and ‰ of a known word against the secret."""
        position = self.vocabulary.index[word]
        if position == self.ranking.secret_index:
            return 100.0, 1000
        temperature = round(float(self.ranking.similarities[position]) * 100, 2)
        return temperature, int(self.ranking.permille[position]) or None

    def guess(self, text: str) -> GuessResult:
        """Score a word and keep it. A word typed as the game's room ended was on its way: it is
        still scored and kept (the word is no secret any more), and the game stays ended."""
        word, problem = clean_guess(text)
        if problem is None and self.over and self.outcome != ROOM_ENDED:
            problem = GAME_OVER
        if problem is not None:
            return GuessResult(word, False, None, None, problem)
        if word in self._by_word:
            earlier = self._by_word[word]
            return GuessResult(word, False, earlier.temperature, earlier.permille, REPEATED, earlier)
        if word not in self.vocabulary:
            return GuessResult(word, False, None, None, UNKNOWN, suggestion=self._suggest(word))
        self.guesses += 1
        entry = self._add(word, self.guesses)
        if entry.permille == 1000 and not self.over:
            self._end(FOUND)
        return GuessResult(word, True, entry.temperature, entry.permille, entry=entry)

    def hint(self) -> Entry | None:
        """Reveal a word nearer than the best guess so far, about halfway (in ‰) to the nearest
        word; None when the best guess is already the nearest word (or the game is over)."""
        best = max((entry.permille or 0 for entry in self.entries), default=0)
        if self.over or best >= 999:
            return None
        target = best + max(1, round((999 - best) * HINT_STEP))
        # ranking.nearest[k] has ‰ 1000 − k: walk from the target ‰ up towards the nearest word,
        # then down to just above the best guess, skipping guessed and blocklisted words.
        positions = [*range(1000 - target, 0, -1), *range(1000 - target + 1, 1000 - best)]
        for position in positions:
            word = self.vocabulary.words[self.ranking.nearest[position]]
            if word not in self._by_word and self.vocabulary.is_shown(word):
                self.hints += 1
                return self._add(word, None)
        return None

    def give_up(self) -> None:
        if not self.over:
            self._end(GAVE_UP)

    def end_with_room(self) -> None:
        """The room's creator revealed the word: the game is over, neither found nor given up."""
        if not self.over:
            self._end(ROOM_ENDED)

    def history(self) -> list[Entry]:
        """Every entry, warmest first (ties: in the order played)."""
        return sorted(self.entries, key=lambda entry: -entry.temperature)

    def nearest(self, count: int = NEAREST_SHOWN) -> list[Entry]:
        """The secret's nearest shown words with their temperatures, nearest first (number: the
        guess number when the player guessed it). For the end of the game."""
        entries = []
        for position in self.ranking.nearest[1:]:
            word = self.vocabulary.words[position]
            if self.vocabulary.is_shown(word):
                temperature, permille = self.score(word)
                guessed = self._by_word.get(word)
                entries.append(Entry(word, temperature, permille, guessed.number if guessed else None))
                if len(entries) == count:
                    break
        return entries

    def map_points(self, neighbours: int = NEAREST_SHOWN) -> list[MapPoint]:
        """A 2-D map of the guesses around the secret (see `project_around`), the secret first."""
        kinds = {entry.word: "hint" if entry.is_hint else "guess" for entry in self.entries}
        for entry in self.nearest(neighbours):
            kinds.setdefault(entry.word, "neighbour")
        return map_around(self, kinds)

    def _add(self, word: str, number: int | None) -> Entry:
        entry = Entry(word, *self.score(word), number)
        self.entries.append(entry)
        self._by_word[word] = entry
        return entry

    def _end(self, outcome: str) -> None:
        self.outcome = outcome
        self.ended_at = time.time()

    def _suggest(self, word: str) -> str | None:
        for ending, replacement in SUGGESTED_ENDINGS[self.words_language]:
            if word.endswith(ending) and len(word) > len(ending) + 1:
                candidate = word[: -len(ending)] + replacement
                if candidate in self.vocabulary and self.vocabulary.is_shown(candidate):
                    return candidate
        return None


def map_around(game: Game, kinds: dict[str, str]) -> list[MapPoint]:
    """The map of `kinds`' words (word -> kind) around `game`'s secret, the secret first: a
    player's guesses, or the words a whole room tried."""
    words = [word for word in kinds if word != game.secret]
    vectors = game.vocabulary.vectors
    coordinates = project_around(
        vectors[game.ranking.secret_index], vectors[[game.vocabulary.index[word] for word in words]]
    )
    points = [MapPoint(game.secret, 0.0, 0.0, 100.0, 1000, "secret")]
    for word, (x, y) in zip(words, coordinates, strict=True):
        points.append(MapPoint(word, float(x), float(y), *game.score(word), kinds[word]))
    return points


def project_around(secret: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """2-D points around the secret at (0, 0): each word's distance from the centre is exactly
    1 − cosine (what the temperature measures), and its direction comes from the two main axes
    (PCA) of what the words have beyond the secret's direction, so words that are near each
    other tend to lie on the same side, and different groups around the secret."""
    if len(vectors) == 0:
        return np.zeros((0, 2))
    cosines = vectors @ secret
    residuals = vectors - np.outer(cosines, secret)
    residuals -= residuals.mean(axis=0)
    _, _, axes = np.linalg.svd(residuals, full_matrices=False)
    planar = residuals @ axes[:2].T
    if planar.shape[1] == 1:  # a single word: any direction will do
        planar = np.hstack([planar, np.zeros_like(planar)])
    angles = np.arctan2(planar[:, 1], planar[:, 0])
    radii = 1.0 - cosines
    return np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1)


# --- which word: daily or random -----------------------------------------------------------


def puzzle_day(now: datetime | None = None) -> date:
    """Today in Europe/Paris: the daily word changes at midnight there, wherever the server is."""
    now = now or datetime.now(PUZZLE_TIMEZONE)
    if now.tzinfo is None:
        raise ValueError("a timezone-aware datetime is needed")
    return now.astimezone(PUZZLE_TIMEZONE).date()


def puzzle_number(day: date) -> int:
    return (day - FIRST_PUZZLE_DAY).days + 1


@functools.lru_cache(maxsize=4)
def _daily_order(pool: tuple[str, ...], words_language: str) -> tuple[str, ...]:
    # A fixed shuffle of the pool, walked one word a day: no word comes back before all have
    # been used. Seeded from the language (sha256, not hash(): the same in every process).
    seed = int.from_bytes(hashlib.sha256(f"cemantix-{words_language}".encode()).digest()[:8], "big")
    return tuple(random.Random(seed).sample(pool, len(pool)))


def daily_secret(vocabulary: Vocabulary, day: date) -> str:
    order = _daily_order(vocabulary.secret_pool, vocabulary.words_language)
    return order[(puzzle_number(day) - 1) % len(order)]


def random_secret(vocabulary: Vocabulary, day: date | None = None) -> str:
    """A word of the pool at random, never the daily word of `day` (today): a player who gave
    that one up in « Jouer » must not meet it again in a random game or a room."""
    daily = daily_secret(vocabulary, day or puzzle_day())
    return random.SystemRandom().choice([word for word in vocabulary.secret_pool if word != daily])


def daily_game(vocabulary: Vocabulary, day: date | None = None, room_code: str | None = None) -> Game:
    day = day or puzzle_day()
    return Game(vocabulary.words_language, daily_secret(vocabulary, day), vocabulary, puzzle_number(day), room_code)


# --- outside the app ------------------------------------------------------------------------


@functools.cache
def _standalone_hub():
    from shared.hub import Hub
    from shared.settings import load_settings

    return Hub(load_settings([]))


def default_vocabulary(words_language: str) -> Vocabulary:
    """The vocabulary a `Game(words_language, secret)` made outside the app uses: through a hub built from
    the environment's settings (IAGEN_CACHE_DIR...), as the app would."""
    return load_vocabulary(_standalone_hub(), words_language)
