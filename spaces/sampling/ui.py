"""The Échantillonnage tab: a language model's next-token probabilities, filter by filter; then
step by step, two prompts side by side, in a streamed generation, and in a chat. This file builds
the tab and wires its events; the other files of the folder, one flow each:

- logic.py: the work, Gradio-free (forward passes, the filters' stages, draws, generation);
- models.py: the tab's language models, their passes batched for the room (`TabModels`);
- handlers.py: what each event does (`Handlers`);
- browser_filters.py and filters.js: the filters run in the phone while a slider moves;
- texts.py, render.py and styles.py: the words, the HTML and the look.

Layout: one builder per section returns a small record of its components; `wire` connects them
all in one place to the `Handlers`. On a phone the first screen holds the folded settings (a
one-line summary), the prompt, its buttons and the chart.

Load: the views (next token, comparison) and the streams (generation, chat) run in concurrency
groups of their own (shared/language_models.py), so the cheap tabs keep their own limit; a
slider's move costs no call at all (filters.js).
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from shared.hub import Hub
from shared.hub_ui import UNPROCESSED
from shared.language_models import (
    LANGUAGE_MODELS,
    OFFLINE_CHAT_MODEL,
    STREAMS_CONCURRENCY_ID,
    VIEWS_CONCURRENCY_ID,
    chat_model,
    load_model,
)
from shared.reply_cost_ui import ANNOUNCE_SCRIPT, build_context_panel
from shared.weights import WeightsUnavailable
from spaces.sampling.handlers import DEFAULT_SEED, Handlers
from spaces.sampling.models import (
    COMPLETION_MODEL,
    TabModels,
    language_model,
    model_title,
)
from spaces.sampling.styles import CSS, TAB_SCRIPT
from spaces.sampling.texts import TEXTS

__all__ = ["CSS", "TEXTS", "build", "prepare", "warm_up"]

PRESETS = ("robot", "assistant")  # the course's two chat demos


def prepare(hub: Hub) -> None:
    """The night before (python -m shared.prefetch): both models converted from GGUF, once."""
    for key in LANGUAGE_MODELS:
        load_model(hub, key)


def warm_up(hub: Hub) -> None:
    """Load the completion model, the first one the tab needs (the first time, converting its GGUF
    takes a minute or two); the chat model loads on the first message, except in a lecture hall,
    where both are ready before the room arrives (no student's first chat waits for a load)."""
    keys = (COMPLETION_MODEL, chat_model(hub)) if hub.settings.profile == "lecture" else (COMPLETION_MODEL,)
    for key in keys:
        try:
            language_model(hub, key)
        except WeightsUnavailable:
            pass  # the tab says what is missing; the log says how to get it


# --- the sections ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingsPanel:
    accordion: gr.Accordion
    model: gr.Dropdown
    seed: gr.Number
    temperature: gr.Slider
    top_k: gr.Slider
    top_p: gr.Slider
    min_p: gr.Slider
    repetition_penalty: gr.Slider

    @property
    def filters(self) -> list[gr.Slider]:
        return [self.temperature, self.top_k, self.top_p, self.min_p, self.repetition_penalty]


@dataclass(frozen=True)
class NextTokenPanel:
    steps: gr.State  # this user's logic.Steps: prompt, appended tokens, generator state
    prompt: gr.Textbox
    show: gr.Button
    draw: gr.Button
    undo: gr.Button
    text: gr.HTML
    chart: gr.HTML
    candidates: gr.Radio
    table: gr.HTML
    top_n: gr.Slider
    status: gr.HTML
    data: gr.JSON


@dataclass(frozen=True)
class ComparePanel:
    first: gr.Textbox
    second: gr.Textbox
    button: gr.Button
    view: gr.HTML
    status: gr.HTML
    data: gr.JSON


@dataclass(frozen=True)
class GenerationPanel:
    prompt: gr.Textbox
    max_tokens: gr.Slider
    stop_sequences: gr.Textbox
    button: gr.Button
    stop: gr.Button
    view: gr.HTML
    status: gr.HTML  # the stream's own status: « 12 tokens… », then why it ended
    stopped: gr.HTML  # « Arrêté après 12 tokens. »: apart, so that no late token of the stream writes over it
    data: gr.JSON


@dataclass(frozen=True)
class ChatPanel:
    presets: dict[str, gr.Button]
    system_prompt: gr.Textbox
    conversation: gr.Chatbot
    message: gr.Textbox
    length: gr.Slider
    send: gr.Button
    stop: gr.Button
    status: gr.HTML
    stopped: gr.HTML
    tokens: gr.State  # tokens of the answer being written, for the note after « Arrêter »
    fallback: gr.HTML  # shown when no French assistant can be had: the offline English pack answers


def build_settings(hub: Hub) -> SettingsPanel:
    from spaces.sampling.options import (
        MIN_P_RANGE,
        REPETITION_PENALTY_RANGE,
        SEED_RANGE,
        TEMPERATURE_RANGE,
        TEMPERATURE_STEP,
        TOP_K_MAX,
        TOP_P_RANGE,
        SamplingSettings,
    )

    # Some filters on at first, so that the table shows tokens removed, and some off. The folded
    # accordion's label is their summary (styles.TAB_SCRIPT keeps it up to date).
    defaults = SamplingSettings(temperature=0.8, top_k=5, top_p=0.9)
    with gr.Accordion(TEXTS.label("sampling_settings_summary"), open=False, elem_id="sampling-settings") as accordion:
        with gr.Row():
            model = gr.Dropdown(
                [(model_title(hub, key), key) for key in LANGUAGE_MODELS],
                value=COMPLETION_MODEL,
                label=TEXTS.label("sampling_model"),
                elem_id="sampling-model",
            )
            seed = gr.Number(
                DEFAULT_SEED,
                precision=0,
                minimum=SEED_RANGE[0],
                maximum=SEED_RANGE[1],
                label=TEXTS.label("sampling_seed"),
                elem_id="sampling-seed",
            )

        def slider(name: str, low: float, high: float, value: float, step: float) -> gr.Slider:
            return gr.Slider(
                low,
                high,
                value=value,
                step=step,
                label=TEXTS.label(f"sampling_{name}"),
                info=TEXTS.label(f"sampling_{name}_info"),
                buttons=[],  # no reset button: its tooltip is Gradio's English
                elem_id=f"sampling-{name.replace('_', '-')}",
            )

        with gr.Row():
            temperature = slider("temperature", *TEMPERATURE_RANGE, defaults.temperature, TEMPERATURE_STEP)
            top_k = slider("top_k", 0, TOP_K_MAX, defaults.top_k, 1)
            top_p = slider("top_p", *TOP_P_RANGE, defaults.top_p, 0.01)
        with gr.Row():
            min_p = slider("min_p", *MIN_P_RANGE, defaults.min_p, 0.01)
            repetition_penalty = slider(
                "repetition_penalty", *REPETITION_PENALTY_RANGE, defaults.repetition_penalty, 0.05
            )
    return SettingsPanel(accordion, model, seed, temperature, top_k, top_p, min_p, repetition_penalty)


def build_next_token() -> NextTokenPanel:
    from spaces.sampling.options import FRENCH_PROMPT, TOP_N_RANGE

    steps = gr.State(None)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            prompt = gr.Textbox(
                FRENCH_PROMPT, label=TEXTS.label("sampling_prompt"), lines=2, max_lines=8, elem_id="sampling-prompt"
            )
            with gr.Row():
                show = gr.Button(
                    TEXTS.label("sampling_show"), variant="primary", size="sm", min_width=90, elem_id="sampling-show"
                )
                draw = gr.Button(TEXTS.label("sampling_draw"), size="sm", min_width=90, elem_id="sampling-draw")
                undo = gr.Button(TEXTS.label("sampling_undo"), size="sm", min_width=90, elem_id="sampling-undo")
            text = gr.HTML(elem_id="sampling-text")  # empty (and hidden, styles.CSS) until a token is appended
        with gr.Column(scale=1, min_width=300):
            chart = gr.HTML(elem_id="sampling-chart")
            candidates = gr.Radio(
                [], label=TEXTS.label("sampling_choose"), visible=False, elem_id="sampling-candidates"
            )
    table = gr.HTML(elem_id="sampling-table")
    top_n = gr.Slider(
        *TOP_N_RANGE, value=10, step=1, label=TEXTS.label("sampling_top_n"), buttons=[], elem_id="sampling-top-n"
    )
    status = gr.HTML(elem_id="sampling-next-status")
    data = gr.JSON(visible=False)
    gr.Markdown(TEXTS.label("sampling_intro"), elem_classes=["sampling-legend"])
    return NextTokenPanel(steps, prompt, show, draw, undo, text, chart, candidates, table, top_n, status, data)


def build_compare() -> ComparePanel:
    gr.Markdown(TEXTS.label("sampling_compare_heading"))
    gr.Markdown(TEXTS.label("sampling_compare_intro"), elem_classes=["sampling-legend"])
    with gr.Row():
        first = gr.Textbox(
            TEXTS.get("sampling_compare_prompt_a", "fr"),
            label=TEXTS.label("sampling_compare_first"),
            max_lines=3,
            elem_id="sampling-compare-first",
        )
        second = gr.Textbox(
            TEXTS.get("sampling_compare_prompt_b", "fr"),
            label=TEXTS.label("sampling_compare_second"),
            max_lines=3,
            elem_id="sampling-compare-second",
        )
    button = gr.Button(TEXTS.label("sampling_compare"), variant="primary", elem_id="sampling-compare")
    view = gr.HTML(elem_id="sampling-compare-view")
    status = gr.HTML(elem_id="sampling-compare-status")
    data = gr.JSON(visible=False)
    return ComparePanel(first, second, button, view, status, data)


def build_generation() -> GenerationPanel:
    gr.Markdown(TEXTS.label("sampling_generate_heading"))
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            prompt = gr.Textbox(
                TEXTS.get("sampling_default_generate_prompt", "fr"),
                label=TEXTS.label("sampling_generate_prompt"),
                lines=3,
                max_lines=12,
                elem_id="sampling-generate-prompt",
            )
            max_tokens = gr.Slider(
                1,
                200,
                value=40,
                step=1,
                label=TEXTS.label("sampling_max_tokens"),
                buttons=[],
                elem_id="sampling-max-tokens",
            )
            stop_sequences = gr.Textbox(
                "",
                label=TEXTS.label("sampling_stop_sequences"),
                lines=1,
                max_lines=4,
                elem_id="sampling-stop-sequences",
            )
            with gr.Row():
                button = gr.Button(TEXTS.label("sampling_generate"), variant="primary", elem_id="sampling-generate")
                stop = gr.Button(TEXTS.label("sampling_stop"), elem_id="sampling-stop-generation")
        with gr.Column(scale=2, min_width=300):
            gr.Markdown(TEXTS.label("sampling_generate_legend"), elem_classes=["sampling-legend"])
            view = gr.HTML(elem_id="sampling-generated", elem_classes=["sampling-generated"])
            status = gr.HTML(elem_id="sampling-generate-status")
            stopped = gr.HTML(visible=False, elem_id="sampling-generate-stopped")
            data = gr.JSON(visible=False)
    return GenerationPanel(prompt, max_tokens, stop_sequences, button, stop, view, status, stopped, data)


def build_chat(hub: Hub) -> ChatPanel:
    gr.Markdown(TEXTS.label("sampling_chat_heading"))
    gr.Markdown(TEXTS.label("sampling_chat_intro"))
    fallback = gr.HTML(visible=False, elem_id="sampling-chat-fallback")
    gr.Markdown(TEXTS.label("sampling_chat_mistakes"), elem_classes=["sampling-mistakes"])
    gr.Markdown(TEXTS.label("sampling_presets"), elem_classes=["sampling-legend"])
    with gr.Row():
        presets = {
            name: gr.Button(TEXTS.label(f"sampling_preset_{name}"), size="sm", elem_id=f"sampling-preset-{name}")
            for name in PRESETS
        }
    with gr.Accordion(TEXTS.label("sampling_system_prompt"), open=False, elem_id="sampling-system-accordion"):
        system_prompt = gr.Textbox(
            TEXTS.get("sampling_preset_assistant_system", "fr"),
            show_label=False,
            lines=2,
            max_lines=6,
            elem_id="sampling-system-prompt",
        )
    length = gr.Slider(
        1,
        512,
        value=200,
        step=1,
        label=TEXTS.label("sampling_chat_length"),
        buttons=[],
        elem_id="sampling-chat-length",
    )
    conversation = gr.Chatbot(label=model_title(hub, OFFLINE_CHAT_MODEL), height=360, elem_id="sampling-chat")
    message = gr.Textbox(label=TEXTS.label("sampling_message"), max_lines=6, elem_id="sampling-message")
    with gr.Row():
        send = gr.Button(TEXTS.label("sampling_send"), variant="primary", min_width=90, elem_id="sampling-send")
        stop = gr.Button(TEXTS.label("sampling_stop"), min_width=90, elem_id="sampling-stop-chat")
    status = gr.HTML(elem_id="sampling-chat-status")
    stopped = gr.HTML(visible=False, elem_id="sampling-chat-stopped")
    return ChatPanel(
        presets, system_prompt, conversation, message, length, send, stop, status, stopped, gr.State(0), fallback
    )


# --- the tab ------------------------------------------------------------------------------------------


def build(hub: Hub) -> None:
    handlers = Handlers(hub, TabModels(hub))
    notice = gr.HTML(visible=False, elem_id="sampling-notice")
    settings = build_settings(hub)
    next_token = build_next_token()
    compare = build_compare()
    generation = build_generation()
    chat = build_chat(hub)
    # What a reply costs: its line under each generation and chat answer (handlers.py), read to a
    # screen reader once written; « Pour situer » and the memory calculator under the chat.
    build_context_panel(hub)
    gr.on(None, None, None, None, js=ANNOUNCE_SCRIPT)
    wire(hub, handlers, notice, settings, next_token, compare, generation, chat)


def wire(
    hub: Hub,
    handlers: Handlers,
    notice: gr.HTML,
    settings: SettingsPanel,
    next_token: NextTokenPanel,
    compare: ComparePanel,
    generation: GenerationPanel,
    chat: ChatPanel,
) -> None:
    """Every event of the tab, in one place."""
    views = dict(concurrency_id=VIEWS_CONCURRENCY_ID, concurrency_limit=hub.settings.lm_concurrency)
    streams = dict(concurrency_id=STREAMS_CONCURRENCY_ID, concurrency_limit=hub.settings.lm_stream_concurrency)

    # Page load: the browser side only (settings summary, Enter in a number box, pop-ups); what the
    # server says (texts in the page's language, what it lacks) is in the page since it started.
    gr.on(None, None, None, None, js=TAB_SCRIPT)
    hub.at_start(lambda: handlers.first_values(notice, settings, next_token, compare, generation, chat))
    if handlers.models.process is not None:
        hub.at_start(handlers.models.start_process)

    # The four step-by-step endpoints are one handler; what differs is given as constants (State
    # inputs are not part of an endpoint's API: each keeps its own signature).
    def constant(value) -> gr.State:
        return gr.State(value)

    view_inputs = [settings.model, next_token.prompt, *settings.filters, next_token.top_n]
    view_outputs = [
        next_token.steps,
        next_token.text,
        next_token.chart,
        next_token.table,
        next_token.candidates,
        next_token.data,
        next_token.status,
    ]
    # The distribution follows every change of the text, the model or the number of candidates.
    # The filters' sliders redraw it in the browser (filters.js), which calls this endpoint, once
    # a slider is released, only where it cannot compute the view itself.
    gr.on(
        [
            next_token.show.click,
            next_token.prompt.submit,
            settings.model.input,  # a choice of the student, not the page load's
            next_token.top_n.release,
        ],
        handlers.next_token,
        [constant("show"), constant(None), *view_inputs, constant(None), next_token.steps],
        view_outputs,
        api_name="next_token",
        trigger_mode="always_last",
        **views,
        **UNPROCESSED,
    )
    next_token.draw.click(
        handlers.next_token,
        [constant("draw"), constant(None), *view_inputs, settings.seed, next_token.steps],
        view_outputs,
        api_name="draw_token",
        **views,
        **UNPROCESSED,
    )
    next_token.undo.click(
        handlers.next_token,
        [constant("undo"), constant(None), *view_inputs, constant(None), next_token.steps],
        view_outputs,
        api_name="undo_token",
        **views,
        **UNPROCESSED,
    )
    next_token.candidates.input(
        handlers.next_token,
        [constant("choose"), next_token.candidates, *view_inputs, constant(None), next_token.steps],
        view_outputs,
        api_name="choose_token",
        **views,
    )

    gr.on(
        [compare.button.click, compare.first.submit, compare.second.submit],
        handlers.compare,
        [settings.model, compare.first, compare.second],
        [compare.view, compare.data, compare.status],
        api_name="compare_prompts",
        trigger_mode="always_last",
        **views,
        **UNPROCESSED,
    )

    generate_event = generation.button.click(
        handlers.starting, None, [generation.status, generation.stopped], api_visibility="private", queue=False
    ).then(
        handlers.generate,
        [
            settings.model,
            generation.prompt,
            generation.max_tokens,
            generation.stop_sequences,
            *settings.filters,
            settings.seed,
        ],
        [generation.view, generation.data, generation.status],
        api_name="generate",
        show_progress_on=generation.view,  # one place for the queue's words, where the text will come
        **streams,
    )
    generation.stop.click(
        handlers.stopped_generation,
        generation.data,
        [generation.status, generation.stopped],
        cancels=[generate_event],
        api_visibility="private",
        queue=False,
    )

    chat_event = gr.on(
        [chat.send.click, chat.message.submit],
        handlers.starting,
        None,
        [chat.status, chat.stopped],
        api_visibility="private",
        queue=False,
    ).then(
        handlers.chat,
        [chat.message, chat.conversation, chat.system_prompt, chat.length, *settings.filters, settings.seed],
        [chat.conversation, chat.message, chat.status, chat.tokens],
        api_name="chat",
        show_progress_on=chat.conversation,
        **streams,
    )
    chat.stop.click(
        handlers.stopped,
        chat.tokens,
        [chat.status, chat.stopped],
        cancels=[chat_event],
        api_visibility="private",
        queue=False,
    )
    for name, button in chat.presets.items():
        button.click(
            handlers.preset,
            constant(name),
            [chat.system_prompt, chat.message, chat.conversation, chat.status],
            api_visibility="private",
            queue=False,
        )
