"""The « De GPT-3 à ChatGPT » tab: one request, a base model and its instruct version side by side
(on a phone, one under the other), both replies streaming. logic.py does the work, texts.py holds
the words; this file builds the tab, says what each event does, and wires them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import gradio as gr

from shared.gpu import gpu_task, on_zerogpu
from shared.hub import Hub
from shared.hub_ui import UNPROCESSED, notice_html
from shared.i18n import LANGUAGES, format_number, request_language
from shared.language_models import (
    STREAMS_CONCURRENCY_ID,
    end_token_ids,
    model_title,
    shared_model,
    shared_tokenizer,
)
from shared.reply_cost import REPLY_COSTS
from shared.reply_cost_line import reply_cost_html
from shared.reply_cost_ui import ANNOUNCE_SCRIPT, build_context_panel
from shared.weights import WeightsUnavailable
from spaces.assistant import logic
from spaces.assistant.texts import TEXTS

__all__ = ["CSS", "TEXTS", "build", "warm_up"]

PRESETS = ("question", "robot", "instruction")  # the course's examples

CSS = """
#tab-assistant .assistant-reply textarea { font-size: 1rem; line-height: 1.45; }
#tab-assistant .assistant-name p { margin: 0; font-weight: 600; }
#tab-assistant .assistant-status p { margin: 0.2rem 0; }
"""


class Models:
    """The tab's two models through the hub's shared cache (the chat's Qwen3 weights are the same
    copy), their passes batched by one worker (shared/batching.py): two visitors at once share
    their forward passes; direct on ZeroGPU, where the GPU belongs to each decorated call."""

    def __init__(self, hub: Hub):
        from shared.batching import Batcher, KeyValueCaches, ScoresCache

        self.hub = hub
        # Streams only: no scores are kept, and each stream holds its own key/value cache.
        self.batcher = Batcher(ScoresCache(0), KeyValueCaches(0), max_rows=2 * hub.settings.lm_stream_concurrency)

    @functools.cached_property
    def pair(self) -> logic.Pair | None:
        """The best pair this server can have, chosen once."""
        return logic.best_pair(lambda key: self.hub.weights.unavailable(key) is None)

    def stream(self, key: str, prompt: str, instruct: bool, max_new_tokens: int, seed: int, progress, language):
        """The texts of one reply as its tokens come (raises WeightsUnavailable)."""
        from shared.batching import DirectPasses

        tokenizer = shared_tokenizer(self.hub, key, progress, language)
        model = shared_model(self.hub, key, progress, language)
        ids = (logic.instruct_prompt_ids if instruct else logic.base_prompt_ids)(tokenizer, prompt)
        steps = logic.ReplySteps(tokenizer, end_token_ids(model, tokenizer, instruct), max_new_tokens, seed)
        if on_zerogpu():
            return DirectPasses(model).stream(ids, steps)
        return self.batcher.for_model(model, (key, self.hub.weights.version(key))).stream(ids, steps)


@dataclass
class Panel:
    prompt: gr.Textbox
    presets: dict[str, gr.Button]
    send: gr.Button
    stop: gr.Button
    max_new_tokens: gr.Slider
    seed: gr.Number
    notice: gr.HTML
    base_name: gr.Markdown
    base_text: gr.Textbox
    instruct_name: gr.Markdown
    instruct_text: gr.Textbox
    cost: gr.HTML
    status: gr.HTML


def names(pair: logic.Pair, hub: Hub, language: str) -> tuple[str, str]:
    """What each reply's heading says: the model, and what it is."""
    instruct_key = "assistant_instruct_name" if pair.same_network else "assistant_instruct_name_other"
    return (
        TEXTS.get("assistant_base_name", language, model=model_title(hub, pair.base)),
        TEXTS.get(instruct_key, language, model=model_title(hub, pair.instruct)),
    )


def cost_text(pair: logic.Pair, hub: Hub, replies: tuple[logic.Reply, logic.Reply], language: str) -> str:
    """While the replies are written: each one's tokens and CPU seconds, a line each (HTML)."""
    import html

    return "".join(
        "<p>"
        + html.escape(
            TEXTS.get(
                "assistant_cost",
                language,
                model=model_title(hub, key),
                tokens=format_number(reply.cost.tokens, language),
                seconds=format_number(reply.cost.cpu_seconds, language, 1),
            )
        )
        + "</p>"
        for key, reply in zip((pair.base, pair.instruct), replies, strict=True)
    )


def final_cost_html(pair: logic.Pair, hub: Hub, measures, language: str) -> str:
    """Once both replies ended: each one's cost line (shared/reply_cost.py: energy, CO2e, the same
    text by hosted models), under its model's name."""
    import html

    return "".join(
        f"<p><strong>{html.escape(model_title(hub, key))}</strong></p>{reply_cost_html(measure.cost, language)}"
        for key, measure in zip((pair.base, pair.instruct), measures, strict=True)
    )


def status_html(text: str) -> str:
    return f'<div class="assistant-status"><p>{text}</p></div>' if text else ""  # in a live region (build_panel)


class Handlers:
    def __init__(self, hub: Hub, models: Models):
        self.hub = hub
        self.models = models

    @gpu_task(duration=120)
    def base_vs_instruct(self, prompt, max_new_tokens, seed, request: gr.Request, progress=gr.Progress()):
        """The same prompt to the base model and to its instruct version, both replies streamed:
        (base text, instruct text, base name, instruct name, cost, status)."""
        import html

        language = request_language(request)
        pair = self.models.pair
        if pair is None:
            yield "", "", "", "", "", status_html(html.escape(TEXTS.get("assistant_no_models", language)))
            return
        base_name, instruct_name = names(pair, self.hub, language)
        try:
            prompt, max_new_tokens, seed = logic.checked_request(prompt, max_new_tokens, seed)
        except logic.BadInput as bad:
            values = dict(bad.values)
            if "setting" in values:
                values["setting"] = TEXTS.get(f"assistant_{values['setting']}", language)
            for name in ("count", "limit", "low", "high"):
                if name in values:
                    values[name] = format_number(values[name], language)
            message = html.escape(TEXTS.get(bad.key, language, **values))
            yield gr.skip(), gr.skip(), base_name, instruct_name, gr.skip(), status_html(message)
            return
        try:
            streams = [
                logic.measured_reply(
                    self.models.stream(key, prompt, instruct, max_new_tokens, seed, progress, language)
                )
                for key, instruct in ((pair.base, False), (pair.instruct, True))
            ]
        except WeightsUnavailable:
            yield (
                "",
                "",
                base_name,
                instruct_name,
                "",
                status_html(html.escape(TEXTS.get("assistant_no_models", language))),
            )
            return
        writing = status_html(html.escape(TEXTS.get("assistant_writing", language)))
        replies = (logic.Reply(), logic.Reply())
        # Both replies measured at once: their passes are batched, the meter shares the time between them.
        with REPLY_COSTS.measure() as base_measure, REPLY_COSTS.measure() as instruct_measure:
            for replies in logic.side_by_side(streams):
                base_measure.tokens, instruct_measure.tokens = (reply.cost.tokens for reply in replies)
                yield (
                    replies[0].text,
                    replies[1].text,
                    base_name,
                    instruct_name,
                    cost_text(pair, self.hub, replies, language),
                    writing,
                )
        done = status_html(html.escape(TEXTS.get("assistant_done", language)))
        cost = final_cost_html(pair, self.hub, (base_measure, instruct_measure), language)
        yield replies[0].text, replies[1].text, base_name, instruct_name, cost, done

    def preset(self, name: str, request: gr.Request):
        return TEXTS.get(f"assistant_preset_{name}_text", request_language(request))

    def first_values(self, panel: Panel) -> None:
        """As the hub starts: each model named in its heading, in every language, and what this
        server lacks (the offline pair of two networks, or no models at all) said in one sentence."""
        pair = self.models.pair
        if pair is None:
            sentences = {language: notice_html(TEXTS.get("assistant_no_models", language)) for language in LANGUAGES}
            panel.notice.value, panel.notice.visible = (
                self.hub.page_texts.add("assistant_availability", **sentences),
                True,
            )
            panel.send.interactive = False
            return
        by_language = {language: names(pair, self.hub, language) for language in LANGUAGES}
        panel.base_name.value = self.hub.page_texts.add(
            "assistant_first_base_name", **{language: both[0] for language, both in by_language.items()}
        )
        panel.instruct_name.value = self.hub.page_texts.add(
            "assistant_first_instruct_name", **{language: both[1] for language, both in by_language.items()}
        )
        if pair.instruct in logic.ENGLISH_MODELS:  # its replies are in English (RGAA 8.7, shared/hub_page.py)
            panel.instruct_text.elem_classes = [*(panel.instruct_text.elem_classes or []), "hub-lang-en"]
        if not pair.same_network:
            sentences = {
                language: notice_html(
                    TEXTS.get(
                        "assistant_offline_pair",
                        language,
                        base=model_title(self.hub, pair.base),
                        instruct=model_title(self.hub, pair.instruct),
                    )
                )
                for language in LANGUAGES
            }
            panel.notice.value, panel.notice.visible = (
                self.hub.page_texts.add("assistant_availability", **sentences),
                True,
            )
        panel.prompt.value = str(TEXTS.label("assistant_preset_question_text"))


def warm_up(hub: Hub) -> None:
    """In a lecture hall, both models loaded before the room arrives."""
    if hub.settings.profile != "lecture":
        return
    pair = logic.best_pair(lambda key: hub.weights.unavailable(key) is None)
    for key in (pair.base, pair.instruct) if pair else ():
        try:
            shared_tokenizer(hub, key)
            shared_model(hub, key)
        except WeightsUnavailable:
            pass  # the tab says what is missing; the log says how to get it


def reply_column(side: str) -> tuple[gr.Markdown, gr.Textbox]:
    """One model's column: its name, then its reply as it streams (`side`: base or instruct)."""
    with gr.Column(min_width=280):
        name = gr.Markdown(elem_classes=["assistant-name"], elem_id=f"assistant-{side}-name")
        text = gr.Textbox(
            label=TEXTS.label(f"assistant_{side}_heading"),
            lines=6,
            max_lines=16,
            interactive=False,
            elem_classes=["assistant-reply"],
            elem_id=f"assistant-{side}-text",
        )
    return name, text


def build_panel() -> Panel:
    gr.Markdown(TEXTS.label("assistant_intro"))
    notice = gr.HTML(visible=False, elem_id="assistant-notice")
    prompt = gr.Textbox(label=TEXTS.label("assistant_prompt"), lines=2, max_lines=8, elem_id="assistant-prompt")
    gr.Markdown(TEXTS.label("assistant_presets"))
    with gr.Row():
        presets = {
            name: gr.Button(TEXTS.label(f"assistant_preset_{name}"), size="sm", elem_id=f"assistant-preset-{name}")
            for name in PRESETS
        }
    with gr.Row():
        send = gr.Button(TEXTS.label("assistant_send"), variant="primary", min_width=120, elem_id="assistant-send")
        stop = gr.Button(TEXTS.label("assistant_stop"), min_width=90, elem_id="assistant-stop")
    with gr.Accordion(TEXTS.label("assistant_settings"), open=False, elem_id="assistant-settings"):
        max_new_tokens = gr.Slider(
            *logic.NEW_TOKENS_RANGE,
            value=logic.DEFAULT_NEW_TOKENS,
            step=1,
            label=TEXTS.label("assistant_max_new_tokens"),
            buttons=[],
            elem_id="assistant-max-new-tokens",
        )
        seed = gr.Number(
            logic.DEFAULT_SEED,
            label=TEXTS.label("assistant_seed"),
            minimum=logic.SEED_RANGE[0],
            maximum=logic.SEED_RANGE[1],
            precision=0,
            elem_id="assistant-seed",
        )
    status = gr.HTML(elem_id="assistant-status", elem_classes=["hub-live"])  # « … écrivent », then « terminé »
    # Side by side on a wide screen; on a phone the columns stack, the base model first.
    with gr.Row(equal_height=False):
        base_name, base_text = reply_column("base")
        instruct_name, instruct_text = reply_column("instruct")
    cost = gr.HTML(elem_id="assistant-cost")
    return Panel(
        prompt,
        presets,
        send,
        stop,
        max_new_tokens,
        seed,
        notice,
        base_name,
        base_text,
        instruct_name,
        instruct_text,
        cost,
        status,
    )


def build(hub: Hub) -> None:
    handlers = Handlers(hub, Models(hub))
    panel = build_panel()
    hub.at_start(lambda: handlers.first_values(panel))
    outputs = [panel.base_text, panel.instruct_text, panel.base_name, panel.instruct_name, panel.cost, panel.status]
    replying = gr.on(
        [panel.send.click, panel.prompt.submit],
        handlers.base_vs_instruct,
        [panel.prompt, panel.max_new_tokens, panel.seed],
        outputs,
        api_name="base_vs_instruct",
        show_progress_on=[panel.base_text, panel.instruct_text],
        concurrency_id=STREAMS_CONCURRENCY_ID,
        concurrency_limit=hub.settings.lm_stream_concurrency,
        **UNPROCESSED,  # the handler checks what it is sent, and answers a bad number in the page's language
    )
    panel.stop.click(None, None, None, cancels=[replying], api_visibility="private", queue=False)
    build_context_panel(hub)  # « Pour situer »: sourced figures and the memory slide
    gr.on(None, None, None, None, js=ANNOUNCE_SCRIPT)  # each reply's cost read to a screen reader
    for name, button in panel.presets.items():
        button.click(handlers.preset, gr.State(name), panel.prompt, api_visibility="private", queue=False)
