"""What the Cémantix tab shows, rendered without Gradio: the map's labels never overlap, the
board shows no word before the end, every typed text is escaped."""

import math
import random
import re
import subprocess
import sys
from html import unescape

import pytest
from hub_server import REPO

from spaces.cemantix import logic, map_labels, render
from spaces.cemantix.rooms import Board, BoardRow
from spaces.cemantix.texts import TEXTS


def test_the_renderers_need_no_gradio():
    code = "import sys, spaces.cemantix.render; assert 'gradio' not in sys.modules, 'gradio imported'"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


def random_dots(rng: random.Random, size: float) -> list[map_labels.Dot]:
    crowd = rng.choice([(size / 2, size / 2), (size / 5, size * 4 / 5)])  # guesses spread, or piled in one corner
    return [
        map_labels.Dot(
            "".join(rng.choices("abcdefghijklmnopqrstuvwxyzéè", k=rng.randint(2, 14))),
            min(size - 5, max(5, rng.gauss(crowd[0], size / 5))),
            min(size - 5, max(5, rng.gauss(crowd[1], size / 5))),
            rng.choice([2.6, 5.0, 7.0]),
            bold=number == 0,
        )
        for number in range(rng.randint(1, 30))
    ]


@pytest.mark.parametrize("seed", range(60))
def test_labels_stay_near_their_dots_over_no_label_nor_dot_and_inside(seed):
    rng = random.Random(seed)
    size, font, anywhere = rng.choice([(300.0, 14.0, False), (460.0, 19.0, True)])
    dots = random_dots(rng, size)
    obstacles = [dot.box for dot in dots]
    labels = map_labels.place_labels(dots, size, font, obstacles, anywhere)
    if anywhere:
        assert len(labels) == len(dots)  # every word named
    else:
        assert labels  # the words with room around their dots (the others on tap)
    placed = list(labels.items())
    for number, (dot, label) in enumerate(placed):
        assert label.box.inside(size) and label.text == dots[dot].text
        assert not any(label.box.overlaps(other.box) for _, other in placed[number + 1 :])
        assert not any(label.box.overlaps(box) for box in obstacles)
        if label.leader is None:  # next to its dot: its box's nearest point a few units from the dot's edge
            nearest_x = min(max(dots[dot].x, label.box.left), label.box.right)
            nearest_y = min(max(dots[dot].y, label.box.top), label.box.bottom)
            assert math.hypot(nearest_x - dots[dot].x, nearest_y - dots[dot].y) <= dots[dot].radius + 3.5
        else:  # a line from the dot's edge to the box
            x1, y1, x2, y2 = label.leader
            assert math.hypot(x1 - dots[dot].x, y1 - dots[dot].y) == pytest.approx(dots[dot].radius + 1)
            assert label.box.left <= x2 <= label.box.right and label.box.top <= y2 <= label.box.bottom


@pytest.mark.parametrize("seed", range(20))
def test_ring_labels_sit_on_their_rings_over_no_dot_and_inside(seed):
    rng = random.Random(seed)
    size, font = 300.0, 14.0
    dots = random_dots(rng, size)
    rings = [(f"{temperature} °C", (1 - temperature / 100) * (size / 2 - 21)) for temperature in (75, 50, 25, 0)]
    labels = map_labels.place_ring_labels(rings, size / 2, size, font, [dot.box for dot in dots])
    placed = [label for label in labels if label is not None]
    assert len(placed) >= 3
    for number, label in enumerate(placed):
        assert label.box.inside(size) and not any(label.box.overlaps(dot.box) for dot in dots)
        assert not any(label.box.overlaps(other.box) for other in placed[number + 1 :])
    for (_, radius), label in zip(rings, labels, strict=True):
        if label is not None:  # on its ring, or just inside or outside it
            centre_x, centre_y = (label.box.left + label.box.right) / 2, (label.box.top + label.box.bottom) / 2
            away = abs(math.hypot(centre_x - size / 2, centre_y - size / 2) - radius)
            assert away <= map_labels.RING_LABEL_OFFSET * font * map_labels.LINE_HEIGHT + 1e-6


@pytest.mark.parametrize("seed", range(8))
def test_the_boards_map_names_every_word_of_the_room_and_every_ring(french, seed):
    rng = random.Random(seed)
    game = logic.Game("fr", rng.choice(french.secret_pool), french)
    tried = [word for word in rng.sample(french.secret_pool[:3000], 30) if word != game.secret]
    svg = render.map_svg(
        logic.map_around(game, dict.fromkeys(tried, "guess")), render.BOARD_MAP, language="fr", name="La carte"
    )
    assert set(re.findall(r'<text class="cx-label"[^>]*>([^<]+)</text>', svg)) == {game.secret, *tried}
    rings = re.findall(r'<text class="cx-ring"[^>]*>([^<]+)</text>', svg)
    assert len(rings) == svg.count('class="cx-ring-line"') >= 3, rings  # every ring drawn says its temperature


@pytest.fixture(scope="module")
def ended_game(french):
    game = logic.Game("fr", "forêt", french)
    for word in ("arbre", "bois", "voiture", "rivière", "montagne", "chêne", "sapin", "feuille", "route"):
        game.guess(word)
    game.hint()
    game.give_up()
    return game


def test_the_map_labels_the_secret_and_the_guesses_that_fit(ended_game):
    svg = render.map_svg(ended_game.map_points(), render.PHONE_MAP, latest="route", language="fr", name="La carte")
    labels = re.findall(r'<text class="cx-label"[^>]*>([^<]+)</text>', svg)
    tips = re.findall(r'<text class="cx-tip"[^>]*>([^<]+)</text>', svg)
    guessed = {entry.word for entry in ended_game.entries}
    assert "forêt" in labels and "route" in labels and len(labels) >= 6
    assert set(labels) | set(tips) >= guessed  # every guess: a label, or its word on tap
    assert not set(labels) & set(tips)
    assert len(tips) >= 100 - len(guessed & {entry.word for entry in ended_game.nearest()})  # the grey dots too
    assert f'font-size="{render.PHONE_MAP.font:g}"' in svg and 'viewBox="0 0 300 300"' in svg


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_map_says_in_words_what_it_shows_and_its_dots_are_no_tab_stops(ended_game, language):
    """RGAA 1.1/1.3: a screen reader hears the map's name, the secret, the 5 nearest words with
    their °C and every other guess; an unlabelled dot takes a tap's focus but is no tab stop (an
    ended map would add 100)."""
    reveal = render.reveal_html(ended_game, language)
    svg = re.search(r'<svg class="cx-map".*?</svg>', reveal).group(0)
    assert 'role="img"' in svg and svg.count('class="cx-dot" tabindex="-1"') == svg.count('class="cx-dot"') > 0
    assert 'tabindex="0"' not in svg
    assert unescape(re.search(r"<title>([^<]+)</title>", svg).group(1)) == TEXTS.get("cemantix_map_heading", language)
    description = unescape(re.search(r"<desc>([^<]+)</desc>", svg).group(1))
    by_warmth = sorted((entry for entry in ended_game.entries), key=lambda entry: -entry.temperature)
    nearest = ", ".join(
        f"{entry.word} ({render.format_temperature(entry.temperature, language)})" for entry in by_warmth[:5]
    )
    assert TEXTS.get("cemantix_map_summary_secret", language, word="forêt") in description
    assert TEXTS.get("cemantix_map_summary_nearest", language, words=nearest) in description
    assert all(entry.word in description for entry in by_warmth[5:])


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("fr", "3 joueurs ; en tête : Chloé (trouvé), Bob (41,20 °C), Alice (12,50 °C)."),
        ("en", "3 players; in the lead: Chloé (found), Bob (41.20 °C), Alice (12.50 °C)."),
    ],
)
def test_the_progress_chart_names_the_leaders_and_their_best(language, said):
    rows = (row(1, "Chloé", 100.0, 1000, 42.0, 7), row(2, "Bob", 41.2, 950), row(3, "Alice", 12.5))
    svg = render.progress_svg(rows, language)
    assert unescape(re.search(r"<title>([^<]+)</title>", svg).group(1)) == TEXTS.get(
        "cemantix_board_progress", language
    )
    assert unescape(re.search(r"<desc>([^<]+)</desc>", svg).group(1)) == said
    assert TEXTS.get("cemantix_board_empty", language) in render.progress_svg((), language)


def test_nothing_of_the_game_is_revealed_before_the_end(french):
    game = logic.Game("fr", "forêt", french)
    game.guess("arbre")
    assert render.reveal_html(game, "fr") == ""
    assert "forêt" not in render.history_html(game, "fr") + render.header_html(game, "fr")
    assert "secret" not in render.game_state(game)
    game.give_up()
    reveal = render.reveal_html(game, "fr")
    assert "Le mot était <b>forêt</b>" in reveal and "<details>" in reveal  # the 100 nearest, folded
    assert render.game_state(game)["secret"] == "forêt"


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_game_its_room_ended_says_so_and_not_abandon(french, language):
    game = logic.Game("fr", "forêt", french, room_code="AB23")
    game.guess("arbre")
    game.end_with_room()
    reveal, share = render.reveal_html(game, language), render.share_text(game, language)
    said = {
        "fr": "La partie est terminée : le mot était <b>forêt</b>",
        "en": "The game is over: the word was <b>forêt</b>",
    }
    assert said[language] in reveal
    assert {"fr": "partie terminée après 1 coup", "en": "game over after 1 guess"}[language] in share
    assert "abandon" not in share and "gave up" not in share and "🏳" not in share
    assert render.end_message(game, language) == TEXTS.get("cemantix_room_ended", language, code="AB23")


def row(place, nickname, best=None, permille=None, found_after=None, guesses=5):
    return BoardRow(place, nickname, guesses, 0, best, permille, found_after, False)


def board(rows, ended=False, tried=()):
    found = sum(row.found_after is not None for row in rows)
    return Board("AB23", "fr", None, len(rows), found, tuple(rows), ended, "forêt" if ended else None, tried)


def test_the_board_during_the_game_shows_players_and_progress_but_no_word():
    rows = [row(1, "Chloé", 100.0, 1000, 42.0, 7), row(2, "<b>Bob</b>", 41.2, 950), row(3, "Alice", 12.5)]
    rows += [row(place, f"P{place}", 10.0 + place) for place in range(4, 101)]
    html = render.board_html(board(rows), "fr", "http://10.0.0.2:7860/?tab=cemantix&room=AB23", "<svg>QR</svg>")
    assert "100 joueurs" in html and "1 a trouvé" in html and "<svg>QR</svg>" in html
    assert "http://10.0.0.2:7860/?tab=cemantix&amp;room=AB23" in html and 'class="cx-code">AB23<' in html
    assert "&lt;b&gt;Bob&lt;/b&gt;" in html and "<b>Bob</b>" not in html
    assert "🥳 trouvé" in html and "950\u202f‰" in html and "et 92 autres…" in html
    assert len(re.findall(r"<tr><td", html)) == render.BOARD_RANKS_SHOWN
    assert html.count("<circle") == 100  # one dot per player in the progress picture
    assert "forêt" not in html


def test_the_progress_chart_takes_the_height_that_few_players_leave():
    def height(players: int) -> float:
        svg = render.progress_svg(tuple(row(place, f"P{place}", 10.0 + place) for place in range(1, players + 1)), "fr")
        return float(re.search(r'viewBox="0 0 640 ([\d.]+)"', svg).group(1))

    assert height(3) - height(render.BOARD_RANKS_SHOWN) == 5 * render.STRIP_HEIGHT_PER_MISSING_ROW
    assert height(100) == height(render.BOARD_RANKS_SHOWN) == render.STRIP_HEIGHT


def test_the_board_at_the_end_shows_the_word_the_final_ranking_and_the_rooms_words():
    rows = [row(1, "Chloé", 100.0, 1000, 125.0, 7), row(2, "Bob", 41.2, 950)]
    rows += [row(place, f"P{place}", 10.0 + place) for place in range(3, 12)]
    tried = [("arbre", 2, 30.0, 900), ("bois", 1, 45.0, 990)]
    html = render.board_html(board(rows, ended=True), "fr", None, tried=tried, room_map_svg="<svg>MAP</svg>")
    assert "Le mot était <b>forêt</b>" in html and "Classement final" in html
    ranking = re.findall(r"<tr><td[^>]*>(\d+)</td><td[^>]*>([^<]+)</td><td>([^<]*)</td><td>(\d+)</td>", html)
    assert ranking[:2] == [("1", "Chloé", "🥳 trouvé · 2:05", "7"), ("2", "Bob", "🥵 950\u202f‰", "5")]
    assert len(ranking) == render.BOARD_FINAL_RANKS_SHOWN and "et 6 autres…" in html
    assert re.findall(r">(\w+)</span>", re.search(r'class="cx-cloud">(.*?)</div>', html).group(1)) == ["arbre", "bois"]
    assert "<svg>MAP</svg>" in html and "Scannez" not in html


def test_a_big_cloud_is_scaled_down_to_fit_the_board():
    def cloud(count: int, length: int) -> list[tuple[str, float]]:
        tried = [(f"{chr(97 + n % 26)}{'x' * length}{n}", 1 + n % 4, 20.0, None) for n in range(count)]
        html = render.tried_words_html(tried, "fr")
        return [(word, float(size)) for size, word in re.findall(r"font-size:([\d.]+)em[^>]*>(\w+)<", html)]

    few, many = cloud(3, 4), cloud(30, 10)
    assert max(size for _, size in few) == pytest.approx(2.0)  # few words: as big as allowed
    assert max(size for _, size in many) < 1.2 and len(many) == 30
    area = sum((len(word) * map_labels.GLYPH_WIDTH + 0.4) * render.CLOUD_LINE_HEIGHT * size**2 for word, size in many)
    assert area <= 0.71 * render.CLOUD_AREA_EM2


def test_the_host_panel_has_the_boards_qr_code_and_the_remedy_only_when_given():
    panel = render.host_panel_html("AB23", "fr", "en", None, "http://10.0.0.2/?tab=cemantix&room=AB23", "<svg>QR</svg>")
    assert "un mot au hasard, en anglais" in panel and "<svg>QR</svg>" in panel and "?board=AB23" in panel
    loopback = render.host_panel_html("AB23", "en", "fr", 700, None, remedy="restart with IAGEN_PROFILE=lecture")
    assert "word of the day #700, in French" in loopback and "IAGEN_PROFILE=lecture" in loopback
    assert "IAGEN_PROFILE" not in render.host_panel_html("AB23", "fr", "fr", None, None)
