"""What the Seg2Sat tab shows, apart from its wiring: its CSS and the HTML it renders (status line,
notices, durations, the signal / noise shares). Gradio-free."""

from __future__ import annotations

import html

from shared.flair import LandCoverClass
from shared.i18n import format_number
from spaces.seg2sat import logic, palette
from spaces.seg2sat.texts import TEXTS

CSS = """
/* Texts of the canvas come in both languages; the page's shows (html lang follows Gradio's choice). */
html:not([lang|="en"]) .seg2sat-bilingual [lang="en"], html[lang|="en"] .seg2sat-bilingual [lang="fr"] { display: none !important; }
.seg2sat-status p { margin: 0.2rem 0; }
.seg2sat-status .notice { color: var(--hub-notice-text-color); }
.seg2sat-status progress { width: 100%; height: 0.8rem; accent-color: var(--color-accent); }
.seg2sat-status details { font-size: 0.9em; opacity: 0.85; }
#seg2sat-estimate p { margin: 0; font-size: 0.9em; }
/* Small square thumbnails, as many per row as fit, on a phone too (Gradio's are at least 100 px). */
#seg2sat-strip .grid-container {
  grid-template-columns: repeat(auto-fill, minmax(2.8rem, 1fr)); grid-auto-rows: auto; }
#seg2sat-strip .grid-wrap { min-height: 0; }
.seg2sat-shares { margin: 0.3rem 0; }
.seg2sat-shares .bar { display: flex; height: 1.1rem; border-radius: 4px; overflow: hidden; font-size: 0.75em; }
.seg2sat-shares .bar span { display: flex; align-items: center; justify-content: center; overflow: hidden; white-space: nowrap; }
.seg2sat-shares .signal { background: #2e7d32; color: white; }
.seg2sat-shares .noise { background: repeating-linear-gradient(45deg, #777, #777 3px, #aaa 3px, #aaa 6px); color: black; }
.seg2sat-shares p { margin: 0.2rem 0 0; font-size: 0.9em; }
"""


def bilingual(key: str, **values: object) -> str:
    """A text in both languages for HTML drawn once for everyone (the canvas): CSS shows the page's."""
    return "".join(
        f'<span lang="{language}">{html.escape(TEXTS.get(key, language, **values))}</span>' for language in ("fr", "en")
    )


def class_name(land_cover: LandCoverClass, language: str) -> str:
    return land_cover.french if language == "fr" else land_cover.english


def notice_text(notice: logic.Notice, language: str) -> str:
    values = {
        name: class_name(value, language) if isinstance(value, LandCoverClass) else value
        for name, value in notice.values.items()
    }
    if "percent" in values:
        values["percent"] = format_number(values["percent"], language, decimals=1)
    if "steps" in values:
        values["steps"] = format_number(
            values["steps"], language, decimals=0 if values["steps"] == int(values["steps"]) else 1
        )
    if "path" in values:  # a text key: the path's name in the page's language
        values["path"] = TEXTS.get(values["path"], language)
    for bound in ("low", "high"):
        if bound in values:
            values[bound] = format_number(int(values[bound]), language)
    return TEXTS.get(notice.key, language, **values)


def duration_text(seconds: float, language: str) -> str:
    """« 40 s », « 3 min »: rounded up, as a person says it."""
    unit, count = logic.rounded_duration(seconds)
    return TEXTS.get(f"seg2sat_{unit}", language, count=count)


def status_html(
    lines: list[str],
    notices: list[str],
    language: str,
    progress: tuple[int, int] | None = None,
    remaining_seconds: float | None = None,
    prompt: str = "",
) -> str:
    """What the tab says about a generation: a bar of the steps done while it runs (and the time
    left, on a CPU), the timing at the end, notices about the sketch, and the English prompt sent
    to the model folded away (for the curious: it is not the page's language)."""
    paragraphs = []
    if progress is not None:
        done, total = progress
        label = TEXTS.get("seg2sat_denoising", language, step=done, total=total)
        if remaining_seconds is not None:
            label += " — " + TEXTS.get(
                "seg2sat_remaining", language, duration=duration_text(remaining_seconds, language)
            )
        # Not said at each step: the tab's status is a polite live region (ui.py), and a screen
        # reader hears the result, or a refusal, once.
        paragraphs.append(
            f'<p aria-hidden="true"><progress max="{total}" value="{done}"></progress><br>{html.escape(label)}</p>'
        )
    paragraphs += [f"<p>{html.escape(line)}</p>" for line in lines]
    paragraphs += [f'<p class="notice">{html.escape(notice)}</p>' for notice in notices]
    if prompt:
        summary = html.escape(TEXTS.get("seg2sat_prompt_used", language))
        paragraphs.append(f'<details><summary>{summary}</summary><p lang="en">{html.escape(prompt)}</p></details>')
    return f'<div class="seg2sat-status">{"".join(paragraphs)}</div>'


def share_values(t: int, language: str, config: dict = logic.SD21_SCHEDULER_CONFIG) -> dict:
    """Step t, the steps, and the shares of the image and of the noise at t, as the page writes them."""
    signal = 100 * logic.signal_share(config, t)
    return {
        "t": t,
        "total": format_number(int(config["num_train_timesteps"]), language),
        "signal": format_number(signal, language, decimals=1),
        "noise": format_number(100 - signal, language, decimals=1),
    }


def noised_alt(t: int, language: str) -> str:
    """The noised image's text alternative: its step and what is left of the photo."""
    return TEXTS.get("seg2sat_noised_alt", language, **share_values(t, language))


def map_alt(key: str, sketch, language: str) -> str:
    """An image made from a map, said by its map (« Image générée d'après une carte : feuillu
    40 %, eau 25 % »): the classes that cover at least half a percent of it, largest first."""
    shares = ", ".join(
        TEXTS.get(
            "seg2sat_class_share",
            language,
            name=class_name(land_cover, language),
            percent=format_number(round(100 * share), language),
        )
        for land_cover, share in palette.class_shares(sketch)
        if share >= 0.005
    )
    return TEXTS.get(key, language, shares=shares)


def shares_html(noised: logic.NoisedImage, language: str) -> str:
    """ᾱ_t and 1 − ᾱ_t as a bar and a sentence."""
    signal = 100 * noised.signal
    noise = 100 - signal
    values = share_values(noised.t, language)
    label_signal = html.escape(TEXTS.get("seg2sat_signal", language))
    label_noise = html.escape(TEXTS.get("seg2sat_noise", language))
    return (
        '<div class="seg2sat-shares">'
        f'<div class="bar"><span class="signal" style="width:{signal:.2f}%">{label_signal}</span>'
        f'<span class="noise" style="width:{noise:.2f}%">{label_noise}</span></div>'
        f"<p>{html.escape(TEXTS.get('seg2sat_shares', language, **values))}</p></div>"
    )
