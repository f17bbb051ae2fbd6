"""What the Cémantix tab shows, rendered without Gradio: the map's labels never overlap, the
board shows no word before the end, every typed text is escaped."""

import random
import re
import subprocess
import sys

import pytest
from hub_server import REPO

from spaces.cemantix import logic, render
from spaces.cemantix.rooms import Board, BoardRow


def test_the_renderers_need_no_gradio():
    code = "import sys, spaces.cemantix.render; assert 'gradio' not in sys.modules, 'gradio imported'"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


@pytest.mark.parametrize("seed", range(40))
def test_labels_never_overlap_each_other_nor_other_dots_and_stay_inside(seed):
    rng = random.Random(seed)
    size, font = 300.0, 14.0
    crowd = rng.choice([(150, 150), (60, 240)])  # guesses spread, or piled in one corner
    dots = [
        (
            "".join(rng.choices("abcdefghijklmnopqrstuvwxyzéè", k=rng.randint(2, 12))),
            min(size - 5, max(5, rng.gauss(crowd[0], 60))),
            min(size - 5, max(5, rng.gauss(crowd[1], 60))),
            5.0,
        )
        for _ in range(rng.randint(1, 30))
    ]
    obstacles = [render.Box(x - r, y - r, x + r, y + r) for _, x, y, r in dots]
    labels = render.place_labels(dots, size, font, obstacles)
    assert labels  # the first dot with room (the first dot, on an empty map) gets one
    boxes = list(labels.items())
    for number, (dot, label) in enumerate(boxes):
        assert label.box.inside(size) and label.text == dots[dot][0]
        assert not any(label.box.overlaps(other.box) for _, other in boxes[number + 1 :])
        assert not any(label.box.overlaps(box) for other, box in enumerate(obstacles) if other != dot)


@pytest.fixture(scope="module")
def ended_game(french):
    game = logic.Game("fr", "forêt", french)
    for word in ("arbre", "bois", "voiture", "rivière", "montagne", "chêne", "sapin", "feuille", "route"):
        game.guess(word)
    game.hint()
    game.give_up()
    return game


def test_the_map_labels_the_secret_and_the_guesses_that_fit(ended_game):
    svg = render.map_svg(ended_game.map_points(), render.PHONE_MAP, latest="route")
    labels = re.findall(r'<text class="cx-label"[^>]*>([^<]+)</text>', svg)
    tips = re.findall(r'<text class="cx-tip"[^>]*>([^<]+)</text>', svg)
    guessed = {entry.word for entry in ended_game.entries}
    assert "forêt" in labels and "route" in labels and len(labels) >= 6
    assert set(labels) | set(tips) >= guessed  # every guess: a label, or its word on tap
    assert not set(labels) & set(tips)
    assert len(tips) >= 100 - len(guessed & {entry.word for entry in ended_game.nearest()})  # the grey dots too
    assert f'font-size="{render.PHONE_MAP.font:g}"' in svg and 'viewBox="0 0 300 300"' in svg


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
    area = sum((len(word) * render.GLYPH_WIDTH + 0.4) * render.CLOUD_LINE_HEIGHT * size**2 for word, size in many)
    assert area <= 0.71 * render.CLOUD_AREA_EM2


def test_the_host_panel_has_the_boards_qr_code_and_the_remedy_only_when_given():
    panel = render.host_panel_html("AB23", "fr", "en", None, "http://10.0.0.2/?tab=cemantix&room=AB23", "<svg>QR</svg>")
    assert "un mot au hasard, en anglais" in panel and "<svg>QR</svg>" in panel and "?board=AB23" in panel
    loopback = render.host_panel_html("AB23", "en", "fr", 700, None, remedy="restart with IAGEN_PROFILE=lecture")
    assert "word of the day #700, in French" in loopback and "IAGEN_PROFILE=lecture" in loopback
    assert "IAGEN_PROFILE" not in render.host_panel_html("AB23", "fr", "fr", None, None)
