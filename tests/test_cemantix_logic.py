"""Cémantix rules on the real word vectors (fr_core_news_md, GloVe 6B 50d) and wordfreq."""

import unicodedata
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from spaces.cemantix import logic
from spaces.cemantix.vocabulary import read_blocklist


def test_vocabularies_hold_what_the_issue_describes(french, english):
    assert 14_000 < len(french) < 15_500 and french.vectors.shape == (len(french), 300)
    assert 45_000 < len(english) < 50_000 and english.vectors.shape == (len(english), 50)
    for vocabulary in (french, english):
        assert all(word.isalpha() and word == word.lower() for word in vocabulary.words)
        assert np.allclose(np.linalg.norm(vocabulary.vectors, axis=1), 1, atol=1e-5)
        assert 4_000 < len(vocabulary.secret_pool) < 8_000
        assert not set(vocabulary.secret_pool) & read_blocklist(vocabulary.words_language)
    assert {"forêt", "été", "maîtrise"} <= set(french.words)  # accents kept
    assert {"forêt", "cheval", "chanter", "rapide"} <= set(french.secret_pool)  # noun, infinitive, adjective
    assert not {"chevaux", "mangeons", "gratuitement", "de"} & set(french.secret_pool)  # inflected, adverb, common
    assert {"forest", "horse", "swim"} <= set(english.secret_pool) and "london" not in english.secret_pool


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_secret_scores_100_degrees_and_1000_permille(lang, french, english):
    vocabulary = french if lang == "fr" else english
    for secret in vocabulary.secret_pool[::997]:
        game = logic.Game(lang, secret, vocabulary)
        result = game.guess(secret.upper())
        assert (result.temperature, result.permille, result.counted, result.found) == (100.0, 1000, True, True)
        assert game.over and game.outcome == logic.FOUND and result.entry.emoji == "🥳"


def test_game_made_with_only_a_language_and_a_secret(french):
    """The issue's interface: Game(lang, secret) finds its vocabulary by itself."""
    game = logic.Game("fr", "forêt")
    result = game.guess("arbre")
    assert result.counted and isinstance(result.temperature, float) and result.permille is not None
    assert game.vocabulary.words == french.words


def test_permille_order_agrees_with_temperature(french):
    game = logic.Game("fr", "forêt", french)
    ranked = [french.words[index] for index in game.ranking.nearest]
    sample = ranked[1::7] + ["voiture", "manger", "bleu", "ordinateur", "de"]
    results = [game.guess(word) for word in sample]
    in_top = [result for result in results if result.permille]
    by_permille = sorted(in_top, key=lambda result: -result.permille)
    temperatures = [result.temperature for result in by_permille]
    assert temperatures == sorted(temperatures, reverse=True)
    coldest_ranked = min(temperatures)
    assert all(result.temperature <= coldest_ranked for result in results if result.permille is None)
    assert game.score(ranked[1])[1] == 999 and game.score(ranked[999])[1] == 1


def test_emoji_scale():
    assert [
        logic.heat_emoji(t, p)
        for t, p in [
            (-3.0, None),
            (20.0, None),
            (40.0, 1),
            (50.0, 899),
            (55.0, 900),
            (60.0, 990),
            (70.0, 999),
            (100.0, 1000),
        ]
    ] == ["🧊", "🥶", "😎", "😎", "🥵", "🔥", "😱", "🥳"]


BAD_INPUTS = [
    ("", logic.EMPTY),
    ("   ", logic.EMPTY),
    ("deux mots", logic.SEVERAL_WORDS),
    ("r2d2", logic.DIGITS),
    ("12", logic.DIGITS),
    ("x" * 10_000, logic.TOO_LONG),
    ("<img src=x onerror=alert(1)>", logic.SEVERAL_WORDS),
    ("<img>", logic.NOT_LETTERS),
    ("🌲", logic.NOT_LETTERS),
    ("arc-en-ciel", logic.NOT_LETTERS),
    ("aujourd'hui", logic.NOT_LETTERS),
    ("xqzwv", logic.UNKNOWN),
    ("mangeassions", logic.UNKNOWN),
]


@pytest.mark.parametrize(("text", "problem"), BAD_INPUTS)
def test_bad_input_does_not_count_and_loses_nothing(french, text, problem):
    game = logic.Game("fr", "forêt", french)
    game.guess("arbre")
    before = (list(game.entries), game.guesses, game.over)
    result = game.guess(text)
    assert (result.counted, result.problem) == (False, problem)
    assert (list(game.entries), game.guesses, game.over) == before


def test_input_is_trimmed_lowercased_and_nfc(french):
    game = logic.Game("fr", "maison", french)
    decomposed = unicodedata.normalize("NFD", " Forêt ")
    assert decomposed != " Forêt "
    first = game.guess(decomposed)
    assert first.counted and first.word == "forêt"
    again = game.guess("FORÊT")
    assert (again.counted, again.problem, again.entry) == (False, logic.REPEATED, first.entry)
    assert game.guesses == 1


def test_an_inflected_word_counts_when_known_and_an_unknown_one_gets_a_suggestion(french):
    game = logic.Game("fr", "maison", french)
    assert game.guess("forêts").counted  # a plural the vocabulary has: a fair guess
    assert game.guess("chevals").suggestion == "cheval"


def test_guesses_after_the_end_do_not_count(french):
    game = logic.Game("fr", "forêt", french)
    game.guess("arbre")
    game.give_up()
    assert game.outcome == logic.GAVE_UP
    result = game.guess("bois")
    assert (result.counted, result.problem) == (False, logic.GAME_OVER)
    assert game.guesses == 1 and game.hint() is None


def test_a_word_typed_as_the_room_ended_is_kept_and_the_game_stays_ended(french):
    game = logic.Game("fr", "forêt", french, room_code="ABCD")
    game.guess("arbre")
    game.end_with_room()
    late = game.guess("bois")  # sent as the lecturer revealed the word
    assert late.counted and late.entry in game.entries and game.guesses == 2
    assert game.outcome == logic.ROOM_ENDED  # neither found nor given up
    assert game.guess("forêt").counted and game.outcome == logic.ROOM_ENDED  # too late to find it
    game.give_up()
    assert game.outcome == logic.ROOM_ENDED and game.hint() is None


def test_hints_come_nearer_and_are_counted(french):
    game = logic.Game("fr", "forêt", french)
    game.guess("voiture")
    best = 0
    for _ in range(8):
        hint = game.hint()
        assert hint is not None and hint.is_hint and hint.word != "forêt"
        assert hint.permille > best and french.is_shown(hint.word)
        best = hint.permille
    assert game.hints == 8 and game.guesses == 1 and not game.over
    nearest = french.words[game.ranking.nearest[1]]
    game.guess(nearest)
    assert game.hint() is None  # nothing is nearer than the nearest word but the secret


def test_daily_word_is_stable_for_a_date_and_changes_the_next_day(french, english):
    for vocabulary in (french, english):
        day = date(2026, 3, 14)
        assert logic.daily_secret(vocabulary, day) == logic.daily_secret(vocabulary, date(2026, 3, 14))
        assert logic.daily_secret(vocabulary, day) != logic.daily_secret(vocabulary, day + timedelta(days=1))
        week = {logic.daily_secret(vocabulary, day + timedelta(days=n)) for n in range(60)}
        assert len(week) == 60 and week <= set(vocabulary.secret_pool)
    assert logic.daily_game(french, date(2026, 3, 14)).puzzle_number == logic.puzzle_number(date(2026, 3, 14))


def test_the_day_changes_at_midnight_in_paris():
    # 21 June: Paris is UTC+2, so its midnight is 22:00 UTC.
    assert logic.puzzle_day(datetime(2026, 6, 21, 21, 59, tzinfo=UTC)) == date(2026, 6, 21)
    assert logic.puzzle_day(datetime(2026, 6, 21, 22, 0, tzinfo=UTC)) == date(2026, 6, 22)
    assert logic.puzzle_number(logic.FIRST_PUZZLE_DAY) == 1


def test_the_end_shows_the_100_nearest_shown_words_and_a_faithful_map(french):
    game = logic.Game("fr", "forêt", french)
    for word in ("arbre", "bois", "voiture"):
        game.guess(word)
    game.give_up()
    nearest = game.nearest()
    assert len(nearest) == 100 and all(french.is_shown(entry.word) for entry in nearest)
    assert [entry.permille for entry in nearest] == sorted((entry.permille for entry in nearest), reverse=True)
    assert "forêt" not in {entry.word for entry in nearest}
    points = game.map_points()
    assert points[0].kind == "secret" and (points[0].x, points[0].y) == (0.0, 0.0)
    secret_vector = french.vectors[french.index["forêt"]]
    for point in points[1:]:
        cosine = float(french.vectors[french.index[point.word]] @ secret_vector)
        assert np.hypot(point.x, point.y) == pytest.approx(1 - cosine, abs=1e-5)
    assert {point.kind for point in points} == {"secret", "guess", "neighbour"}


def test_explorer_operations(french, english):
    assert french.analogy("roi", "homme", "femme", 3)[0][0] == "reine"
    assert english.analogy("king", "man", "woman", 3)[0][0] == "queen"
    assert "forêt" not in [word for word, _ in french.neighbours("forêts", 10, excluded={"forêt"})]
    assert french.similarity("chat", "chien") > french.similarity("chat", "fiscal")


def test_a_random_word_is_never_todays_daily_word(french):
    day = date(2026, 3, 14)
    daily = logic.daily_secret(french, day)
    small = type(french)("fr", list(french.words), french.vectors, [daily, "forêt"], set(), {})
    assert {logic.random_secret(small, day) for _ in range(20)} == {"forêt"}


def test_a_rooms_words_map_around_its_secret(french):
    game = logic.Game("fr", "forêt", french)
    points = logic.map_around(game, {"arbre": "guess", "bois": "guess", "forêt": "guess"})
    assert [(point.word, point.kind) for point in points] == [
        ("forêt", "secret"),
        ("arbre", "guess"),
        ("bois", "guess"),
    ]
    assert points[1].permille == game.score("arbre")[1] and points[1].temperature == game.score("arbre")[0]


ADULT_WORDS = {"fr": ("coquine", "cougar", "milf", "libertine", "xxx", "escort", "porno"), "en": ("porn", "milf")}


@pytest.mark.slow
@pytest.mark.parametrize("words_language", ["fr", "en"])
def test_no_secret_reveals_a_blocked_word(words_language, french, english):
    """Every word of the secret pool, as a game's end reveals it: its 100 nearest words hold no
    blocked word (the adult-spam cluster of the crawled French vectors, crude words...)."""
    vocabulary = french if words_language == "fr" else english
    blocked = read_blocklist(words_language)
    assert set(ADULT_WORDS[words_language]) <= blocked
    assert not set(vocabulary.secret_pool) & blocked
    for secret in vocabulary.secret_pool:
        game = logic.Game(words_language, secret, vocabulary)
        shown = {entry.word for entry in game.nearest()}
        assert len(shown) == logic.NEAREST_SHOWN and not shown & blocked, (secret, sorted(shown & blocked))


def test_everyday_words_meet_no_adult_word(french):
    """What the issue saw: the nearest words of animals, photos, meetings held adult-chat words.
    They are still in the vectors (the raw neighbours of « chat » hold « coquine »), not in any list."""
    blocked = read_blocklist("fr")
    raw = french.vectors @ french.vectors[french.index["chat"]]
    assert {"coquine", "webcam"} <= {french.words[position] for position in np.argsort(-raw)[:100]}
    for word in ("chat", "photo", "rencontre", "animaux", "amateur", "mamie", "blonde", "massage"):
        neighbours = {neighbour for neighbour, _ in french.neighbours(word, 100)}
        assert len(neighbours) == 100 and not neighbours & blocked, (word, sorted(neighbours & blocked))
