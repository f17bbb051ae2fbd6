"""The land-cover canvas: a small drawing tool of our own, made for a finger on a phone.

Gradio's ImageEditor is not: its toolbar is English icons with English tooltips that its i18n
cannot reach (hard-coded in its Svelte source), its swatches have no names, its palette stays
open over the drawing, and a swipe on it never scrolls the page. This one is a gr.HTML with a
template and a script (canvas.js):

* the 16 drawable FLAIR classes as named swatches, in a palette that closes after a pick or on
  Escape; the colour in use and the pressed tool ticked (aria-pressed), focus ringed;
* the drawing area named with what a keyboard does instead (an example, an imported map);
* three brush widths, a fill bucket, undo (also of an example or an import that replaced the
  drawing), erase all; the examples (real FLAIR maps) under it, with their credit, loaded in the
  browser (its `select` event then tells the tab which one, for its place, photo and map);
* strokes drawn pixel by pixel with no antialiasing, so the drawing holds palette colours only;
* margins on both sides where a swipe scrolls the page (the drawing area itself takes the finger);
* its value is the drawing as a PNG data: URL, set at each stroke's end; a value set by Python
  (an example, an import) is drawn, and the drawing it replaced stays one « Annuler » away;
* in live mode (the checkbox #seg2sat-live), each stroke's end, debounced, fires its `input`
  event, which the tab turns into a quick generation.

Its texts are in both languages; the page shows its own (views.bilingual).
"""

from __future__ import annotations

import html
from pathlib import Path

import gradio as gr

from spaces.seg2sat import palette
from spaces.seg2sat.examples import EXAMPLES
from spaces.seg2sat.logic import data_url
from spaces.seg2sat.options import IMAGE_SIZE
from spaces.seg2sat.views import bilingual

SCRIPT = (Path(__file__).with_name("canvas.js")).read_text(encoding="utf-8")
BRUSH_RADII = (("seg2sat_canvas_fine", 4), ("seg2sat_canvas_medium", 12), ("seg2sat_canvas_wide", 28))  # canvas pixels
DEFAULT_RADIUS = 12

CSS = """
.seg2sat-canvas { position: relative; user-select: none; -webkit-user-select: none; }
.seg2sat-canvas button { min-height: 42px; padding: 0 0.7rem; border-radius: var(--radius-md);
  border: 1px solid var(--border-color-primary); background: var(--button-secondary-background-fill);
  color: var(--button-secondary-text-color); font: inherit; font-size: 0.9rem; cursor: pointer; }
/* A pressed tool, and the colour in use, show it beyond colour: a tick and bold words (RGAA 3.1).
   Focus is a ring of the text's colour around the button (7.3/10.7), apart from the pressed mark. */
.seg2sat-canvas button[aria-pressed="true"] { outline: 3px solid var(--color-accent); outline-offset: -3px; font-weight: 600; }
.seg2sat-canvas button[aria-pressed="true"]::before { content: "✓"; font-weight: 700; }
.seg2sat-canvas button:focus-visible { box-shadow: 0 0 0 2px var(--background-fill-primary), 0 0 0 4px var(--body-text-color); }
.seg2sat-canvas .seg2sat-sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
.seg2sat-canvas button:disabled { opacity: 0.45; cursor: default; }
.seg2sat-tools { display: flex; flex-wrap: wrap; gap: 6px; margin-bottom: 6px; }
.seg2sat-tools .spacer { flex: 1 1 0; }
.seg2sat-swatch { display: inline-block; width: 1.4rem; height: 1.4rem; border-radius: 4px;
  border: 1px solid #0006; vertical-align: middle; flex: none; }
/* The colour's name is never cut: with large text, the tools after it go to the next line. */
.seg2sat-colour { display: inline-flex; align-items: center; gap: 0.45rem; flex: 1 1 8em; min-width: 0; justify-content: flex-start; }
.seg2sat-colour .current { text-align: left; overflow-wrap: anywhere; }
.seg2sat-palette { position: absolute; z-index: 1000; left: 0; right: 0; display: grid; gap: 4px; padding: 6px;
  grid-template-columns: repeat(auto-fill, minmax(8.5rem, 1fr)); background: var(--background-fill-primary);
  border: 1px solid var(--border-color-primary); border-radius: var(--radius-lg); box-shadow: 0 6px 24px #0005; }
.seg2sat-palette[hidden] { display: none; }
.seg2sat-palette button { display: flex; align-items: center; gap: 0.45rem; text-align: left; padding: 0 0.5rem; }
/* The margins scroll the page (pan-y); the drawing area takes the finger (none). The frame reaches
   into the page's own side padding, so that the drawing area stays as wide as a phone allows. */
.seg2sat-frame { touch-action: pan-y; padding: 0 28px; margin: 0 -20px; background:
  repeating-linear-gradient(90deg, transparent 0 5px, var(--border-color-primary) 5px 6px) left / 28px 100% no-repeat,
  repeating-linear-gradient(90deg, transparent 0 5px, var(--border-color-primary) 5px 6px) right / 28px 100% no-repeat; }
.seg2sat-frame canvas { display: block; width: 100%; max-width: 512px; aspect-ratio: 1; margin: 0 auto;
  touch-action: none; image-rendering: pixelated; border-radius: 4px; box-shadow: 0 0 0 1px #0004; }
.seg2sat-examples { display: grid; grid-template-columns: repeat(5, 1fr); gap: 6px; margin-top: 6px; }
.seg2sat-canvas .seg2sat-examples button { padding: 0; min-height: 0; aspect-ratio: 1; overflow: hidden; }
.seg2sat-examples img { display: block; width: 100%; height: 100%; image-rendering: pixelated; }
.seg2sat-canvas .label { margin: 8px 0 0; font-size: 0.85rem; opacity: 0.8; }
.seg2sat-canvas .credit { margin: 4px 0 0; font-size: 0.8rem; }
.seg2sat-canvas .hint { margin: 4px 0 0; font-size: 0.8rem; opacity: 0.75; text-align: center; }
.seg2sat-canvas .message { margin: 4px 0 0; font-size: 0.85rem; text-align: center; color: var(--color-accent); min-height: 1.2em; }
"""


def template() -> str:
    """The canvas's HTML: tools, the palette (closed), the drawing area between its margins."""
    first = palette.BACKGROUND_CLASS
    swatches = "".join(
        f'<button type="button" class="seg2sat-pick" data-colour="{land_cover.hex}" '
        f'aria-pressed="{"true" if land_cover == first else "false"}">'
        f'<span class="seg2sat-swatch" style="background:{land_cover.hex}"></span>'
        f'<span class="name"><span lang="fr">{html.escape(land_cover.french)}</span>'
        f'<span lang="en">{html.escape(land_cover.english)}</span></span></button>'
        for land_cover in palette.DRAWING_CLASSES
    )
    examples = "".join(
        f'<button type="button" class="seg2sat-example" data-example="{index}">'
        f'<img alt="{html.escape(example.town)}" src="{data_url(sketch)}"></button>'
        for index, (example, sketch) in enumerate(
            (example, palette.open_image(str(example.path))) for example in EXAMPLES
        )
    )
    sizes = "".join(
        f'<button type="button" class="seg2sat-size" data-radius="{radius}" '
        f'aria-pressed="{"true" if radius == DEFAULT_RADIUS else "false"}">{bilingual(key)}</button>'
        for key, radius in BRUSH_RADII
    )
    return (
        '<div class="seg2sat-canvas seg2sat-bilingual">'
        '<div class="seg2sat-tools">'
        f'<button type="button" class="seg2sat-colour" aria-expanded="false" aria-haspopup="true">'
        f'<span class="seg2sat-swatch" style="background:{first.hex}"></span>'
        f'<span class="current"><span lang="fr">{html.escape(first.french)}</span>'
        f'<span lang="en">{html.escape(first.english)}</span></span> ▾</button>'
        f'<button type="button" class="seg2sat-fill" aria-pressed="false">{bilingual("seg2sat_canvas_fill")}</button>'
        f'<button type="button" class="seg2sat-undo" disabled>{bilingual("seg2sat_canvas_undo")}</button>'
        "</div>"
        f'<div class="seg2sat-palette" hidden>{swatches}</div>'
        f'<div class="seg2sat-tools">{sizes}<span class="spacer"></span>'
        f'<button type="button" class="seg2sat-new">{bilingual("seg2sat_canvas_new")}</button></div>'
        # The drawing is for a finger or a mouse: its name says what a keyboard does instead.
        f'<div class="seg2sat-frame"><canvas width="{IMAGE_SIZE}" height="{IMAGE_SIZE}" role="img" '
        'aria-labelledby="seg2sat-canvas-name"></canvas></div>'
        f'<span id="seg2sat-canvas-name" class="seg2sat-sr-only">{bilingual("seg2sat_canvas_name")}</span>'
        f'<p class="message" aria-live="polite"></p><template class="replaced">{bilingual("seg2sat_canvas_replaced")}</template>'
        f'<p class="hint">{bilingual("seg2sat_canvas_scroll")}</p>'
        f'<p class="label">{bilingual("seg2sat_examples")}</p><div class="seg2sat-examples">{examples}</div>'
        f'<p class="credit">{bilingual("seg2sat_credit")}</p>'
        "</div>"
    )


def land_cover_canvas() -> gr.HTML:
    """The canvas, starting as the all-forest map of the original Seg2Sat."""
    return gr.HTML(
        value=data_url(palette.blank_sketch(IMAGE_SIZE)),
        html_template=template(),
        js_on_load=SCRIPT,
        apply_default_css=False,
        elem_id="seg2sat-canvas",
        background=palette.BACKGROUND_CLASS.hex,
    )
