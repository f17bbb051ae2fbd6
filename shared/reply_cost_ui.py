"""The page's parts of a reply's cost, for any tab that writes replies (the sampling tab, the
assistant): the script that reads the line under a reply to a screen reader, and the « Pour
situer » accordion with the memory calculator. The logic is in reply_cost.py, the line's HTML in
reply_cost_line.py."""

from __future__ import annotations

import html
import math

import gradio as gr

from shared.hub import Hub
from shared.i18n import LANGUAGES, format_number, request_language
from shared.reply_cost import (
    BYTES_PER_WEIGHT,
    MODEL_PARAMETERS,
    approximate,
    gpus_needed,
    weights_memory_gb,
)
from shared.reply_cost_line import SPOKEN_STYLE
from shared.reply_cost_texts import TEXTS

# A screen reader hears each reply's cost once it is written: a region that is in the page before
# any reply (a region added with its text is not announced), fed with each new line's words.
ANNOUNCE_SCRIPT = f"""() => {{
  if (window.iagenReplyCostAnnouncer) return;  // one per page, whichever tab installs it first
  window.iagenReplyCostAnnouncer = true;
  const live = document.createElement("p");
  live.setAttribute("aria-live", "polite");
  live.setAttribute("style", "{SPOKEN_STYLE}");
  document.body.appendChild(live);
  const told = new WeakSet();
  new MutationObserver(() => {{
    for (const line of document.querySelectorAll(".reply-cost")) {{
      if (told.has(line)) continue;
      told.add(line);
      if (line.closest("[aria-live]")) continue;  // a tab's own live region says it
      const spoken = line.querySelector(".reply-cost-spoken");
      if (spoken) live.textContent = spoken.textContent;
    }}
  }}).observe(document.body, {{childList: true, subtree: true}});
}}"""


def build_context_panel(hub: Hub) -> None:
    """The « Pour situer » accordion: sourced figures, each with what it counts, then the memory
    slide made live (a table for our models and a 175 B one, a calculator for any size). Its texts
    go into the page in both languages (hub.page_texts): two tabs may show it."""
    from gradio.i18n import I18nData

    def page_text(key: str) -> I18nData:
        hub.page_texts.add(key, **{language: TEXTS.get(key, language) for language in LANGUAGES})
        return I18nData(key)

    with gr.Accordion(page_text("reply_cost_context_title"), open=False, elem_classes=["reply-cost-context"]):
        gr.Markdown(page_text("reply_cost_context_intro"))
        gr.Markdown(page_text("reply_cost_context_sources"))
        gr.Markdown(page_text("reply_cost_memory_heading"))
        gr.Markdown(page_text("reply_cost_memory_intro"))
        tables = {language: memory_table_html(language) for language in LANGUAGES}
        gr.HTML(hub.page_texts.add("reply_cost_memory_table", **tables))
        with gr.Row():
            parameters = gr.Number(
                175, label=page_text("reply_cost_parameters"), elem_classes=["reply-cost-parameters"]
            )
            precision = gr.Radio(
                [("float32 · 4", 4), ("bfloat16 · 2", 2), ("int8 · 1", 1), ("int4 · ½", 0.5)],
                value=2,
                label=page_text("reply_cost_precision"),
                elem_classes=["reply-cost-precision"],
            )
        first = {language: _result_html(memory_sentence(175, 2, language)) for language in LANGUAGES}
        result = gr.HTML(hub.page_texts.add("reply_cost_memory_first", **first), elem_classes=["reply-cost-memory"])
    gr.on(
        [parameters.submit, parameters.blur, precision.input],
        memory_answer,
        [parameters, precision],
        result,
        api_visibility="private",
        queue=False,  # arithmetic: no place in the models' queue
    )


def memory_table_html(language: str) -> str:
    """Our models and GPT-3's 175 B: the weights' memory at each precision, and the 80 GB GPUs it
    fills. A row per precision, a column per model: narrow enough for a phone."""
    head = [TEXTS.get("reply_cost_precision", language), *MODEL_PARAMETERS]
    rows = []
    for (name, size), bytes_per_weight in zip(_PRECISIONS, BYTES_PER_WEIGHT.values(), strict=True):
        cells = [f"<th scope='row'{_CELL}>{html.escape(name)} · {size}</th>"]
        for parameters in MODEL_PARAMETERS.values():
            memory = weights_memory_gb(parameters, bytes_per_weight)
            text = TEXTS.get(
                "reply_cost_memory_cell", language, memory=approximate(memory, language), gpus=gpus_needed(memory)
            )
            cells.append(f"<td{_CELL}>{html.escape(text)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    header = "".join(f"<th scope='col'{_CELL}>{html.escape(cell)}</th>" for cell in head)
    caption = html.escape(TEXTS.get("reply_cost_memory_caption", language))
    return (
        f'<div class="reply-cost-table" style="overflow-x:auto"><table style="font-size:0.9em">'
        f'<caption style="text-align:left">{caption}</caption>'
        f"<thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


_CELL = ' style="padding:0.3rem 0.4rem"'  # Gradio's cells are padded for a desktop: 4 columns on a phone
_PRECISIONS = (("float32", "4"), ("bfloat16", "2"), ("int8", "1"), ("int4", "½"))


def memory_sentence(parameters_billions: float, bytes_per_weight: float, language: str) -> str:
    memory = weights_memory_gb(parameters_billions * 1e9, bytes_per_weight)
    return TEXTS.get(
        "reply_cost_memory_result",
        language,
        parameters=_as_typed(parameters_billions, language),
        bytes=_as_typed(bytes_per_weight, language),
        memory=approximate(memory, language),
        gpus=_gpus(memory, language),
    )


def memory_answer(parameters_billions, bytes_per_weight, request: gr.Request) -> str:
    """The calculator: a sentence, or what to type instead (the box keeps what was typed)."""
    language = request_language(request)
    valid = isinstance(parameters_billions, int | float) and math.isfinite(parameters_billions)
    if not valid or not 0.001 <= parameters_billions <= 100_000 or bytes_per_weight not in BYTES_PER_WEIGHT.values():
        return _result_html(TEXTS.get("reply_cost_memory_bad_parameters", language))
    return _result_html(memory_sentence(parameters_billions, bytes_per_weight, language))


def _as_typed(value: float, language: str) -> str:
    """A number the user chose, as exact as typed (up to 3 decimals): 175, 0,5, 1,5."""
    return format_number(value, language, 3).rstrip("0").rstrip(",.")


def _gpus(memory_gb: float, language: str) -> str:
    gpus = gpus_needed(memory_gb)
    return (
        TEXTS.get("reply_cost_gpus_one", language)
        if gpus == 1
        else TEXTS.get("reply_cost_gpus_many", language, gpus=gpus)
    )


def _result_html(sentence: str) -> str:
    return f'<p role="status">{html.escape(sentence)}</p>'
