"""The Échantillonnage tab's look (CSS) and the few things its page does in the browser (JS):
the folded settings' one-line summary, a typed slider value applied on Enter, the token pop-up
closed by a tap elsewhere, and the sampling filters redrawn while a slider moves (filters.js).
Browser-only work: no server call for any of them."""

import json
from pathlib import Path

from spaces.sampling.texts import TEXTS

CSS = """
#tab-sampling .sampling-status p { margin: 0.2rem 0; }
#tab-sampling .sampling-status .notice { color: var(--hub-notice-text-color); }
.sampling-placeholder { opacity: 0.75; margin: 0.3rem 0; }
#sampling-text:not(:has(.sampling-text)), #sampling-generate-stopped:not(:has(p)) { display: none; }
.sampling-text { font-family: ui-monospace, monospace; white-space: pre-wrap; overflow-wrap: anywhere; line-height: 1.8; }
.sampling-text .drawn, .sampling-text .chosen { border-radius: 3px; color: #111; }
.sampling-text .drawn { background: #c7e4ff; }
.sampling-text .chosen { background: #ffd9a8; }
.sampling-legend { font-size: 0.85em; opacity: 0.8; margin: 0.2rem 0; }
/* Seven columns on a 390 px phone when every stage is on: small type, tight cells, the row labels
   of the footer on two lines, long tokens cut with an ellipsis. */
.sampling-stages { font-size: 0.75em; width: 100%; border-collapse: collapse; table-layout: auto; }
.sampling-stages caption { text-align: left; font-size: 1.1em; opacity: 0.8; padding-bottom: 2px; }
#sampling-table .html-container { padding-left: 0; padding-right: 0; overflow-x: auto; }  /* wider at 200 % text: it scrolls */
.sampling-stages th, .sampling-stages td { padding: 2px 2px !important; text-align: right; white-space: nowrap; }
.sampling-stages th:first-child, .sampling-stages td:first-child { text-align: left; }
.sampling-stages tfoot th { white-space: normal; }
.sampling-stages td.token code { display: inline-block; max-width: 5.5em; overflow: hidden; text-overflow: ellipsis;
                                 vertical-align: bottom; }
/* A token a filter removed: struck through and in the theme's subdued grey, which stays readable
   (opacity faded it to 2.1:1). */
.sampling-stages td.removed { color: var(--body-text-color-subdued); }
.sampling-stages tr.removed code { color: var(--body-text-color-subdued); text-decoration: line-through; }
.sampling-stages tfoot th, .sampling-stages tfoot td { border-top: 1px solid var(--border-color-primary); }
.sampling-off { font-size: 0.8em; opacity: 0.75; margin: 0.2rem 0; }
.sampling-chart { display: grid; grid-template-columns: minmax(3rem, max-content) 1fr max-content; gap: 3px 8px;
                  align-items: center; font-size: 0.85em; }
.sampling-chart .label code, .sampling-compare .label code { display: inline-block; max-width: 7rem; overflow: hidden;
                                                             text-overflow: ellipsis; vertical-align: bottom; }
.sampling-chart .track { position: relative; height: 1.1em; background: var(--background-fill-secondary); border-radius: 3px; }
.sampling-chart .track span { position: absolute; left: 0; border-radius: 3px; }
.sampling-chart .raw { top: 0; height: 100%; background: var(--hub-chart-raw-color); }
.sampling-chart .final { top: 30%; height: 40%; background: var(--hub-chart-final-color); }
.sampling-chart .removed { color: var(--body-text-color-subdued); }
.sampling-chart .removed code { text-decoration: line-through; }
.sampling-chart-legend { font-size: 0.8em; display: flex; flex-wrap: wrap; gap: 0.2rem 1rem; margin-bottom: 0.3rem; }
.sampling-chart-legend i { display: inline-block; width: 1.4em; height: 0.7em; margin-right: 0.3em; border-radius: 2px; }
.sampling-compare { display: grid; grid-template-columns: minmax(3rem, max-content) repeat(var(--columns), 1fr);
                    gap: 3px 8px; align-items: center; font-size: 0.85em; }
.sampling-compare .prompt { font-weight: 600; overflow-wrap: anywhere; }
.sampling-compare .label.pronoun { font-weight: 700; }
.sampling-odds p { margin: 0.2rem 0; }
.sampling-compare .track { position: relative; height: 1.3em; background: var(--background-fill-secondary);
                           border-radius: 3px; }
.sampling-compare .bar { position: absolute; left: 0; top: 0; height: 100%; background: #9ec5f8; border-radius: 3px; }
.sampling-compare .track b { position: relative; font-weight: normal; padding-left: 4px; line-height: 1.3em; }
.sampling-generated { white-space: pre-wrap; overflow-wrap: anywhere; line-height: 1.9; }
.sampling-generated .prompt { opacity: 0.75; }
/* A generation waiting in the queue: its words under Gradio's spinner, not over it (the text is
   still empty, so the tracker is one line high and a French sentence reached the spinner). */
#sampling-generated .progress-text { position: static; }
.sampling-token { position: relative; border-radius: 3px; color: #111; cursor: pointer; outline: none; }
.sampling-token:focus-visible { outline: 2px solid var(--color-accent); outline-offset: 1px; }
.sampling-token.partial { display: inline-block; min-width: 0.3em; height: 1em; vertical-align: middle; }
.sampling-token.end { font-size: 0.8em; padding: 0 3px; }
.sampling-token .alternatives { display: none; position: absolute; left: 0; top: 1.7em; z-index: 20; min-width: 9rem;
                                max-width: 70vw; white-space: normal; background: var(--background-fill-primary);
                                color: var(--body-text-color); border: 1px solid var(--border-color-primary);
                                border-radius: 6px; padding: 4px 8px; font-size: 0.85em; line-height: 1.4;
                                box-shadow: 0 2px 8px #0003; }
/* On a touch screen a tapped element keeps :hover until another is tapped: there, focus alone opens it. */
@media (hover: hover) { .sampling-token:hover .alternatives { display: block; } }
.sampling-token:focus .alternatives { display: block; }
.sampling-token .alternatives b { font-weight: 600; }
.sampling-mistakes { font-size: 0.9em; font-style: italic; }
#sampling-settings .label-wrap span:first-child { text-align: left; }
/* A view whose settings only the server can compute, until its answer (filters.js). */
.sampling-chart.stale, .sampling-stages.stale { opacity: 0.45; }
/* While a slider is held and the chart is out of sight (the open settings push it below a phone's
   screen), the chart floats over the screen's edge away from the finger; released, it goes back. */
#sampling-chart.sampling-chart-floating { position: fixed; left: 0; right: 0; z-index: 40; max-height: 45vh;
                                          overflow: auto; margin: 0; padding: 8px 12px;
                                          background: var(--background-fill-primary); box-shadow: 0 0 12px #0006; }
#sampling-chart.sampling-chart-floating[data-edge=bottom] { bottom: 0; }
#sampling-chart.sampling-chart-floating[data-edge=top] { top: 0; }
/* Said by a screen reader, not shown: what a released slider changed (filters.js). */
.sampling-live { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); margin: 0; }
"""

FILTERS_JS = Path(__file__).with_name("filters.js").read_text(encoding="utf-8")

_VIEW_WORDS = {
    language: {
        "column_token": TEXTS.get("sampling_column_token", language),
        "table_caption": TEXTS.get("sampling_table_caption", language),
        "row_kept": TEXTS.get("sampling_row_kept", language),
        "row_entropy": TEXTS.get("sampling_row_entropy", language),
        "stages_off": TEXTS.by_language[language]["sampling_stages_off"],  # filled in by the browser
        "live": TEXTS.by_language[language]["sampling_live_view"],
        **{
            f"stage_{stage}": TEXTS.get(f"sampling_stage_{stage}", language)
            for stage in ("raw", "repetition_penalty", "temperature", "top_k", "top_p", "min_p")
        },
    }
    for language in TEXTS.by_language
}

_SUMMARY_WORDS = {
    language: {
        "settings": TEXTS.get("sampling_settings_word", language),
        "separator": " : " if language == "fr" else ": ",
        "greedy": TEXTS.get("sampling_summary_greedy", language),
        "penalty": TEXTS.get("sampling_summary_penalty", language),
    }
    for language in TEXTS.by_language
}

# Installed once, on page load. The settings fold into their accordion, whose label is their
# one-line summary (« Réglages : T 0,8 · top-k 5 · top-p 0,9 »), kept up to date as the sliders
# move (filters.js redraws it with the chart) and when the page's language changes; Enter in a slider's number box applies the
# value (Gradio applies it when the box loses focus); the chart floats in sight while a slider is held;
# a tap outside an open token pop-up closes it;
# the sliders' number boxes and ranges are named by their label (Gradio names them in English:
# "number input for …", "range slider for …"). The settings' sliders are drawn when their
# accordion first opens: they are named then too.
TAB_SCRIPT = (
    """() => {
  if (window.iagenSamplingSummary) return;
"""
    + FILTERS_JS
    + """
  iagenSamplingFilters.attach("""
    + json.dumps(_VIEW_WORDS, ensure_ascii=False)
    + """);
  const WORDS = """
    + json.dumps(_SUMMARY_WORDS, ensure_ascii=False)
    + """;
  const SLIDERS = ["temperature", "top-k", "top-p", "min-p", "repetition-penalty"];
  const box = (name) => document.querySelector(`#sampling-${name} input[type=number]`);
  window.iagenSamplingSummary = () => {
    const label = document.querySelector("#sampling-settings .label-wrap > span");
    if (!label || SLIDERS.some((name) => !box(name))) return;
    const language = (document.documentElement.lang || "fr").slice(0, 2) === "en" ? "en" : "fr";
    const words = WORDS[language];
    const shown = (name) => (language === "fr" ? box(name).value.replace(".", ",") : box(name).value);
    const value = (name) => Number(box(name).value);
    const parts = [value("temperature") === 0 ? `T 0 (${words.greedy})` : `T ${shown("temperature")}`];
    if (value("top-k") > 0) parts.push(`top-k ${shown("top-k")}`);
    if (value("top-p") < 1) parts.push(`top-p ${shown("top-p")}`);
    if (value("min-p") > 0) parts.push(`min-p ${shown("min-p")}`);
    if (value("repetition-penalty") !== 1) parts.push(`${words.penalty} ${shown("repetition-penalty")}`);
    label.textContent = words.settings + words.separator + parts.join(" · ");
  };
  const nameBoxes = () => {
    for (const name of SLIDERS.concat(["top-n", "max-tokens", "chat-length"])) {
      const title = document.querySelector(`#sampling-${name} [data-testid=block-info]`);
      for (const input of document.querySelectorAll(`#sampling-${name} input`)) {
        if (title) input.setAttribute("aria-label", title.textContent.trim());
      }
    }
  };
  new MutationObserver(() => setTimeout(() => { window.iagenSamplingSummary(); nameBoxes(); }, 0))
    .observe(document.documentElement, {attributes: true, attributeFilter: ["lang"]});
  document.addEventListener("keydown", (event) => {
    const input = event.target;
    if (event.key === "Enter" && input.matches && input.matches("#tab-sampling input[type=number]")) input.blur();
  }, true);
  document.addEventListener("click", (event) => {
    if (event.target.closest && event.target.closest("#sampling-settings .label-wrap")) setTimeout(nameBoxes, 300);
  }, true);
  // A finger on one of the settings' sliders, the chart out of sight: it floats (CSS above) until
  // the finger lifts, over the half of the screen the slider is not in.
  const chart = () => document.getElementById("sampling-chart");
  document.addEventListener("pointerdown", (event) => {
    const slider = event.target.closest && event.target.closest("#sampling-settings input[type=range]");
    const shown = chart();
    if (!slider || !shown) return;
    const box = shown.getBoundingClientRect();
    if (box.top >= 0 && box.bottom <= window.innerHeight) return;
    shown.dataset.edge = slider.getBoundingClientRect().top > window.innerHeight / 2 ? "top" : "bottom";
    shown.classList.add("sampling-chart-floating");
  }, true);
  for (const lifted of ["pointerup", "pointercancel"]) {
    document.addEventListener(lifted, () => chart()?.classList.remove("sampling-chart-floating"), true);
  }
  // The generated text is one tab stop (its first token); the arrow keys go from token to token,
  // each opening its pop-up, and Escape closes it.
  document.addEventListener("keydown", (event) => {
    const token = event.target.closest && event.target.closest(".sampling-token");
    if (!token) return;
    if (event.key === "Escape") { token.blur(); return; }
    const step = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1}[event.key];
    if (!step) return;
    const tokens = [...token.parentElement.querySelectorAll(":scope > .sampling-token")];
    const next = tokens[tokens.indexOf(token) + step];
    if (!next) return;
    event.preventDefault();
    token.tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
  }, true);
  document.addEventListener("pointerdown", (event) => {
    const open = document.activeElement;
    if (open && open.classList && open.classList.contains("sampling-token") && !open.contains(event.target)) open.blur();
  }, true);
  setTimeout(nameBoxes, 0);
}"""
)
