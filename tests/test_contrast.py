"""WCAG 2.1 contrast (RGAA 3.2) of the hub's colours, computed from the theme Gradio serves and the
demos' CSS: text 4.5:1 against what it sits on, controls, focus and chart marks 3:1, light and dark.

The colours are resolved the way the browser does: a theme attribute's `*name` references are the
CSS variables of the same mode, and a dark attribute that is unset takes the light value.
"""

from __future__ import annotations

import re

import pytest

from shared.hub_page import theme
from spaces.cemantix.render import HEAT_COLOURS, NEIGHBOUR_COLOUR
from spaces.cemantix.ui import CSS as CEMANTIX_CSS
from spaces.clip_search.ui import CSS as CLIP_SEARCH_CSS
from spaces.sampling.styles import CSS as SAMPLING_CSS

TEXT, NON_TEXT = 4.5, 3.0  # WCAG 1.4.3 (AA) and 1.4.11
MODES = ("light", "dark")
NAMED_COLOURS = {"white": "#ffffff", "black": "#000000"}

# (text, background): theme attributes, each pair a place the hub shows text.
TEXT_PAIRS = [
    ("body_text_color", "body_background_fill"),
    ("body_text_color", "block_background_fill"),
    ("body_text_color_subdued", "body_background_fill"),
    ("body_text_color_subdued", "block_background_fill"),
    ("body_text_color_subdued", "background_fill_secondary"),
    ("block_info_text_color", "block_background_fill"),
    ("block_label_text_color", "block_label_background_fill"),
    ("block_title_text_color", "block_background_fill"),
    ("color_accent", "body_background_fill"),  # the selected tab's label
    ("link_text_color", "body_background_fill"),
    ("input_placeholder_color", "input_background_fill"),
    ("error_text_color", "error_background_fill"),
    ("error_text_color", "block_background_fill"),  # the image search's error line
    ("button_primary_text_color", "button_primary_background_fill"),
    ("button_primary_text_color", "button_primary_background_fill_hover"),
    ("button_secondary_text_color", "button_secondary_background_fill"),
    ("button_secondary_text_color", "button_secondary_background_fill_hover"),
    ("button_cancel_text_color", "button_cancel_background_fill"),
    ("button_cancel_text_color", "button_cancel_background_fill_hover"),
    ("hub_notice_text_color", "body_background_fill"),
    ("hub_notice_text_color", "block_background_fill"),
]

# (mark, background): a control's state, a focus ring, a chart's bar, which must be seen (3:1).
NON_TEXT_PAIRS = [
    ("color_accent", "body_background_fill"),  # the selected tab's underline
    ("slider_color", "block_background_fill"),
    ("checkbox_background_color_selected", "block_background_fill"),
    ("input_border_color_focus", "input_background_fill"),
    ("hub_chart_raw_color", "background_fill_secondary"),  # the sampling chart's bar over its track
    ("hub_chart_final_color", "hub_chart_raw_color"),
    ("hub_chart_final_color", "background_fill_secondary"),
]

# Text the demos' CSS fades or colours itself, on a block: (CSS, selector of its rule).
HUB_TEXT = [
    (SAMPLING_CSS, ".sampling-stages td.removed"),  # a token a filter removed, in the stage table
    (SAMPLING_CSS, ".sampling-stages tr.removed code"),
    (SAMPLING_CSS, ".sampling-chart .removed"),
    (CLIP_SEARCH_CSS, ".clip-search-results-heading p"),
]


def luminance(colour: str) -> float:
    """WCAG 2.1's relative luminance of #rgb or #rrggbb."""
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(digit * 2 for digit in digits)
    channels = [int(digits[index : index + 2], 16) / 255 for index in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    darker, lighter = sorted((luminance(first), luminance(second)))
    return (lighter + 0.05) / (darker + 0.05)


def blend(colour: str, opacity: float, background: str) -> str:
    """The colour seen when `colour` is drawn at `opacity` over `background`."""
    parts = [
        round(opacity * int(colour[index : index + 2], 16) + (1 - opacity) * int(background[index : index + 2], 16))
        for index in (1, 3, 5)
    ]
    return "#" + "".join(f"{part:02x}" for part in parts)


def resolve(hub_theme, name: str, mode: str) -> str:
    """A theme attribute's colour in a mode, as #rrggbb."""
    value = getattr(hub_theme, f"{name}_dark", None) if mode == "dark" else None
    if value is None:
        value = getattr(hub_theme, name)
    value = re.sub(r"\*(\w+)", lambda match: resolve(hub_theme, match.group(1), mode), value).strip()
    value = NAMED_COLOURS.get(value, value)
    assert re.fullmatch(r"#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}", value), f"{name} ({mode}): {value!r} is not a plain colour"
    if len(value) == 4:
        value = "#" + "".join(digit * 2 for digit in value[1:])
    return value.lower()


def declarations(css: str, selector: str) -> dict[str, str]:
    """The properties of the rule whose selector list is exactly `selector`."""
    rules = (rule.partition("{") for rule in re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL).split("}"))
    matching = [body for selectors, _, body in rules if selectors.strip() == selector]
    assert len(matching) == 1, f"{selector!r}: {len(matching)} rules"
    pairs = (declaration.split(":", 1) for declaration in matching[0].split(";") if ":" in declaration)
    return {name.strip(): value.strip() for name, value in pairs}


@pytest.fixture(scope="module")
def hub_theme():
    return theme()


def test_contrast_matches_wcag_examples():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # WCAG's classic just-fail grey
    assert blend("#000000", 0.5, "#ffffff") == "#808080"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("text", "background"), TEXT_PAIRS)
def test_theme_text_reaches_4_5_to_1(hub_theme, text, background, mode):
    ratio = contrast(resolve(hub_theme, text, mode), resolve(hub_theme, background, mode))
    assert ratio >= TEXT, f"{text} on {background} ({mode}): {ratio:.2f}:1"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("mark", "background"), NON_TEXT_PAIRS)
def test_theme_controls_focus_and_chart_marks_reach_3_to_1(hub_theme, mark, background, mode):
    ratio = contrast(resolve(hub_theme, mark, mode), resolve(hub_theme, background, mode))
    assert ratio >= NON_TEXT, f"{mark} on {background} ({mode}): {ratio:.2f}:1"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("css", "selector"), HUB_TEXT, ids=[selector for _, selector in HUB_TEXT])
def test_text_the_demos_fade_or_colour_stays_readable(hub_theme, css, selector, mode):
    rule = declarations(css, selector)
    colour_variable = re.fullmatch(r"var\(--([\w-]+)\)", rule.get("color", "var(--body-text-color)"))
    assert colour_variable, f"{selector}: its colour must come from the theme, not {rule['color']!r}"
    background = resolve(hub_theme, "block_background_fill", mode)
    seen = blend(
        resolve(hub_theme, colour_variable.group(1).replace("-", "_"), mode), float(rule.get("opacity", 1)), background
    )
    ratio = contrast(seen, background)
    assert ratio >= TEXT, f"{selector} ({mode}): {ratio:.2f}:1"


# Where Cémantix's map and the board's chart are drawn: the page's background, or a block's.
MAP_BACKGROUNDS = ("background_fill_primary", "block_background_fill")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("background", MAP_BACKGROUNDS)
@pytest.mark.parametrize(
    ("name", "colour"), [*HEAT_COLOURS.items(), ("neighbour", NEIGHBOUR_COLOUR)], ids=[*HEAT_COLOURS, "neighbour"]
)
def test_the_cemantix_maps_temperature_colours_are_seen_on_white_and_dark(hub_theme, name, colour, background, mode):
    ratio = contrast(colour, resolve(hub_theme, background, mode))
    assert ratio >= NON_TEXT, f"{name} {colour} on {background} ({mode}): {ratio:.2f}:1"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("background", MAP_BACKGROUNDS)
def test_the_cemantix_maps_ring_labels_and_lines_are_seen(hub_theme, background, mode):
    """A ring's temperature is text (4.5:1); its dashed line and the leader lines, drawn in the
    text's colour at an opacity, are marks (3:1)."""
    behind = resolve(hub_theme, background, mode)
    label = re.fullmatch(r"var\(--([\w-]+)\)", declarations(CEMANTIX_CSS, "svg.cx-map .cx-ring")["fill"])
    ratio = contrast(resolve(hub_theme, label.group(1).replace("-", "_"), mode), behind)
    assert ratio >= TEXT, f"ring label ({mode}, {background}): {ratio:.2f}:1"
    for line in ("svg.cx-map .cx-ring-line", "svg.cx-map .cx-leader"):
        opacity = float(declarations(CEMANTIX_CSS, line)["stroke-opacity"])
        seen = blend(resolve(hub_theme, "body_text_color", mode), opacity, behind)
        assert contrast(seen, behind) >= NON_TEXT, f"{line} ({mode}, {background}): {contrast(seen, behind):.2f}:1"


def test_a_token_boundary_is_seen_against_every_token_colour():
    """The tokenizer's tokens are told apart by a line, not by their pastel colours alone (RGAA 3.3)."""
    from spaces.tokenizer.ui import CSS, TOKEN_BOUNDARY_COLOUR, TOKEN_COLOURS

    assert f"border-right: 1px solid {TOKEN_BOUNDARY_COLOUR}" in CSS
    ratios = {colour: contrast(TOKEN_BOUNDARY_COLOUR, colour) for colour in TOKEN_COLOURS}
    assert min(ratios.values()) >= NON_TEXT, ratios
