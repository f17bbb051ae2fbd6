"""Cémantix in a real browser: a lecture room from the host's page to the projector's board and
three phones joining by its QR link, a phone reloading mid-game, the secret in no answer a
player's page gets before the end, and a game played on a phone in French and in English.

The hub is served in this process with its public address set to itself, as a lecture hall's
hub would be (`--public-url`), so the board's QR link is one the phones here can open, and so
the test can choose the room's word (one that no text of the page holds: finding it in an answer
can only mean a leak). Screenshots land in artifacts/screenshots/ (the board at each stage).
"""

from __future__ import annotations

import json
import os
import re
from contextlib import contextmanager

import pytest
from browser_fixtures import PHONE, PROJECTOR, SCREENSHOTS, expect, settle
from hub_server import free_port

from shared.hub_ui import qr_code_svg
from shared.settings import load_settings
from spaces.cemantix import logic
from spaces.cemantix.texts import TEXTS

FULL_HD = {"width": 1920, "height": 1080}
WORD_BOX = "#cemantix-word input, #cemantix-word textarea"
# Every answer a page gets from the server, chunk by chunk as it arrives (fetch bodies, including
# the event streams of Gradio's queue), handed to Python at once: a reload loses nothing.
RECORD_ANSWERS_JS = """(() => {
  const record = (url, text) => { try { window.cemantixRecord(String(url), text); } catch (error) {} };
  const fetch = window.fetch;
  window.fetch = async (...args) => {
    const response = await fetch(...args);
    const url = args[0] && args[0].url ? args[0].url : args[0];
    const copy = response.clone();
    if (copy.body) {
      const reader = copy.body.getReader(), decoder = new TextDecoder();
      (async () => {
        for (;;) {
          const {done, value} = await reader.read();
          if (done) break;
          record(url, decoder.decode(value, {stream: true}));
        }
      })().catch(() => {});
    }
    return response;
  };
  const EventSource = window.EventSource;
  window.EventSource = function (url, options) {
    const source = new EventSource(url, options);
    source.addEventListener("message", (event) => record(url, event.data));
    return source;
  };
})();"""


@contextmanager
def serving(**environ: str):
    """The hub (Cémantix and À propos) in this process, its public address itself."""
    import app

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    flags = ["--port", str(port), "--public-url", url, "--demos", "cemantix"]
    server, _, _ = app.launch(load_settings(flags, {**os.environ, **environ}), prevent_thread_lock=True)
    try:
        yield url
    finally:
        server.get_blocks().close()


def quiet_word(vocabulary) -> str:
    """A secret of the pool that none of the tab's texts holds, in either language."""
    texts = " ".join(" ".join(values.values()) for values in TEXTS.by_language.values()).lower()
    candidates = ("parapluie", "tortue", "boulanger", "citron", *vocabulary.secret_pool)
    return next(word for word in candidates if word in vocabulary.secret_pool and not re.search(rf"\b{word}\b", texts))


@pytest.fixture(scope="module")
def room_secret(french) -> str:
    return quiet_word(french)


@pytest.fixture(scope="module")
def hub_url(browser, french, english, room_secret):  # after `browser`: no hub when the browser tests are skipped
    with pytest.MonkeyPatch.context() as patch:
        random_secret = logic.random_secret
        patch.setattr(
            logic,
            "random_secret",
            lambda words, day=None: room_secret if words.words_language == "fr" else random_secret(words, day),
        )
        # The daily game's word changes every day, and with it how many labels its map can fit:
        # the tests play fixed ones, other than the room's.
        daily = {"fr": "tortue" if room_secret != "tortue" else "citron", "en": "umbrella"}
        assert daily["fr"] in french.secret_pool and daily["en"] in english.secret_pool
        patch.setattr(logic, "daily_secret", lambda words, day: daily[words.words_language])
        with serving() as url:
            yield url


class Answers:
    """What a page received from the server, in order (see RECORD_ANSWERS_JS)."""

    def __init__(self, page):
        self.chunks: list[tuple[str, str]] = []
        page.expose_function("cemantixRecord", lambda url, text: self.chunks.append((url, text)))
        page.add_init_script(RECORD_ANSWERS_JS)
        page.on("response", self.on_document)

    def on_document(self, response) -> None:
        if response.request.resource_type == "document":
            self.chunks.append((response.url, response.text()))

    def text(self) -> str:
        return "\n".join(text for _, text in self.chunks)


def assert_absent(secret: str, text: str) -> None:
    match = re.search(rf"(?<!\w){re.escape(secret)}(?!\w)", text)
    assert match is None, (
        f"the secret {secret!r} reached the page: …{text[max(0, match.start() - 200) : match.end() + 50]}…"
    )


def qr_modules(svg) -> str:
    """The dark modules of a QR code drawn in the page (qrcode's SVG is one path)."""
    return svg.locator("path").get_attribute("d")


def qr_modules_of(url: str) -> str:
    """The dark modules of the QR code of `url`: the page's code encodes `url` when they match."""
    return re.search(r'<path d="([^"]+)"', qr_code_svg(url, "fr")).group(1)


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def guess(page, word: str) -> None:
    box = page.locator(WORD_BOX).first
    box.fill(word)
    box.press("Enter")
    expect(page.locator("#cemantix-history")).to_contain_text(word)


def open_board(pages, hub_url: str, code: str, screen: dict, locale: str = "fr-FR"):
    """The board of room `code` on a projector. The board hides the hub's tabs, which
    `pages.open` waits for: it opens the hub first, then the board."""
    page = pages.open("?tab=about", screen=screen, locale=locale)
    page.goto(f"{hub_url}?tab=cemantix&board={code}")
    page.locator("#cemantix-board .cx-board").wait_for()
    return page


def open_recorded(pages, query: str, **options):
    """A page whose every answer is recorded, from its first load on."""
    recorders = []
    page = pages.open(query, before_load=lambda page: recorders.append(Answers(page)), **options)
    return page, recorders[0]


def open_join_link(pages, hub_url: str, link: str, locale: str = "fr-FR"):
    """A phone scanning a room's QR code: Cémantix's page of its own, every answer recorded.
    `pages.open` waits for the whole hub's tabs: it opens the hub first, then the link."""
    phone, answers = open_recorded(pages, "?tab=about", locale=locale)
    answers.chunks.clear()
    phone.goto(link)
    return phone, answers


def test_a_lecture_room_from_the_board_to_the_reveal(pages, hub_url, room_secret):
    # The lecturer creates a room on a laptop: a random word (the default), its QR code and link.
    host = pages.open("?tab=cemantix", screen=PROJECTOR)
    host.locator("#cemantix-room-button").click()
    host.locator("#cemantix-create-room").click()
    expect(host.get_by_label(TEXTS.get("cemantix_room_mode_random", "fr"))).to_be_checked()
    host.locator("#cemantix-create").click()
    code = host.locator("#cemantix-host-panel .cx-code").inner_text()
    link = f"{hub_url}cemantix/?room={code}"  # the demo's page of its own
    expect(host.locator("#cemantix-host-panel .cx-host-address")).to_have_text(link)
    assert qr_modules(host.locator("#cemantix-host-panel .cx-host-qr svg")) == qr_modules_of(link)
    # A screen reader hears where it leads (RGAA 1.1).
    expect(host.locator("#cemantix-host-panel .cx-host-qr svg")).to_have_accessible_name(f"QR code vers {link}")
    screenshot(host, "cemantix-host-panel")
    host.reload()  # the lecturer's page too finds its room again
    expect(host.locator("#cemantix-host-panel .cx-code")).to_have_text(code)
    expect(host.locator("#cemantix-end-room")).to_be_visible()

    # The board on the projector: a big QR code of the join link, the address, the code.
    board = open_board(pages, hub_url, code, PROJECTOR)
    expect(board.locator("#cemantix-board .cx-board-address")).to_have_text(link)
    qr = board.locator("#cemantix-board .cx-board-qr svg")
    assert qr_modules(qr) == qr_modules_of(link)
    assert qr.bounding_box()["height"] >= 300, "the QR code must be scannable from the back of a hall"
    assert_readable_board(board)
    screenshot(board, "cemantix-board-1-waiting")

    # Three phones scan it: the room tab opens with the code filled in.
    phones = []
    for nickname in ("Alice", "Bob", "Chloé"):
        phone, answers = open_join_link(pages, hub_url, link)
        expect(phone.locator("#cemantix-room-code input, #cemantix-room-code textarea").first).to_have_value(code)
        phone.locator("#cemantix-nickname input, #cemantix-nickname textarea").first.fill(nickname)
        phone.locator("#cemantix-join").click()
        expect(phone.locator("#cemantix-header")).to_contain_text(f"salle {code}")
        phones.append((phone, answers))
    expect(board.locator("#cemantix-board .cx-board-counts")).to_contain_text("3 joueurs", timeout=3_000)
    screenshot(board, "cemantix-board-2-joined")

    words = {"Alice": ["arbre", "maison", "soleil"], "Bob": ["voiture", "rivière"], "Chloé": ["montagne", "chat"]}
    for (phone, _), nickname in zip(phones, words, strict=True):
        for word in words[nickname]:
            guess(phone, word)
    # Within 3 s every guess shows on the board, with no word.
    ranking = board.locator("#cemantix-board .cx-ranking")
    expect(ranking).to_contain_text("Alice", timeout=3_000)
    expect(ranking.locator("tr", has_text="Alice")).to_contain_text("3", timeout=3_000)
    expect(board.locator("#cemantix-board .cx-progress circle")).to_have_count(3, timeout=3_000)
    assert not any(word in board.locator("#cemantix-board").inner_text() for word in sum(words.values(), []))
    assert_board_for_the_back_of_the_room(board, few_players=True)
    screenshot(board, "cemantix-board-3-playing")

    # Bob's phone reloads mid-game (a locked screen, a switched app): the same game goes on.
    bob, bob_answers = phones[1]
    bob.reload()
    expect(bob.locator("#cemantix-header")).to_contain_text(f"salle {code}")
    expect(bob.locator("#cemantix-header")).to_contain_text("2 coups")
    expect(bob.locator("#cemantix-history")).to_contain_text("rivière")
    expect(bob.locator("#cemantix-status")).to_contain_text("Partie reprise")
    guess(bob, "forêt")
    expect(bob.locator("#cemantix-header")).to_contain_text("3 coups")
    expect(ranking.locator("tr", has_text="Bob")).to_contain_text("3", timeout=3_000)
    expect(board.locator("#cemantix-board .cx-board-counts")).to_contain_text("3 joueurs")

    # Before the end, no answer any phone got holds the word (the first loads, the reload included).
    for phone, answers in phones:
        shown = answers.text()
        assert "arbre" in shown or "voiture" in shown or "montagne" in shown, "the recorder saw no answer"
        assert_absent(room_secret, shown)
        assert_absent(room_secret, phone.content())
    assert_absent(room_secret, board.content())

    # The lecturer ends the room: the board shows the word, who found it, the room's words, their map.
    guess(phones[2][0], room_secret)  # Chloé finds it, in 3 guesses
    expect(board.locator("#cemantix-board .cx-board-counts")).to_contain_text("1 a trouvé", timeout=3_000)
    screenshot(board, "cemantix-board-4-found")
    board_full_hd = open_board(pages, hub_url, code, FULL_HD)
    expect(board_full_hd.locator("#cemantix-board .cx-ranking")).to_contain_text("Chloé")
    assert_readable_board(board_full_hd)
    screenshot(board_full_hd, "cemantix-board-1080p")
    host.locator("#cemantix-end-room").click()
    expect(host.locator("#cemantix-end-room")).to_be_hidden()  # nothing left to end
    ended = board.locator("#cemantix-board .cx-board-ended")
    expect(ended.locator(".cx-secret")).to_have_text(f"Le mot était {room_secret}", timeout=3_000)
    expect(ended.locator(".cx-ranking tr").nth(1)).to_contain_text("Chloé")  # the final ranking, its winner first
    expect(ended.locator(".cx-ranking")).to_contain_text("🥳 trouvé")
    expect(ended.locator(".cx-cloud")).to_contain_text("arbre")
    expect(ended.locator("svg.cx-map .cx-label").first).to_be_visible()
    assert_labels_apart(board, "#cemantix-board svg.cx-map", minimum_px=18)
    assert_every_listed_word_on_a_clear_map(board)
    assert_readable_board(board)
    assert_board_for_the_back_of_the_room(board)
    screenshot(board, "cemantix-board-5-ended")
    # Alice and Bob type nothing: their phones show the end all the same, within a watch's tick
    # (10 s), in the room's words, not « abandon ».
    for phone, _ in phones[:2]:
        expect(phone.locator("#cemantix-reveal .cx-secret")).to_have_text(
            f"La partie est terminée : le mot était {room_secret}", timeout=12_000
        )
        expect(phone.locator("#cemantix-status")).to_contain_text(f"La salle {code} est terminée")
        expect(phone.locator("#cemantix-share textarea")).not_to_have_value(re.compile("abandon"))
        expect(phone.locator("#cemantix-play-again")).to_be_visible()
    bob.locator("#cemantix-reveal svg.cx-map").scroll_into_view_if_needed()
    assert_map_labels_clear(bob, "#cemantix-reveal svg.cx-map")
    screenshot_full(bob, "cemantix-room-end-fr")
    for page in (host, board, *(phone for phone, _ in phones)):
        pages.assert_healthy(page)


def test_an_english_room_ends_on_every_screen(pages, hub_url):
    """A room of English words on English pages: a phone typing nothing sees the end within a
    watch's tick; the board reads from the back of the hall, then names every word at the end."""
    from gradio_client import Client

    english = {"Accept-Language": "en-GB,en;q=0.9"}
    host = Client(hub_url, verbose=False, headers=english)
    code = re.search(r'class="cx-code">(\w+)<', host.predict("en", "random", api_name="/cemantix_create_room")).group(1)
    for nickname, words in (("Ada", ["river", "mountain", "house"]), ("Ben", ["tree", "car"])):
        player = Client(hub_url, verbose=False, headers=english)
        player.predict(code, nickname, api_name="/cemantix_join_room")
        for word in words:
            player.predict(word, api_name="/cemantix_guess")
    phone, _ = open_join_link(pages, hub_url, f"{hub_url}cemantix/?room={code}", locale="en-US")
    phone.locator("#cemantix-nickname input, #cemantix-nickname textarea").first.fill("Cleo")
    phone.locator("#cemantix-join").click()
    expect(phone.locator("#cemantix-header")).to_contain_text(f"room {code}")
    for word in ("garden", "flower", "water"):
        guess(phone, word)
    board = open_board(pages, hub_url, code, PROJECTOR, locale="en-US")
    expect(board.locator("#cemantix-board .cx-board-counts")).to_contain_text("3 players")
    assert_readable_board(board)
    assert_board_for_the_back_of_the_room(board, few_players=True)
    screenshot(board, "cemantix-board-en-playing")

    host.predict(api_name="/cemantix_end_room")
    expect(phone.locator("#cemantix-reveal .cx-secret")).to_contain_text(
        "The game is over: the word was", timeout=12_000
    )
    expect(phone.locator("#cemantix-share textarea")).not_to_have_value(re.compile("gave up"))
    phone.locator("#cemantix-reveal svg.cx-map").scroll_into_view_if_needed()
    assert_map_labels_clear(phone, "#cemantix-reveal svg.cx-map")
    screenshot_full(phone, "cemantix-room-end-en")
    expect(board.locator("#cemantix-board .cx-board-ended")).to_be_visible(timeout=3_000)
    assert_every_listed_word_on_a_clear_map(board)
    assert_readable_board(board)
    assert_board_for_the_back_of_the_room(board)
    screenshot(board, "cemantix-board-en-ended")
    for page in (phone, board):
        pages.assert_healthy(page)


# The board's headings, its table's headers and its chart's axis, measured as drawn: their size
# on screen and their contrast (WCAG's, the text's colour blended by every opacity over the
# background it sits on).
BOARD_HEADERS_JS = """() => {
  const rgba = (text) => text.match(/[\\d.]+/g).map(Number);
  const luminance = (rgb) => rgb.map((v) => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
      .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = (element) => {
    for (let e = element; e; e = e.parentElement) {
      const colour = rgba(getComputedStyle(e).backgroundColor);
      if ((colour[3] ?? 1) > 0) return colour.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const opacity = (element) => {
    let product = 1;
    for (let e = element; e; e = e.parentElement) product *= parseFloat(getComputedStyle(e).opacity);
    return product;
  };
  const selector = "#cemantix-board h3, #cemantix-board th, #cemantix-board svg.cx-progress text";
  return [...document.querySelectorAll(selector)].filter((e) => e.checkVisibility() && e.textContent.trim())
    .map((e) => {
      const style = getComputedStyle(e), svg = e.closest("svg");
      const colour = rgba(svg ? style.fill : style.color);
      const alpha = opacity(e) * (colour[3] ?? 1) * (svg ? parseFloat(style.fillOpacity) : 1);
      const behind = background(e);
      const shown = colour.slice(0, 3).map((v, i) => v * alpha + behind[i] * (1 - alpha));
      const [light, dark] = [luminance(shown), luminance(behind)].sort((a, b) => b - a);
      const size = parseFloat(style.fontSize) * (svg ? svg.getScreenCTM().a : 1);
      return {text: e.textContent.trim(), size, contrast: (light + 0.05) / (dark + 0.05)};
    });
}"""


def assert_board_for_the_back_of_the_room(board, few_players: bool = False) -> None:
    """Readable at 10 m on a 1280 × 720 projector: headings, headers and the °C axis ~24 px and
    more, at 4.5:1 and more; with few players, the progress and the ranking still fill the screen."""
    height = board.viewport_size["height"]
    measured = board.evaluate(BOARD_HEADERS_JS)
    assert len(measured) >= 3, measured
    for text in measured:
        assert text["size"] >= 23.5 * height / 720, f"{text['text']!r}: {text['size']:.1f} px"
        assert text["contrast"] >= 4.5, f"{text['text']!r}: contrast {text['contrast']:.2f}:1"
    if few_players:
        column = board.locator("#cemantix-board .cx-board-body > .cx-board-column").last.bounding_box()
        assert column["y"] + column["height"] >= 0.85 * height, f"the lower part is empty: {column}"
    wrapped = board.locator("#cemantix-board .cx-ranking td").evaluate_all(
        """cells => cells.filter(c => c.getBoundingClientRect().height > 1.8 * parseFloat(getComputedStyle(c).fontSize))
            .map(c => c.textContent)"""
    )
    assert not wrapped, f"ranking cells on two lines: {wrapped}"
    cloud = board.locator("#cemantix-board .cx-cloud span")
    if cloud.count():  # the ended board: its word cloud on the screen, under the ranking
        assert cloud.first.bounding_box()["y"] + cloud.first.bounding_box()["height"] <= height, "the cloud is cut off"


def assert_readable_board(board) -> None:
    """The whole board on one screen, its smallest text big enough for the back of a hall."""
    height = board.viewport_size["height"]
    assert board.evaluate("document.scrollingElement.scrollHeight") <= height + 2, "the board scrolls"
    smallest = board.evaluate(
        """() => Math.min(...[...document.querySelectorAll('#cemantix-board .cx-board *')]
            .filter(e => e.checkVisibility() && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
            .map(e => parseFloat(getComputedStyle(e).fontSize) * (e.closest('svg') ?
                  e.closest('svg').getScreenCTM().a : 1)))"""
    )
    assert smallest >= height / 40, f"text of {smallest:.1f} px on a {height} px high board"


def assert_labels_apart(page, svg: str, minimum_px: float) -> None:
    """No two texts of a map overlap, and each is at least `minimum_px` high on screen."""
    boxes = page.locator(f"{svg} text").evaluate_all(
        """texts => texts.filter(t => t.checkVisibility()).map(t => {
            const r = t.getBoundingClientRect();
            const size = parseFloat(getComputedStyle(t).fontSize) * t.closest('svg').getScreenCTM().a;
            return {text: t.textContent, left: r.left, top: r.top, right: r.right, bottom: r.bottom, size};
        })"""
    )
    assert boxes, "the map shows no text"
    for box in boxes:
        assert box["size"] >= minimum_px, f"{box['text']!r} is {box['size']:.1f} px on screen"
    for number, first in enumerate(boxes):
        for second in boxes[number + 1 :]:
            apart = (
                first["right"] <= second["left"] + 0.5
                or second["right"] <= first["left"] + 0.5
                or first["bottom"] <= second["top"] + 0.5
                or second["bottom"] <= first["top"] + 0.5
            )
            assert apart, f"{first['text']!r} overlaps {second['text']!r}"


# The map's texts (words and rings' temperatures) and visible dots, as drawn, and the map's frame.
MAP_BOXES_JS = """svg => {
  const box = (e) => { const r = e.getBoundingClientRect(); return {left: r.left, top: r.top, right: r.right, bottom: r.bottom}; };
  const texts = [...svg.querySelectorAll("text.cx-label, text.cx-ring")].filter((t) => t.checkVisibility())
    .map((t) => ({text: t.textContent, word: t.classList.contains("cx-label"), ...box(t)}));
  const dots = [...svg.querySelectorAll("circle")]
    .filter((c) => !["transparent", "none"].includes(c.getAttribute("fill")))
    .map((c) => ({text: `dot at ${c.getAttribute("cx")},${c.getAttribute("cy")}`, ...box(c)}));
  return {frame: box(svg), texts, dots};
}"""


def overlap(first: dict, second: dict) -> bool:
    return not (
        first["right"] <= second["left"] + 0.5
        or second["right"] <= first["left"] + 0.5
        or first["bottom"] <= second["top"] + 0.5
        or second["bottom"] <= first["top"] + 0.5
    )


def assert_map_labels_clear(page, svg: str) -> list[str]:
    """On a map as drawn: no label over another label or a dot, each inside the map. Returns
    the words labelled."""
    drawn = page.locator(svg).evaluate(MAP_BOXES_JS)
    frame, texts = drawn["frame"], drawn["texts"]
    assert texts, "the map shows no text"
    for number, text in enumerate(texts):
        inside = (
            text["left"] >= frame["left"] - 0.5
            and text["right"] <= frame["right"] + 0.5
            and text["top"] >= frame["top"] - 0.5
            and text["bottom"] <= frame["bottom"] + 0.5
        )
        assert inside, f"{text['text']!r} is cut by the map's edge: {text} in {frame}"
        for other in texts[number + 1 :]:
            assert not overlap(text, other), f"{text['text']!r} overlaps {other['text']!r}"
        for dot in drawn["dots"]:
            assert not overlap(text, dot), f"{text['text']!r} covers the {dot['text']}"
    return [text["text"] for text in texts if text["word"]]


def assert_every_listed_word_on_a_clear_map(board) -> None:
    """The ended board's map: every word its cloud lists is labelled, and every label clear."""
    labelled = assert_map_labels_clear(board, "#cemantix-board svg.cx-map")
    listed = board.locator("#cemantix-board .cx-cloud span").all_text_contents()
    assert listed and set(listed) <= set(labelled), set(listed) - set(labelled)


PLAY_WORDS = {
    "fr": ["rivière", "montagne", "maison", "arbre", "forêt", "chat", "chien", "voiture", "eau", "soleil", "livre",
           "école", "ville", "route", "jardin", "fleur"],
    "en": ["river", "mountain", "house", "tree", "forest", "cat", "dog", "car", "water", "sun", "book", "school",
           "city", "road", "garden", "flower"],
}  # fmt: skip


@pytest.mark.parametrize("locale", ["fr-FR", "en-US"])
def test_a_game_on_a_phone(pages, locale):
    language = locale[:2]
    page = pages.open("?tab=cemantix", locale=locale)
    settle(page)
    words = PLAY_WORDS[language]
    for word in words:
        guess(page, word)
    # The first screen holds the box, « Indice » and « Abandonner », above the history.
    history_top = page.locator("#cemantix-history").bounding_box()["y"]
    for selector in (WORD_BOX, "#cemantix-hint", "#cemantix-give-up", "#cemantix-history .cx-latest"):
        box = page.locator(selector).first.bounding_box()
        assert box["y"] + box["height"] <= PHONE["height"], f"{selector} is below the first screen: {box}"
    for selector in ("#cemantix-hint", "#cemantix-give-up"):
        assert page.locator(selector).bounding_box()["y"] < history_top
    assert_finger_sized(page)

    # Giving up asks once; « Non » takes the question back.
    page.locator("#cemantix-give-up").click()
    expect(page.locator("#cemantix-give-up-confirm")).to_contain_text(TEXTS.get("cemantix_give_up_question", language))
    page.locator("#cemantix-give-up-no").click()
    expect(page.locator("#cemantix-give-up")).to_be_visible()
    expect(page.locator("#cemantix-reveal .cx-reveal")).to_have_count(0)
    page.locator("#cemantix-give-up").click()
    page.locator("#cemantix-give-up-yes").click()

    # The end: the box closed, « Nouvelle partie » one tap away, the 100 nearest folded.
    expect(page.locator("#cemantix-reveal .cx-secret")).to_be_visible()
    expect(page.locator(WORD_BOX).first).to_be_hidden()
    again = page.locator("#cemantix-play-again")
    expect(again).to_be_visible()
    assert again.bounding_box()["y"] + again.bounding_box()["height"] <= PHONE["height"]
    assert page.locator("#cemantix-reveal details").evaluate("details => !details.open")
    # The map: no two texts overlap, each at least 12 px, none over a dot; a tap on an unnamed dot shows its word.
    assert_labels_apart(page, "#cemantix-reveal svg.cx-map", minimum_px=12)
    assert_map_labels_clear(page, "#cemantix-reveal svg.cx-map")
    labelled = set(page.locator("#cemantix-reveal svg.cx-map .cx-label").all_text_contents())
    secret = page.locator("#cemantix-reveal .cx-secret").inner_text().split()[-1]
    assert secret in labelled and len(labelled) >= 6, labelled  # the secret and the guesses that fit
    page.locator("#cemantix-reveal svg.cx-map").scroll_into_view_if_needed()
    # A dot no other dot or label covers: where a finger would tap it.
    number, x, y = page.evaluate(
        """() => [...document.querySelectorAll('#cemantix-reveal svg.cx-map .cx-dot')].map((dot, number) => {
            const r = dot.querySelector('circle').getBoundingClientRect();
            const x = r.left + r.width / 2, y = r.top + r.height / 2;
            return dot.contains(document.elementFromPoint(x, y)) ? [number, x, y] : null;
        }).find(Boolean)"""
    )
    tip = page.locator("#cemantix-reveal svg.cx-map .cx-dot").nth(number).locator(".cx-tip")
    expect(tip).to_be_hidden()
    page.touchscreen.tap(x, y)
    expect(tip).to_be_visible()
    assert page.locator("#cemantix-reveal svg.cx-map").evaluate("svg => getComputedStyle(svg).touchAction") != "none"
    screenshot_full(page, f"cemantix-phone-end-{language}")
    pages.assert_healthy(page)

    again.click()
    expect(page.locator(WORD_BOX).first).to_be_visible()
    expect(page.locator("#cemantix-header")).to_contain_text(TEXTS.get("cemantix_header_random", language))
    expect(page.locator("#cemantix-reveal .cx-reveal")).to_have_count(0)


def screenshot_full(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def assert_finger_sized(page) -> None:
    """Every button, sub-tab, fold and choice of the tab is at least 40 px high."""
    small = page.evaluate(
        """() => [...document.querySelectorAll('#tab-cemantix button, #tab-cemantix label:has(input[type=radio])')]
            .filter(e => e.checkVisibility() && e.getBoundingClientRect().height > 2)
            .map(e => [e.innerText.trim() || e.className, e.getBoundingClientRect().height])
            .filter(([, height]) => height < 40)"""
    )
    assert not small, f"too small for a finger: {small}"


def test_long_words_keep_their_letters_together_in_the_history(pages):
    page = pages.open("?tab=cemantix")
    for word in ("enseignante", "montagne", "administration", "photographie"):
        guess(page, word)
    lines = page.locator("#cemantix-history td.cx-word").evaluate_all(
        """cells => cells.map(cell => {
             const range = document.createRange(); range.selectNodeContents(cell);
             return [cell.textContent, new Set(Array.from(range.getClientRects(), r => Math.round(r.top))).size];
           })"""
    )
    assert lines and all(count == 1 for _, count in lines), lines
    pages.assert_healthy(page)


def test_a_hand_edited_state_gets_a_fresh_game_and_no_secret(pages, french):
    """The browser keeps a token; whatever it sends instead (a forged game, a won one), the
    server finds no session for it, and the page starts afresh."""
    forged = {"game": {"secret": "?", "outcome": "found", "guesses": 1}, "token": "x" * 22}

    forged_loads = []

    def forge(route):
        body = route.request.post_data_json or {}
        if isinstance(body.get("data"), list) and body["data"]:  # the tab's load: the token first
            body["data"][0] = forged
            forged_loads.append(body)
        route.continue_(post_data=json.dumps(body))

    def holding_a_saved_token(page):  # a browser that played here before: its page asks for its session
        page.add_init_script("localStorage.setItem('iagen-cemantix-player', 'saved')")
        page.route("**/gradio_api/run/predict*", forge)

    page = pages.open("?tab=cemantix", before_load=holding_a_saved_token)
    settle(page)
    assert forged_loads, "no page load carried the browser's state: nothing was forged"
    expect(page.locator("#cemantix-header")).to_contain_text(TEXTS.get("cemantix_header_pending", "fr"))
    guess(page, "arbre")
    expect(page.locator("#cemantix-header")).to_contain_text("1 coup")
    expect(page.locator("#cemantix-reveal .cx-reveal")).to_have_count(0)
    assert_absent(logic.daily_secret(french, logic.puzzle_day()), page.content())
    pages.assert_healthy(page)


@pytest.mark.parametrize("locale", ["fr-FR", "en-US"])
def test_missing_word_vectors_are_said_at_page_load(browser, locale):
    from browser_fixtures import Pages

    missing = {"IAGEN_MODEL_FR_WORD_VECTORS": "/nonexistent/fr", "IAGEN_MODEL_EN_WORD_VECTORS": "/nonexistent/en"}
    language = locale[:2]
    with serving(**missing) as url:
        opened = Pages(browser, url)
        try:
            page = opened.open("?tab=cemantix", locale=locale)
            settle(page)
            notice = page.locator("#cemantix-notice .hub-notice")
            expect(notice).to_have_text(TEXTS.get("cemantix_missing_all", language))
            expect(page.locator(WORD_BOX).first).to_be_disabled()
            for selector in ("#cemantix-hint", "#cemantix-give-up"):
                expect(page.locator(selector)).to_be_disabled()
            opened.assert_healthy(page)
        finally:
            opened.close(f"test_missing_word_vectors_are_said_at_page_load-{locale}")


def test_a_full_room_fits_the_board(pages, hub_url, room_secret):
    """100 players (gradio_client sessions, as in the load test): the board still fits one
    screen and reads from the back of the hall, during the game and at the end."""
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client

    from spaces.cemantix.vocabulary import candidate_words

    host = Client(hub_url, verbose=False)
    code = re.search(r'class="cx-code">(\w+)<', host.predict("fr", "random", api_name="/cemantix_create_room")).group(1)
    words = [word for word in candidate_words("fr")[200:2000] if len(word) > 3]

    def play(number: int) -> None:
        player = Client(hub_url, verbose=False)
        player.predict(code, f"Joueur {number}", api_name="/cemantix_join_room")
        for word in words[number % 37 : number % 37 + 3 + number % 5]:
            player.predict(word, api_name="/cemantix_guess")
        if number % 9 == 0:
            player.predict(room_secret, api_name="/cemantix_guess")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(play, range(100)))
    board = open_board(pages, hub_url, code, PROJECTOR)
    expect(board.locator("#cemantix-board .cx-board-counts")).to_contain_text("100 joueurs")
    expect(board.locator("#cemantix-board .cx-progress circle")).to_have_count(100)
    assert_readable_board(board)
    screenshot(board, "cemantix-board-100-players")
    host.predict(api_name="/cemantix_end_room")
    expect(board.locator("#cemantix-board .cx-board-ended")).to_be_visible(timeout=3_000)
    assert_labels_apart(board, "#cemantix-board svg.cx-map", minimum_px=18)
    assert_every_listed_word_on_a_clear_map(board)
    assert_readable_board(board)
    assert_board_for_the_back_of_the_room(board)
    screenshot(board, "cemantix-board-100-players-ended")
    pages.assert_healthy(board)
