"""The hub's page around the tabs: its styles, its theme and the scripts of its <head>.

Gradio takes them at launch (`app.py`): `head()`, `theme()`, and `PAGE_CSS` with each demo's CSS.
"""

from __future__ import annotations

import html
import json

from shared.hub import TEXTS
from shared.i18n import LANGUAGE_SCRIPT, request_language
from shared.number_boxes import number_boxes_script

PAGE_CSS = """
.hub-error-detail { white-space: pre-wrap; font-size: 0.85em; }
.hub-qr svg { width: min(320px, 80vw); height: auto; background: white; }
.hub-models { font-size: 0.85em; width: 100%; table-layout: fixed; }
.hub-models td, .hub-models th { padding: 4px 6px !important; vertical-align: top; overflow-wrap: break-word; }
.hub-models small, .hub-models span { display: block; }
.hub-models small { opacity: 0.75; }
.hub-models .hub-remedy { font-family: ui-monospace, monospace; font-size: 0.8em; margin-top: 0.2rem; }
#hub-title h1 { font-size: 1.4em; margin: 0.2em 0; }
.hub-host-only { display: none; }
html.hub-on-this-computer .hub-host-only { display: block; }
.hub-notice { margin: 0.3rem 0; padding: 0.5rem 0.75rem; border-left: 4px solid #d08a00; border-radius: 4px;
              background: color-mix(in srgb, #d08a00 12%, transparent); }
.hub-number-note { margin: 0.25rem 0 0; padding-left: 0.5rem; border-left: 4px solid #d08a00; font-size: var(--text-sm); }
.hub-number-note:empty { display: none; }
.progress-text[data-words], .toast-title[data-words], [data-testid=toast-text][data-words],
.theme-buttons button[data-words] { font-size: 0 !important; }
.progress-text[data-words]::after, .toast-title[data-words]::after, [data-testid=toast-text][data-words]::after,
.theme-buttons button[data-words]::after {
  content: attr(data-words); font-size: var(--text-sm);
}
.theme-buttons button[data-words]::after { text-transform: none; }
.banner-wrap[hidden] { display: none !important; }
h2 > .title > .url { display: none; }  /* the settings panel's address: a student has no use for it */
/* Said by a screen reader, not shown (a result's summary, the tokens and their ids). */
/* Larger text (RGAA 10.4): a tab's label wraps inside its button, which grows with it, instead of
   being cut at one line of a fixed height. */
.tab-wrapper .tab-container.wrap > button { height: auto; min-height: var(--size-8); white-space: normal;
                                           text-align: left; overflow-wrap: anywhere; }
.tab-wrapper .tab-container.wrap { background: none; }  /* its rows' lines assume one height */
/* Focus seen on every control (Gradio takes the sliders' outline away), and the checked choice
   told by more than its colour: its words in bold (RGAA 10.7, 3.1). */
.gradio-container input[type=range]:focus-visible, .gradio-container input[type=radio]:focus-visible,
.gradio-container input[type=checkbox]:focus-visible { outline: 2px solid var(--color-accent); outline-offset: 2px; }
.gradio-container label.selected { font-weight: 700; }
.hub-spoken { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; margin: 0; }
"""

SYSTEM_FONTS = ("system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif")
SYSTEM_MONOSPACE_FONTS = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace")

# ?tab=<demo> opens that demo, so a QR code can lead straight to it. Gradio runs this script with
# the page's config at hand and before it draws the page: the tab is the one shown from the first
# paint, and nothing changes the tab afterwards (an answer of the server that selected it seconds
# later, on a busy server, would undo the tap of a user who had chosen another tab meanwhile).
OPEN_REQUESTED_TAB_SCRIPT = """<script>
(function () {
  const wanted = new URLSearchParams(window.location.search).get("tab");
  const components = (window.gradio_config && window.gradio_config.components) || [];
  const tabs = components.find((component) => component.props && component.props.elem_id === "hub-tabs");
  const known = components.some((component) => component.props && component.props.elem_id === `tab-${wanted}`);
  if (tabs && wanted && known) tabs.props.selected = wanted;
})();
</script>"""

# What is for the host only (ids, variables) is in the page for everyone, which is the same for every
# visitor, and shown by this class to a browser on the server itself (a phone in the room reaches
# the hub by its network address, or through a proxy).
ON_THIS_COMPUTER_SCRIPT = """<script>
if (["127.0.0.1", "localhost", "[::1]"].includes(window.location.hostname)) {
  document.documentElement.classList.add("hub-on-this-computer");
}
</script>"""

# A tab tapped by a person warms its demo up (app.warm_up_when_tapped's hidden button): Gradio's
# select event would fire for the tab a page opens on too, an event per phone of a QR rush.
WARM_UP_TAPPED_TAB_SCRIPT = """<script>
document.addEventListener("click", (event) => {
  const tab = event.isTrusted && event.target.closest && event.target.closest("#hub-tabs [role=tab]");
  const name = tab && tab.id.replace(/^tab-/, "").replace(/-button$/, "");
  if (name) document.getElementById(`warm-up-${name}`)?.click();
}, true);
</script>"""

# A result a user waits for is announced by a screen reader (RGAA 7.5): a demo gives its component the
# class hub-live, and this script makes it a polite live region (gr.HTML takes no ARIA attribute).
# The attribute goes on Gradio's wrapper of the component, which stays while its content is
# replaced: a region that appears with its words already in it is not announced.
# Gradio gives the class to its wrapper and to the HTML inside: only the outer one is a region (nested
# regions are said twice). Gradio's own status inside the wrapper (a timer, « Chargement ») is kept
# from it: the region says the result, once.
LIVE_REGIONS_SCRIPT = """<script>
new MutationObserver(() => {
  for (const region of document.querySelectorAll(".hub-live:not([aria-live])")) {
    if (!region.parentElement.closest(".hub-live")) region.setAttribute("aria-live", "polite");
  }
  for (const tracker of document.querySelectorAll(".hub-live[aria-live] > [data-testid=status-tracker]:not([aria-hidden])")) {
    tracker.setAttribute("aria-hidden", "true");
  }
}).observe(document.documentElement, {subtree: true, childList: true});
</script>"""

# Gradio writes its waiting and its toasts in English whatever the page's language ("queue: 3/12 |
# 1.2/6.0s", "processing | 4.1s", a toast titled "Error", "Queue is full…"): this script puts them
# in words of the page's language. It leaves Gradio's text in place (Svelte keeps updating it) and
# shows ours instead, through a data-words attribute and PAGE_CSS.
BUSY_SCRIPT = """<script>
(function () {
  const words = %s;
  const say = (key, values) => {
    const texts = words[(document.documentElement.lang || "fr").slice(0, 2)] || words.fr;
    return texts[key].replace(/\\{(\\w+)\\}/g, (_, name) => values[name]);
  };
  const show = (element, text) => {
    if (text === null) delete element.dataset.words;
    else if (element.dataset.words !== text) element.dataset.words = text;
  };
  function reword() {
    for (const element of document.querySelectorAll(".progress-text")) {
      const text = element.textContent.replace(/\\s+/g, " ").trim();
      const queued = text.match(/^queue: (\\d+)\\/(\\d+) \\| ([\\d.]+)(?:\\/([\\d.]+))?s$/);
      const working = text.match(/^processing \\| ([\\d.]+)/);
      if (queued) {
        const left = queued[4] ? Math.max(1, Math.round(queued[4] - queued[3])) : null;
        const position = say("busy_queue_position", {position: queued[1], size: queued[2]});
        show(element, left ? `${position} · ${say("busy_queue_wait", {seconds: left})}` : position);
      } else {
        show(element, working ? say("busy_working", {seconds: Math.round(working[1])}) : null);
      }
    }
    for (const title of document.querySelectorAll(".toast-title")) {
      const kind = ["error", "warning", "info", "success"].find((name) => title.classList.contains(name));
      if (kind) show(title, say(`busy_toast_${kind}`, {}));
    }
    for (const message of document.querySelectorAll("[data-testid=toast-text]")) {
      show(message, message.textContent.includes("Queue is full") ? say("queue_full", {}) : null);
    }
    for (const close of document.querySelectorAll("[data-testid=toast-close]")) {
      close.setAttribute("aria-label", say("busy_close", {}));
    }
    // A text box's send button is an arrow with no name (axe « button-name »: Cémantix's guess).
    for (const send of document.querySelectorAll("button[data-testid=submit-button]")) {
      if (!send.textContent.trim()) send.setAttribute("aria-label", say("busy_send", {}));
    }
    names();
    structure();
    settings();
  }
  // What Gradio names in English in its markup, not through its dictionaries (RGAA 8.7): its copy
  // and reset buttons, the chatbot's region, the footer; a slider's range and number box are named
  // « range slider for … », « number input for … »: by their label alone.
  const ENGLISH_NAMES = {
    "Copy": "busy_name_copy", "Copied": "busy_name_copied", "Copy conversation": "busy_name_copy_conversation",
    "Copied conversation": "busy_name_copied_conversation", "Reset to default value": "busy_name_reset",
    "chatbot conversation": "busy_name_conversation", "Gradio footer navigation": "busy_name_footer",
  };
  function names() {
    for (const element of document.querySelectorAll("[aria-label]")) {
      const english = element.getAttribute("aria-label");
      if (ENGLISH_NAMES[english]) {
        const words = say(ENGLISH_NAMES[english], {});
        element.setAttribute("aria-label", words);
        if (element.getAttribute("title") === english) element.setAttribute("title", words);
      }
      const slider = english.match(/^(?:range slider|number input) for (.*)$/);
      if (slider) {
        const label = element.closest(".block")?.querySelector("[data-testid=block-info]");
        element.setAttribute("aria-label", label ? label.textContent.trim() : slider[1]);
      }
    }
  }
  // Structure (RGAA 9.1, 7.1): each tab opens on a heading of its own (its label, said and not
  // shown), under the page's h1 and over the tab's h3s; an accordion's button says whether it is
  // open (Gradio marks it with a class only).
  function structure() {
    for (const panel of document.querySelectorAll("#hub-tabs [role=tabpanel]")) {
      const tab = document.getElementById(`${panel.id}-button`);
      if (!tab || panel.querySelector(":scope > h2.hub-tab-heading")) continue;
      const heading = document.createElement("h2");
      heading.className = "hub-tab-heading hub-spoken";
      heading.textContent = tab.textContent.trim();
      panel.prepend(heading);
    }
    // A passage in another language than the page's (RGAA 8.7): a demo marks the component whose
    // words are English (hub-lang-en), or the chatbot whose replies are (hub-replies-en).
    for (const passage of document.querySelectorAll(".hub-lang-en:not([lang]), .hub-replies-en .bot-row:not([lang])")) {
      passage.setAttribute("lang", "en");
    }
    for (const button of document.querySelectorAll("button.label-wrap")) {
      const open = String(button.classList.contains("open"));
      if (button.getAttribute("aria-expanded") !== open) button.setAttribute("aria-expanded", open);
    }
  }
  // Gradio's « Paramètres » panel: the display theme and the language, in the page's words; what a
  // student has no use for (making an app installable, recording the screen, a run history) hidden.
  function settings() {
    const themes = document.querySelector(".theme-buttons");
    if (!themes) return;
    const section = themes.closest(".banner-wrap");
    for (const other of section.parentElement.querySelectorAll(":scope > .banner-wrap")) {
      if (other !== section && !other.querySelector("input[role=combobox]")) other.hidden = true;
    }
    for (const button of themes.querySelectorAll("button")) {
      const theme = ["Light", "Dark", "System"].find((name) => button.textContent.includes(name));
      if (theme) {
        const words = say(`settings_theme_${theme.toLowerCase()}`, {});
        show(button, words);
        button.setAttribute("aria-label", words);  // Gradio's words are still there, at size 0
      }
    }
    const language = section.parentElement.querySelector("input[role=combobox]");
    if (language) language.setAttribute("aria-label", say("settings_language", {}));
  }
  let scheduled = false;
  new MutationObserver(() => {
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(() => { scheduled = false; reword(); });
    }
  }).observe(document.documentElement, {
    subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["class"],
  });
})();
</script>"""


def busy_script() -> str:
    """BUSY_SCRIPT with the hub's texts for it, in every language."""
    keys = [key for key in TEXTS.by_language["fr"] if key.startswith(("busy_", "settings_"))] + ["queue_full"]
    words = {language: {key: texts[key] for key in keys} for language, texts in TEXTS.by_language.items()}
    return BUSY_SCRIPT % json.dumps(words, ensure_ascii=False)


def head() -> str:
    """The scripts Gradio runs as the page opens: the language cookie, the ?tab= link, the warm-up
    of a tapped tab, the live regions, the words, French numbers in the number boxes."""
    return (
        LANGUAGE_SCRIPT
        + ON_THIS_COMPUTER_SCRIPT
        + OPEN_REQUESTED_TAB_SCRIPT
        + WARM_UP_TAPPED_TAB_SCRIPT
        + LIVE_REGIONS_SCRIPT
        + busy_script()
        + number_boxes_script()
    )


# Gradio's default theme fails WCAG's contrast (RGAA 3.2) on every tab's main action: white on its
# orange buttons 2.8:1, on its red ones 3.8:1, its grey helper text 1.9:1, the selected tab's orange
# 2.8:1. The same orange, darker where text sits on it or beside it: text reaches 4.5:1 and
# controls and focus 3:1, light and dark (tests/test_contrast.py computes every pair).
THEME_COLOURS = {
    "color_accent": "*primary_700",  # the selected tab's words, the sliders, the checked boxes
    "button_primary_background_fill": "*primary_700",
    "button_primary_background_fill_hover": "*primary_800",
    "button_primary_background_fill_dark": "*primary_700",
    "button_primary_background_fill_hover_dark": "*primary_800",
    "button_cancel_background_fill": "#b91c1c",  # Gradio's red 700 and 800 (its red 500: 3.8:1)
    "button_cancel_background_fill_hover": "#991b1b",
    "body_text_color_subdued": "*neutral_600",
    "input_placeholder_color": "*neutral_500",
    "input_placeholder_color_dark": "*neutral_400",
    "input_border_color_focus": "*color_accent",
    "input_border_color_focus_dark": "*color_accent",
}

# What Gradio's theming API has no argument for: the accent's dark twin (on a dark page the darker
# orange falls to 3.3:1), and the hub's own colours, kept here beside the theme's so that one test
# checks them all. Gradio writes every attribute of its theme as a CSS variable (`hub_notice_text_color`
# as --hub-notice-text-color), its `_dark` twin under .dark.
THEME_EXTRA_COLOURS = {
    "color_accent_dark": "*primary_500",
    "hub_notice_text_color": "#a15c00",  # a note beside a result: « réponse partielle », …
    "hub_notice_text_color_dark": "#f0a040",
    # The sampling chart's bars: the probability before the filters over its track, and the one after
    # over both (it can reach past the first, where the filters raised it).
    "hub_chart_raw_color": "#4a86d8",
    "hub_chart_final_color": "#0b2a66",
    "hub_chart_final_color_dark": "#eff6ff",
}


# Gradio's text sizes (its text_md) in rem rather than px, the same at the browser's default 16 px:
# a reader's larger text (RGAA 10.4, the browser's or the phone's font size) enlarges the whole page.
TEXT_SIZES_REM = {"xxs": 0.5625, "xs": 0.625, "sm": 0.75, "md": 0.875, "lg": 1, "xl": 1.375, "xxl": 1.625}


def theme():
    """Gradio's default theme with text and controls that reach WCAG's contrast, its text sized in
    rem, on the phone's own fonts: no web font to download (~140 KB)."""
    import gradio as gr

    text_size = gr.themes.Size(name="text_md_rem", **{size: f"{rem}rem" for size, rem in TEXT_SIZES_REM.items()})
    hub_theme = gr.themes.Default(font=SYSTEM_FONTS, font_mono=SYSTEM_MONOSPACE_FONTS, text_size=text_size)
    hub_theme = hub_theme.set(**THEME_COLOURS)
    for name, value in THEME_EXTRA_COLOURS.items():
        setattr(hub_theme, name, value)
    return hub_theme


NOT_FOUND_PAGE = """<!doctype html>
<html lang="{language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — Comprendre l'IA générative</title></head>
<body style="font-family: system-ui, sans-serif; margin: 2rem; line-height: 1.5">
<main><h1>{title}</h1><p>{text}</p><p><a href="{hub}">{link}</a></p></main></body></html>"""


async def not_found(request, error):
    """A page nothing answers (a mistyped demo path: /cemantx/): for a browser, a page in its
    language with a link to the whole hub; for anything else, the JSON error Gradio's clients read."""
    from fastapi.exception_handlers import http_exception_handler
    from starlette.responses import HTMLResponse

    if request.method != "GET" or "text/html" not in request.headers.get("accept", ""):
        return await http_exception_handler(request, error)
    language = request_language(request)
    texts = {key: html.escape(TEXTS.get(f"not_found_{key}", language)) for key in ("title", "text", "link")}
    hub = html.escape(request.scope.get("root_path", "") + "/")
    return HTMLResponse(NOT_FOUND_PAGE.format(language=language, hub=hub, **texts), status_code=404)
