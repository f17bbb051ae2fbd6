"""What the Cémantix tab shows, as HTML and SVG strings: pure functions of the game, the room's
board and the page's language (Gradio-free, unit-tested without a UI).

Every word, nickname or address is escaped here, wherever it lands in markup. A game's secret
appears in nothing rendered before the game is over (`reveal_html` is empty until then), and a
room's secret in nothing before the room has ended (`Board.secret` is None until then).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

from shared.i18n import format_number
from spaces.cemantix import logic
from spaces.cemantix.map_labels import GLYPH_WIDTH, Dot, label_at, place_labels, place_ring_labels
from spaces.cemantix.rooms import Board, BoardRow
from spaces.cemantix.texts import TEXTS

FLAGS = {"fr": "🇫🇷", "en": "🇬🇧"}
# Colours of the emoji scale, for the map and the board: marks seen at 3:1 on the page's
# background, white or dark (tests/test_contrast.py), as the °C written beside them says it too.
HEAT_COLOURS = {
    "🥳": "#b8860b",
    "😱": "#e0261f",
    "🔥": "#f0592b",
    "🥵": "#d97706",
    "😎": "#8f8f00",
    "🥶": "#2a8fbd",
    "🧊": "#7b6fd0",
}
NEIGHBOUR_COLOUR = "#878787"  # the 100 nearest, grey: 3:1 on white and on a dark page
MAP_SUMMARY_NEAREST = 5  # the words a map's or a chart's text alternative gives with their °C
BOARD_RANKS_SHOWN = 8  # the ranking on the projector: what the back of a hall can read
BOARD_FINAL_RANKS_SHOWN = 5  # at the end, beside the word, the room's words and their map


def escape(text: object) -> str:
    return html.escape(str(text))


def format_temperature(value: float, language: str) -> str:
    return f"{format_number(value, language, 2)}\u202f°C"


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}"


def counted(key: str, count: int, language: str) -> str:
    """« 1 coup », « 42 coups »: French uses the singular for 0 and 1."""
    singular = count <= 1 if language == "fr" else count == 1
    return TEXTS.get(f"{key}_{'one' if singular else 'many'}", language, count=format_number(count, language))


def words_language_name(words_language: str, language: str) -> str:
    """The game's words' language (« anglais »), named in the page's language."""
    return TEXTS.get(f"cemantix_language_{words_language}", language)


def paragraph(message: str, css_class: str) -> str:
    return f'<p class="{css_class}">{escape(message)}</p>' if message else ""


def heat_colour(temperature: float, permille: int | None) -> str:
    return HEAT_COLOURS[logic.heat_emoji(temperature, permille)]


# --- a game ----------------------------------------------------------------------------------


def puzzle_title(puzzle_number: int | None, language: str) -> str:
    if puzzle_number is None:
        return TEXTS.get("cemantix_header_random", language)
    return TEXTS.get("cemantix_header_daily", language, number=puzzle_number)


def header_html(game: logic.Game | None, language: str, pending_words_language: str = "fr") -> str:
    """The game's title, its words' language, its room and its counts (before a first word: the
    daily puzzle it will start)."""
    words_language = game.words_language if game else pending_words_language
    number = game.puzzle_number if game else logic.puzzle_number(logic.puzzle_day())
    tags = [FLAGS[words_language]]
    if game and game.room_code:
        tags.append(TEXTS.get("cemantix_header_room", language, code=game.room_code))
    if game is None:
        counts = TEXTS.get("cemantix_header_pending", language)
    else:
        counts = counted("cemantix_guess_count", game.guesses, language)
        if game.hints:
            counts += " · " + counted("cemantix_hint_count", game.hints, language)
    return (
        f'<div class="cx-header"><span class="cx-title">{escape(puzzle_title(number, language))}</span>'
        f'<span>{escape(" · ".join(tags))}</span><span class="cx-counts">{escape(counts)}</span></div>'
    )


def progress_cell(permille: int | None) -> str:
    if not permille:
        return ""
    return (
        f'<div class="cx-bar"><span class="cx-track"><span class="cx-fill" style="width:{permille / 10:.1f}%">'
        f"</span></span><span>{permille}</span></div>"
    )


def entry_row(entry: logic.Entry, language: str, css_class: str = "") -> str:
    classes = " ".join(filter(None, (css_class, "cx-hint" if entry.is_hint else "")))
    number = "💡" if entry.is_hint else str(entry.number)
    return (
        f'<tr class="{classes}"><td class="cx-number">{number}</td><td class="cx-word">{escape(entry.word)}</td>'
        f'<td class="cx-temperature">{format_temperature(entry.temperature, language)}</td>'
        f'<td class="cx-emoji">{entry.emoji}</td><td class="cx-progress">{progress_cell(entry.permille)}</td></tr>'
    )


def table_head(language: str) -> str:
    number, word, progress = (
        escape(TEXTS.get(key, language))
        for key in ("cemantix_column_number", "cemantix_column_word", "cemantix_column_progress")
    )
    return f'<tr><th class="cx-number">{number}</th><th>{word}</th><th>°C</th><th></th><th>{progress}</th></tr>'


def history_html(game: logic.Game | None, language: str) -> str:
    """The latest entry on top, then every entry from the warmest, as on Cémantix."""
    if game is None or not game.entries:
        return paragraph(TEXTS.get("cemantix_history_empty", language), "cx-empty")
    rows = [entry_row(game.latest, language, "cx-latest"), '<tr class="cx-separator"><td colspan="5"></td></tr>']
    rows += [entry_row(entry, language) for entry in game.history()]
    # In a box of its own that scrolls sideways where it cannot fit (large text on a phone); a
    # keyboard reaches it (RGAA 10.11, 12.13).
    name = escape(TEXTS.get("cemantix_history_name", language))
    return (
        f'<div class="cx-scroll" role="region" tabindex="0" aria-label="{name}">'
        f'<table class="cx-table">{table_head(language)}{"".join(rows)}</table></div>'
    )


def share_text(game: logic.Game, language: str) -> str:
    if game.puzzle_number is None:
        title = TEXTS.get("cemantix_share_title_random", language)
    else:
        # The game's words' language is named only when it differs from the reader's.
        key = "cemantix_share_title_daily_en" if game.words_language == "en" else "cemantix_share_title_daily"
        title = TEXTS.get(key, language, number=game.puzzle_number)
    guesses = counted("cemantix_guess_count", game.guesses, language)
    first_line = TEXTS.get(f"cemantix_share_{game.outcome}", language, title=title, guesses=guesses)
    if game.hints:
        first_line += f" ({counted('cemantix_hint_count', game.hints, language)})"
    scale = [entry.emoji for entry in game.entries if not entry.is_hint]
    counts = " ".join(f"{emoji}{scale.count(emoji)}" for emoji in HEAT_COLOURS)
    return f"{first_line}\n{counts}"


def problem_message(result: logic.GuessResult, language: str) -> str:
    if result.problem == logic.UNKNOWN:
        message = TEXTS.get("cemantix_problem_unknown", language, word=result.word)
        if result.suggestion:
            message += " " + TEXTS.get("cemantix_suggestion", language, word=result.suggestion)
        return message
    if result.problem == logic.REPEATED:
        entry = result.entry
        where = (
            TEXTS.get("cemantix_as_hint", language)
            if entry.is_hint
            else TEXTS.get("cemantix_as_guess", language, number=entry.number)
        )
        return TEXTS.get("cemantix_problem_repeated", language, word=result.word, where=where)
    return TEXTS.get(f"cemantix_problem_{result.problem}", language, max=logic.MAX_WORD_LENGTH)


def scored_message(result: logic.GuessResult, language: str) -> str:
    """A counted guess in words, as its history row shows it: « arbre » : 23,50 °C, 412 ‰."""
    score = format_temperature(result.temperature, language)
    if result.permille:
        score += f", {result.permille}\u202f‰"
    return TEXTS.get("cemantix_scored", language, word=result.word, score=score)


def end_message(game: logic.Game, language: str) -> str:
    if game.outcome == logic.FOUND:
        guesses = counted("cemantix_guess_count", game.guesses, language)
        return TEXTS.get("cemantix_found", language, word=game.secret, guesses=guesses)
    if game.outcome == logic.ROOM_ENDED:
        return TEXTS.get("cemantix_room_ended", language, code=game.room_code)  # the reveal says the word
    return TEXTS.get("cemantix_gave_up", language, word=game.secret)


def game_state(game: logic.Game | None, **action) -> dict:
    """The machine-readable side of every game answer (for API clients and tests)."""
    if game is None:
        return action
    state = {
        "words_language": game.words_language,
        "puzzle": game.puzzle_number,
        "room": game.room_code,
        "guesses": game.guesses,
        "hints": game.hints,
        "over": game.over,
        "outcome": game.outcome,
        **action,
    }
    if game.over:
        state["secret"] = game.secret
    return state


# --- the map ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapStyle:
    """A map's size and type, in SVG units: a phone of 390 px draws it about 300 px wide, so 14
    units of text are 14 px there (12 px on a 360 px phone); the board draws it larger."""

    size: float = 300
    font: float = 14
    label_limit: int = 25  # guesses that may get a label (the warmest first); the rest on tap
    # Whether every labelled word gets a label, anywhere in the map if its dot's surroundings are
    # full: the board names each word its cloud lists; a phone keeps its crowded words for a tap.
    label_anywhere: bool = False


PHONE_MAP = MapStyle()
BOARD_MAP = MapStyle(size=460, font=19, label_limit=30, label_anywhere=True)
DOT_RADIUS = {"secret": 7.0, "guess": 5.0, "hint": 5.0, "neighbour": 2.6}
TAP_RADIUS = 11.0  # the invisible disc a finger taps to see an unlabelled word


def svg_text_alternative(name: str, description: str) -> str:
    """A picture's name and its summary, as a screen reader says them (an SVG's title and desc)."""
    return f"<title>{escape(name)}</title><desc>{escape(description)}</desc>"


def map_summary(points: list[logic.MapPoint], language: str) -> str:
    """What the map shows, in words: the secret, the nearest words with their °C, the others by
    warmth (an unlabelled dot's word is here, not behind a tab stop of its own)."""
    secret = next(point.word for point in points if point.kind == "secret")
    guesses = sorted(
        (point for point in points if point.kind in ("guess", "hint")), key=lambda point: -point.temperature
    )
    nearest = ", ".join(
        f"{point.word} ({format_temperature(point.temperature, language)})" for point in guesses[:MAP_SUMMARY_NEAREST]
    )
    parts = [TEXTS.get("cemantix_map_summary_secret", language, word=secret)]
    if nearest:
        parts.append(TEXTS.get("cemantix_map_summary_nearest", language, words=nearest))
    if guesses[MAP_SUMMARY_NEAREST:]:
        farther = ", ".join(point.word for point in guesses[MAP_SUMMARY_NEAREST:])
        parts.append(TEXTS.get("cemantix_map_summary_farther", language, words=farther))
    if any(point.kind == "neighbour" for point in points):
        parts.append(TEXTS.get("cemantix_map_summary_neighbours", language))
    return " ".join(parts)


def map_svg(
    points: list[logic.MapPoint], style: MapStyle = PHONE_MAP, latest: str | None = None, *, language: str, name: str
) -> str:
    """Words around the secret (logic.map_around), as an SVG drawn here: sharp on a phone and a
    projector, light. The secret and as many guesses as fit get a label (the latest and the
    warmest first) near its dot, over no other label nor dot (map_labels.py); every other dot
    shows its word when tapped or hovered. A screen reader hears `name` and the map in words
    (map_summary): its dots take a tap's focus (tabindex -1) but are no tab stops (an ended
    game's map would add a hundred)."""
    size, font = style.size, style.font
    margin = font * 1.5
    reach = max((math.hypot(point.x, point.y) for point in points), default=1.0) or 1.0
    scale = (size / 2 - margin) / reach
    centre = size / 2

    def at(point: logic.MapPoint) -> tuple[float, float]:
        return centre + point.x * scale, centre - point.y * scale

    guesses = sorted(
        (point for point in points if point.kind in ("guess", "hint")),
        key=lambda point: (point.word != latest, -point.temperature),
    )
    secret = next(point for point in points if point.kind == "secret")
    candidates = [secret, *guesses[: style.label_limit]]
    dots = [Dot(point.word, *at(point), DOT_RADIUS[point.kind], point.kind == "secret") for point in points]
    dot_boxes = [dot.box for dot in dots]
    rings = [
        (f"{temperature}\u202f°C", (1 - temperature / 100) * scale)
        for temperature in (75, 50, 25, 0)
        if (1 - temperature / 100) * scale <= size / 2 - margin / 3
    ]
    ring_labels = place_ring_labels(rings, centre, size, font, dot_boxes)
    by_word = {dot.text: dot for dot in dots}
    labels = place_labels(
        [by_word[point.word] for point in candidates],
        size,
        font,
        dot_boxes + [label.box for label in ring_labels if label is not None],
        style.label_anywhere,
    )
    labelled = {candidates[number].word: label for number, label in labels.items()}

    parts = [
        f'<svg class="cx-map" viewBox="0 0 {size:g} {size:g}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'font-family="sans-serif" font-size="{font:g}">',
        svg_text_alternative(name, map_summary(points, language)),
    ]
    for _, radius in rings:
        parts.append(
            f'<circle class="cx-ring-line" cx="{centre:g}" cy="{centre:g}" r="{radius:.1f}" fill="none" '
            f'stroke="currentColor" stroke-dasharray="3 3"/>'
        )
    for label in ring_labels:  # over every ring line, its halo hides theirs
        if label is not None:
            parts.append(
                f'<text class="cx-ring" x="{label.x:.1f}" y="{label.y:.1f}" text-anchor="middle">{label.text}</text>'
            )
    for label in labelled.values():
        if label.leader is not None:
            parts.append(
                '<line class="cx-leader" x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" '
                'stroke="currentColor"/>'.format(*label.leader)
            )
    drawn = sorted(points, key=lambda point: ("neighbour", "guess", "hint", "secret").index(point.kind))
    for point in drawn:  # neighbours underneath, the secret on top
        x, y = at(point)
        if point.kind == "neighbour":
            dot = f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{DOT_RADIUS["neighbour"]:g}" fill="{NEIGHBOUR_COLOUR}"/>'
        else:
            dot = (
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{DOT_RADIUS[point.kind]:g}" '
                f'fill="{heat_colour(point.temperature, point.permille)}" stroke="white" stroke-width="1"/>'
            )
        if point.word in labelled:
            parts.append(dot)
            continue
        tip = label_at(by_word[point.word], font, "above")
        shift = max(-tip.box.left, 0) - max(tip.box.right - size, 0)  # kept inside the map
        tip_y = tip.y if tip.box.top >= 0 else y + DOT_RADIUS[point.kind] + 3 + font
        parts.append(
            f'<g class="cx-dot" tabindex="-1">{dot}<circle cx="{x:.1f}" cy="{y:.1f}" r="{TAP_RADIUS:g}" '
            f'fill="transparent"/><text class="cx-tip" x="{tip.x + shift:.1f}" y="{tip_y:.1f}" '
            f'text-anchor="middle">{escape(point.word)}</text></g>'
        )
    for point in candidates:
        label = labelled.get(point.word)
        if label is None:
            continue
        emphasis = ' font-weight="700"' if point.kind == "secret" else ""
        emphasis += ' font-style="italic"' if point.kind == "hint" else ""
        parts.append(
            f'<text class="cx-label" x="{label.x:.1f}" y="{label.y:.1f}" text-anchor="{label.anchor}" '
            f'fill="currentColor"{emphasis}>{escape(point.word)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def nearest_html(game: logic.Game, language: str) -> str:
    """The 100 nearest words in columns (two on a phone): ‰, word (✓ if guessed), °C."""
    guessed = {entry.word for entry in game.entries}
    items = [
        f'<div class="{"cx-guessed" if entry.word in guessed else ""}"><span class="cx-rank">{entry.permille}</span>'
        f'<span class="cx-word">{escape(entry.word)}</span>'
        f'<span class="cx-temperature">{format_temperature(entry.temperature, language)}</span></div>'
        for entry in game.nearest()
    ]
    return f'<div class="cx-nearest">{"".join(items)}</div>'


def reveal_html(game: logic.Game | None, language: str) -> str:
    """What the end of a game shows: the word, the map, the 100 nearest (folded). Empty before
    the end: the secret must not reach the browser while the game is on."""
    if game is None or not game.over:
        return ""
    title = TEXTS.get(
        f"cemantix_reveal_{game.outcome}", language, word=escape(game.secret)
    )  # the text has markup: escape the word only
    latest = game.latest.word if game.latest else None
    map_name = TEXTS.get("cemantix_map_heading", language)
    return (
        f'<div class="cx-reveal"><p class="cx-secret">{title}</p>'
        f"<h4>{escape(map_name)}</h4>"
        f"{map_svg(game.map_points(), PHONE_MAP, latest, language=language, name=map_name)}"
        f'<p class="cx-caption">{escape(TEXTS.get("cemantix_map_caption", language))}</p>'
        f"<details><summary>{escape(TEXTS.get('cemantix_nearest_heading', language))}</summary>"
        f"{nearest_html(game, language)}</details></div>"
    )


# --- a room ----------------------------------------------------------------------------------


def best_cell(row: BoardRow, language: str) -> str:
    """A player's best so far, as the board shows it: 🥳, else the emoji and ‰ (or °C)."""
    if row.found_after is not None:
        return f"🥳 {escape(TEXTS.get('cemantix_board_found', language))} · {format_seconds(row.found_after)}"
    if row.best_temperature is None:
        return ""
    emoji = logic.heat_emoji(row.best_temperature, row.best_permille)
    best = f"{row.best_permille}\u202f‰" if row.best_permille else format_temperature(row.best_temperature, language)
    if row.gave_up:
        best += f" · 🏳️ {escape(TEXTS.get('cemantix_board_gave_up', language))}"
    return f"{emoji} {best}"


def ranking_html(rows: tuple[BoardRow, ...], language: str, shown: int = BOARD_RANKS_SHOWN) -> str:
    if not rows:
        return paragraph(TEXTS.get("cemantix_board_empty", language), "cx-empty")
    head = "".join(
        f"<th>{escape(TEXTS.get(key, language))}</th>"
        for key in ("cemantix_board_place", "cemantix_board_player", "cemantix_board_best", "cemantix_board_guesses")
    )
    body = []
    for row in rows[:shown]:
        guesses = str(row.guesses) + (f" (+{row.hints}\u202f💡)" if row.hints else "")
        body.append(
            f'<tr><td class="cx-number">{row.place}</td><td class="cx-word">{escape(row.nickname)}</td>'
            f"<td>{best_cell(row, language)}</td><td>{guesses}</td></tr>"
        )
    more = len(rows) - shown
    if more > 0:
        others = escape(TEXTS.get("cemantix_board_more", language, count=more))
        body.append(f'<tr class="cx-more"><td></td><td colspan="3">{others}</td></tr>')
    return f'<table class="cx-table cx-ranking"><tr>{head}</tr>{"".join(body)}</table>'


# The progress strip: each player is a dot at their best temperature, stacked by 2.5 °C. It is
# drawn about as wide as its units in pixels on a 1280 × 720 projector (and 1.5 times on 1920 ×
# 1080), where its axis's 26 units read from the back of a hall (24 px and more). With fewer than
# BOARD_RANKS_SHOWN players, the chart takes the height their rows leave (~37 units a row).
STRIP_WIDTH, STRIP_HEIGHT, STRIP_STEP, STRIP_DOT, STRIP_FONT = 640, 150, 2.5, 12.0, 26
STRIP_HEIGHT_PER_MISSING_ROW = 37


def progress_summary(rows: tuple[BoardRow, ...], language: str) -> str:
    """The chart in words: the leaders and their best, as the ranking under it says them."""
    leaders = [row for row in rows if row.best_temperature is not None][:MAP_SUMMARY_NEAREST]
    if not leaders:
        return TEXTS.get("cemantix_board_empty", language)
    bests = ", ".join(
        f"{row.nickname} ({TEXTS.get('cemantix_board_found', language) if row.found_after is not None else format_temperature(row.best_temperature, language)})"
        for row in leaders
    )
    players = counted("cemantix_board_players", len(rows), language)
    return TEXTS.get("cemantix_progress_summary", language, players=players, leaders=bests)


def progress_svg(rows: tuple[BoardRow, ...], language: str) -> str:
    """The room's progress as a picture: one dot per player at their best temperature, coloured
    by the emoji scale, stacked where they crowd; found at 100 °C. It moves right as the room
    gets warmer, and is the taller the fewer the ranking's rows under it."""
    font = STRIP_FONT
    height = STRIP_HEIGHT + STRIP_HEIGHT_PER_MISSING_ROW * max(0, BOARD_RANKS_SHOWN - len(rows))
    low = min([0.0, *(row.best_temperature for row in rows if row.best_temperature is not None)])
    left, right, base = 14.0, STRIP_WIDTH - 14.0, height - font * 1.6

    def x_of(temperature: float) -> float:
        return left + (temperature - low) / (100 - low) * (right - left)

    parts = [
        f'<svg class="cx-progress" viewBox="0 0 {STRIP_WIDTH} {height}" xmlns="http://www.w3.org/2000/svg" '
        f'role="img" font-family="sans-serif" font-size="{font}">',
        svg_text_alternative(TEXTS.get("cemantix_board_progress", language), progress_summary(rows, language)),
        f'<line x1="{left}" y1="{base:.1f}" x2="{right}" y2="{base:.1f}" stroke="currentColor" stroke-opacity="0.5"/>',
    ]
    for temperature in (0, 25, 50, 75, 100):
        anchor = "end" if temperature == 100 else ("start" if temperature == low else "middle")
        tick = "🥳" if temperature == 100 else f"{format_number(temperature, language)}\u202f°C"
        parts.append(
            f'<text x="{x_of(temperature):.1f}" y="{base + font * 1.3:.1f}" text-anchor="{anchor}" '
            f'fill="currentColor">{tick}</text>'
        )
    temperatures = [
        (100.0 if row.found_after is not None else row.best_temperature, row)
        for row in rows
        if row.best_temperature is not None
    ]
    columns = [round((temperature - low) / STRIP_STEP) for temperature, _ in temperatures]
    tallest = max((columns.count(column) for column in set(columns)), default=1)
    radius = min(STRIP_DOT, (base - 4) / (2 * tallest))  # a crowded room stacks smaller dots
    heights: dict[int, int] = {}
    for column, (temperature, row) in zip(columns, temperatures, strict=True):
        below = heights.get(column, 0)  # the dots stacked under this one
        heights[column] = below + 1
        x, y = x_of(low + column * STRIP_STEP), base - radius - below * 2 * radius
        colour = HEAT_COLOURS["🥳"] if row.found_after is not None else heat_colour(temperature, row.best_permille)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius * 0.92:.1f}" fill="{colour}"/>')
    parts.append("</svg>")
    return "".join(parts)


# The room's word cloud fits this area of the board, in units of the board's font: its left
# column under the word and the finders, at 16:9, where a wide font (DejaVu Sans, a Linux
# laptop's) puts « Le mot était » and the word on two lines; a glyph is ~0.62 of its size wide.
CLOUD_AREA_EM2 = 22 * 8.5
CLOUD_LINE_HEIGHT = 1.35


def tried_words_html(tried: list[tuple[str, int, float, int | None]], language: str) -> str:
    """The room's own word cloud: its most tried words (word, tries, temperature, ‰), sized by
    how many players tried them (scaled down together until they fit the board), underlined in
    the colour of how warm they were (the words stay in the text's colour, readable; the map
    beside them places each at its temperature)."""
    if not tried:
        return ""
    most = max(tries for _, tries, _, _ in tried)
    weights = {word: 0.6 + 0.4 * math.sqrt(tries / most) for word, tries, _, _ in tried}
    area = sum((len(word) * GLYPH_WIDTH + 0.4) * CLOUD_LINE_HEIGHT * weight**2 for word, weight in weights.items())
    scale = min(2.0, math.sqrt(0.7 * CLOUD_AREA_EM2 / area))  # a cloud fills ~70 % of its box
    words = []
    for word, tries, temperature, permille in sorted(tried, key=lambda item: item[0]):
        words.append(
            f'<span style="font-size:{scale * weights[word]:.2f}em;border-color:{heat_colour(temperature, permille)}" '
            f'title="{escape(word)} × {tries} · {format_temperature(temperature, language)}">{escape(word)}</span>'
        )
    return f'<div class="cx-cloud">{" ".join(words)}</div>'


def board_html(
    board: Board,
    language: str,
    join_address: str | None,
    join_qr_svg: str = "",
    tried: list[tuple[str, int, float, int | None]] | None = None,
    room_map_svg: str = "",
) -> str:
    """The projector's board. During the game: how to join (a big QR code, the address, the
    code), how many play and found, the room's progress, the ranking; never a word. At the end:
    the word, the final ranking (best ‰, guesses, when found), the words the room tried most, their map."""
    players = counted("cemantix_board_players", board.players, language)
    found = counted("cemantix_board_found_count", board.found, language)
    title = TEXTS.get("cemantix_board_heading", language, code=board.code)
    puzzle = puzzle_title(board.puzzle_number, language)
    header = (
        f'<div class="cx-board-head"><h2>{escape(title)} {FLAGS[board.words_language]}</h2>'
        f'<span>{escape(puzzle)}</span><span class="cx-board-counts"><b>{escape(players)}</b> · '
        f"<b>{escape(found)}</b></span></div>"
    )
    if board.ended:
        secret = TEXTS.get("cemantix_board_secret", language, word=escape(board.secret))
        # The final ranking, whoever found it or not: the closest player (874 ‰) is the room's story too.
        final_ranking = ranking_html(board.rows, language, shown=BOARD_FINAL_RANKS_SHOWN)
        columns = (
            f'<div class="cx-board-column"><p class="cx-secret">{secret}</p>'
            f"<h3>{escape(TEXTS.get('cemantix_board_final_ranking', language))}</h3>{final_ranking}"
            f"<h3>{escape(TEXTS.get('cemantix_board_tried', language))}</h3>{tried_words_html(tried or [], language)}"
            f'</div><div class="cx-board-column cx-board-map"><h3>{escape(TEXTS.get("cemantix_board_map", language))}'
            f"</h3>{room_map_svg}</div>"
        )
        return f'<div class="cx-board cx-board-ended">{header}<div class="cx-board-body">{columns}</div></div>'
    if join_address:
        join = (
            f'<div class="cx-board-qr">{join_qr_svg}</div>'
            f'<p class="cx-board-scan">{escape(TEXTS.get("cemantix_board_scan", language))}</p>'
            f'<p class="cx-board-address">{escape(join_address)}</p>'
        )
    else:
        join = paragraph(TEXTS.get("cemantix_board_loopback", language), "cx-board-scan")
    code = TEXTS.get("cemantix_board_code", language, code=f'<b class="cx-code">{escape(board.code)}</b>')
    columns = (
        f'<div class="cx-board-column cx-board-join">{join}<p class="cx-board-scan">{code}</p></div>'
        f'<div class="cx-board-column"><h3>{escape(TEXTS.get("cemantix_board_progress", language))}</h3>'
        f"{progress_svg(board.rows, language)}"
        f"<h3>{escape(TEXTS.get('cemantix_board_ranking', language))}</h3>{ranking_html(board.rows, language)}</div>"
    )
    return f'<div class="cx-board">{header}<div class="cx-board-body">{columns}</div></div>'


def host_panel_html(
    code: str,
    language: str,
    words_language: str,
    puzzle_number: int | None,
    join_address: str | None,
    join_qr_svg: str = "",
    remedy: str = "",
    board_link: str = "",
) -> str:
    """The room's creator's panel: the code, the same QR code and link as the board, the board's
    link (`board_link`, « ?board=CODE » where empty); `remedy` (for the host only) says how to serve
    the hub to the room's phones."""
    created = TEXTS.get(
        "cemantix_created_daily" if puzzle_number is not None else "cemantix_created_random",
        language,
        code=f'<b class="cx-code">{escape(code)}</b>',
        words_language=escape(words_language_name(words_language, language)),
        number=puzzle_number,
    )
    board_link = (
        f'<a class="cx-board-link" href="{escape(board_link or f"?board={code}")}" target="_blank">'
        f"{escape(TEXTS.get('cemantix_board_link', language))} ↗</a>"
    )
    if join_address:
        join = (
            f"<p>{escape(TEXTS.get('cemantix_join_link', language))}</p>"
            f'<div class="cx-host-qr">{join_qr_svg}</div>'
            f'<p class="cx-host-address"><a href="{escape(join_address)}">{escape(join_address)}</a></p>'
        )
    else:
        join = paragraph(TEXTS.get("cemantix_board_loopback", language), "cx-empty") + paragraph(remedy, "cx-empty")
    hint = escape(TEXTS.get("cemantix_host_hint", language))
    return f'<div class="cx-host"><p>{created}</p><p>{board_link}</p>{join}<p>{hint}</p></div>'


# --- explorer --------------------------------------------------------------------------------


def word_list_html(pairs: list[tuple[str, float]], language: str) -> str:
    rows = "".join(
        f'<tr><td class="cx-number">{rank}</td><td class="cx-word">{escape(word)}</td>'
        f'<td class="cx-temperature">{format_number(cosine, language, 3)}</td>'
        f'<td class="cx-temperature">{format_temperature(cosine * 100, language)}</td></tr>'
        for rank, (word, cosine) in enumerate(pairs, start=1)
    )
    head = (
        f'<tr><th class="cx-number">#</th><th>{escape(TEXTS.get("cemantix_column_word", language))}</th>'
        "<th>cos</th><th>°C</th></tr>"
    )
    return f'<table class="cx-table">{head}{rows}</table>'
