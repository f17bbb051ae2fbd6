"""The Échantillonnage tab: a language model's next-token probabilities, filter by filter; then
step by step, two prompts side by side, in a streamed generation, and in a chat
(spaces/sampling/logic.py does the work; texts.py, render.py and styles.py hold the words, the
HTML and the look).

Layout: one builder per section returns a small record of its components; `wire` connects them
all in one place to the `Handlers`. On a phone the first screen holds the folded settings (a
one-line summary), the prompt, its buttons and the chart.

Load: the language models' forward passes go through one `shared.batching.Batcher` per hub, so
a room asking at once shares batched passes, and the next-token scores of a context are kept:
slider moves, redraws and undos cost no forward pass. The views (next token, comparison) and the
streams (generation, chat) run in concurrency groups of their own (shared/language_models.py),
so the cheap tabs keep their own limit.
"""

from __future__ import annotations

import html
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import PurePosixPath

import gradio as gr

from shared.gpu import gpu_task, on_zerogpu
from shared.hub import Hub
from shared.hub_ui import notice_html
from shared.i18n import LANGUAGES, format_number, request_language
from shared.language_models import (
    LANGUAGE_MODELS,
    LOADING,
    STREAMS_CONCURRENCY_ID,
    VIEWS_CONCURRENCY_ID,
    load_model,
    load_phase,
    shared_model,
    shared_tokenizer,
)
from shared.model_cache import LOADED
from shared.weights import WeightsUnavailable
from spaces.sampling import render
from spaces.sampling.styles import CSS, SUMMARY_JS, TAB_SCRIPT
from spaces.sampling.texts import TEXTS

__all__ = ["CSS", "TEXTS", "build", "prepare", "warm_up"]

COMPLETION_MODEL = "gemma3_270m"  # fluent French, a base model: it continues a text
CHAT_MODEL = "smollm2_135m_instruct"  # has a chat template
DEFAULT_SEED = 42
COMPARED_TOKENS = 8  # per prompt, its most likely next tokens in the comparison
PRESETS = ("robot", "assistant")  # the course's two chat demos


def model_title(hub: Hub, key: str) -> str:
    """The model's name; for another model set with IAGEN_MODEL_<KEY>, its name without the
    organisation or the folders (Qwen/Qwen2.5-0.5B: Qwen2.5-0.5B): no ids or paths for a student."""
    override = hub.settings.model_overrides.get(key, "").rstrip("/")
    return PurePosixPath(override).name if override else LANGUAGE_MODELS[key].label


def language_model(hub: Hub, key: str, progress=None, language: str = "fr"):
    """The model and its tokenizer through the shared cache (the tokenizer tab shows the same
    copy), with direct forward passes (the tab's own go through its batcher: TabModels)."""
    from spaces.sampling import logic

    tokenizer = shared_tokenizer(hub, key, progress, language)
    return logic.LanguageModel(shared_model(hub, key, progress, language), tokenizer)


def prepare(hub: Hub) -> None:
    """The night before (python -m shared.prefetch): both models converted from GGUF, once."""
    for key in LANGUAGE_MODELS:
        load_model(hub, key)


def warm_up(hub: Hub) -> None:
    """Load the completion model, the first one the tab needs (the first time, converting its GGUF
    takes a minute or two); the chat model loads on the first message, except in a lecture hall,
    where both are ready before the room arrives (no student's first chat waits for a load)."""
    keys = LANGUAGE_MODELS if hub.settings.profile == "lecture" else (COMPLETION_MODEL,)
    for key in keys:
        try:
            language_model(hub, key)
        except WeightsUnavailable:
            pass  # the tab says what is missing; the log says how to get it


# --- the models ------------------------------------------------------------------------------------


class TabModels:
    """The tab's language models, loaded through the hub's shared cache, their forward passes
    batched for the whole room (direct on ZeroGPU, where the GPU belongs to each decorated call)."""

    def __init__(self, hub: Hub):
        from shared.batching import Batcher, ScoresCache

        self.hub = hub
        settings = hub.settings
        self.batcher = Batcher(
            ScoresCache(settings.lm_cache_mb * 2**20),
            max_rows=settings.lm_concurrency + settings.lm_stream_concurrency,
        )
        self._identities: dict[str, tuple[str, str]] = {}
        self._loads = ThreadPoolExecutor(max_workers=len(LANGUAGE_MODELS), thread_name_prefix="sampling-load")

    def missing(self) -> list[str]:
        """The tab's models that this server cannot load (the reasons go to the server's log)."""
        return [key for key in LANGUAGE_MODELS if self.hub.weights.unavailable(key) is not None]

    def get(self, key: str, progress=None, language: str = "fr"):
        """The model ready to use; on its first load, `progress` tells the user what happens, in
        words, until it is ready. Raises WeightsUnavailable."""
        if progress is None or self.loaded(key):
            return self._open(key)
        loading = self._loads.submit(self._open, key)
        while True:
            try:
                return loading.result(timeout=0.5)
            except TimeoutError:
                phase = load_phase(self.hub, key) or LOADING
                progress(None, desc=TEXTS.get(f"sampling_phase_{phase}", language, model=model_title(self.hub, key)))

    def loaded(self, key: str) -> bool:
        statuses = (self.hub.models.status(f"{key}:{part}") for part in ("tokenizer", "model"))
        return all(status is not None and status.state == LOADED for status in statuses)

    def _open(self, key: str):
        from spaces.sampling import logic

        tokenizer = shared_tokenizer(self.hub, key)
        model = shared_model(self.hub, key)
        passes = None
        if not on_zerogpu():
            if key not in self._identities:  # the weights' version: a reload of the same weights keeps its scores
                self._identities[key] = (key, self.hub.weights.version(key))
            passes = self.batcher.for_model(model, self._identities[key])
        return logic.LanguageModel(model, tokenizer, passes, context_tokens=self.hub.settings.lm_context_tokens)


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


def build_settings(hub: Hub) -> SettingsPanel:
    from spaces.sampling.options import (
        MIN_P_RANGE,
        REPETITION_PENALTY_RANGE,
        SEED_RANGE,
        TEMPERATURE_RANGE,
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
            temperature = slider("temperature", *TEMPERATURE_RANGE, defaults.temperature, 0.05)
            top_k = slider("top_k", 0, 200, defaults.top_k, 1)
            top_p = slider("top_p", *TOP_P_RANGE, defaults.top_p, 0.01)
        with gr.Row():
            min_p = slider("min_p", *MIN_P_RANGE, defaults.min_p, 0.01)
            repetition_penalty = slider(
                "repetition_penalty", *REPETITION_PENALTY_RANGE, defaults.repetition_penalty, 0.05
            )
    return SettingsPanel(accordion, model, seed, temperature, top_k, top_p, min_p, repetition_penalty)


def build_next_token() -> NextTokenPanel:
    from spaces.sampling.options import FRENCH_PROMPT

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
        3, 30, value=10, step=1, label=TEXTS.label("sampling_top_n"), buttons=[], elem_id="sampling-top-n"
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
    conversation = gr.Chatbot(label=model_title(hub, CHAT_MODEL), height=360, elem_id="sampling-chat")
    message = gr.Textbox(label=TEXTS.label("sampling_message"), max_lines=6, elem_id="sampling-message")
    with gr.Row():
        send = gr.Button(TEXTS.label("sampling_send"), variant="primary", min_width=90, elem_id="sampling-send")
        stop = gr.Button(TEXTS.label("sampling_stop"), min_width=90, elem_id="sampling-stop-chat")
    status = gr.HTML(elem_id="sampling-chat-status")
    stopped = gr.HTML(visible=False, elem_id="sampling-chat-stopped")
    return ChatPanel(presets, system_prompt, conversation, message, length, send, stop, status, stopped, gr.State(0))


# --- what the sections do -------------------------------------------------------------------------


class Handlers:
    """Every event of the tab. Each returns what its outputs show; bad input and missing models
    become a status line in the page's language, never an error."""

    def __init__(self, hub: Hub, models: TabModels):
        self.hub = hub
        self.models = models

    def _missing_model(self, language: str) -> str:
        return TEXTS.get("sampling_model_unavailable", language)

    def _settings(self, lm, temperature, top_k, top_p, min_p, penalty):
        from spaces.sampling import logic

        return logic.checked_settings(temperature, top_k, top_p, min_p, penalty, lm.vocabulary_size)

    # ---- next token, step by step (four endpoints, one handler)

    @gpu_task(duration=30)
    def next_token(
        self,
        action: str,
        token_id: int | None,
        model_key: str,
        prompt_text: str,
        temperature: float,
        top_k: float,
        top_p: float,
        min_p: float,
        penalty: float,
        top_n: float,
        seed: float | None,
        current,
        request: gr.Request,
        progress=gr.Progress(),
    ):
        """Apply `action` ("show", "draw", "choose" a token, "undo") to this user's steps, then
        show the distribution of the token that follows them."""
        from spaces.sampling import logic

        language = request_language(request)
        prompt_text = prompt_text or ""
        if current is None or current.prompt != prompt_text or current.model != model_key:
            current = logic.Steps(prompt_text, DEFAULT_SEED, model=model_key)  # a new text: start again

        def nothing_to_show(message: str):
            return (
                current,
                "",
                render.placeholder_html(language),
                "",
                gr.Radio(choices=[], value=None, visible=False),
                {"stages": [], "candidates": []},
                render.status_html([message]),
            )

        if not prompt_text:
            return nothing_to_show(TEXTS.get("sampling_empty_prompt", language))
        try:
            lm = self.models.get(model_key, progress, language)
        except WeightsUnavailable:
            return nothing_to_show(self._missing_model(language))
        settings, adjustments = self._settings(lm, temperature, top_k, top_p, min_p, penalty)
        if action == "draw":
            current = logic.draw_step(lm, current.reseeded(DEFAULT_SEED if seed is None else int(seed)), settings)
        elif action == "choose" and token_id is not None:
            current = logic.choose_step(current, int(token_id))
        elif action == "undo":
            current = current.undone()
        context = logic.steps_context(lm, current)
        next_token = logic.next_token_stages(lm, context, settings, int(top_n))
        choices = [
            (
                f"{render.visible_whitespace(candidate.label)} · {render.percent(candidate.probabilities[-1], language)}",
                candidate.token_id,
            )
            for candidate in next_token.candidates
        ]
        data = {
            "stages": [
                {
                    "name": stage.name,
                    "active": stage.active,
                    "kept": stage.kept,
                    "entropy_bits": round(stage.entropy_bits, 4),
                }
                for stage in next_token.stages
            ],
            "candidates": [
                {
                    "token_id": candidate.token_id,
                    "token": candidate.label,
                    "probabilities": [round(p, 6) for p in candidate.probabilities],
                }
                for candidate in next_token.candidates
            ],
            "appended_token_ids": list(current.token_ids),
        }
        return (
            current,
            render.steps_text_html(lm, current, language),
            render.chart_html(next_token, language),
            render.stages_table_html(next_token, language),
            gr.Radio(choices=choices, value=None, visible=True),
            data,
            render.status_html([], render.notices_for(adjustments, [context], lm, language)),
        )

    # ---- two prompts side by side

    @gpu_task(duration=30)
    def compare(self, model_key: str, first: str, second: str, request: gr.Request, progress=gr.Progress()):
        from spaces.sampling import logic

        language = request_language(request)
        prompts = [first or "", second or ""]
        if not all(prompt.strip() for prompt in prompts):
            return (
                "",
                {"prompts": prompts, "tokens": []},
                render.status_html([TEXTS.get("sampling_empty_prompt", language)]),
            )
        try:
            lm = self.models.get(model_key, progress, language)
        except WeightsUnavailable:
            return (
                "",
                {"prompts": prompts, "tokens": []},
                render.status_html([self._missing_model(language)]),
            )
        contexts = [logic.text_context(lm, prompt) for prompt in prompts]
        comparison = logic.compare_prompts(lm, contexts, COMPARED_TOKENS)
        data = {
            "prompts": prompts,
            "tokens": [
                {
                    "token_id": token.token_id,
                    "token": token.label,
                    "probabilities": [round(p, 6) for p in token.probabilities],
                }
                for token in comparison.tokens
            ],
        }
        notices = render.notices_for([], contexts, lm, language)
        return render.comparison_html(comparison, prompts, language), data, render.status_html([], notices)

    # ---- generation

    @gpu_task(duration=120)
    def generate(
        self,
        model_key: str,
        prompt_text: str,
        token_limit: float,
        stop_text: str,
        temperature: float,
        top_k: float,
        top_p: float,
        min_p: float,
        penalty: float,
        seed: float | None,
        request: gr.Request,
        progress=gr.Progress(),
    ):
        from spaces.sampling import logic

        language = request_language(request)
        empty = {"text": "", "tokens": []}
        if not prompt_text:
            yield "", empty, render.status_html([TEXTS.get("sampling_empty_prompt", language)])
            return
        try:
            lm = self.models.get(model_key, progress, language)
        except WeightsUnavailable:
            yield "", empty, render.status_html([self._missing_model(language)])
            return
        settings, adjustments = self._settings(lm, temperature, top_k, top_p, min_p, penalty)
        token_limit = int(token_limit)
        context = logic.text_context(lm, prompt_text, room_for_new_tokens=token_limit)
        notices = render.notices_for(adjustments, [context], lm, language)
        # Append-only HTML: Gradio then streams each new token, not the whole text again.
        shown = f'<span class="prompt">{html.escape(prompt_text)}</span>'
        tokens, text = [], ""
        started = time.perf_counter()
        seed = DEFAULT_SEED if seed is None else int(seed)
        stop_sequences = logic.parse_stop_sequences(stop_text)
        for token in logic.generate(lm, context, settings, token_limit, seed, stop_sequences):
            tokens.append(
                {
                    "token_id": token.token_id,
                    "text": token.text,
                    "probability": round(token.probability, 6),
                    "alternatives": [[label, round(p, 6)] for label, p in token.alternatives],
                }
            )
            shown += render.generated_token_html(token, language)
            text += token.text
            line = render.progress_line(len(tokens), token.finish, time.perf_counter() - started, language)
            yield shown, {"text": text, "tokens": tokens, "finish": token.finish}, render.status_html([line], notices)

    # ---- chat

    @gpu_task(duration=120)
    def chat(
        self,
        message: str,
        history: list,
        system_prompt: str,
        token_limit: float,
        temperature: float,
        top_k: float,
        top_p: float,
        min_p: float,
        penalty: float,
        seed: float | None,
        request: gr.Request,
        progress=gr.Progress(),
    ):
        from spaces.sampling import logic

        language = request_language(request)
        if not (message or "").strip():
            yield history, message, render.status_html([TEXTS.get("sampling_empty_message", language)]), 0
            return
        try:
            lm = self.models.get(CHAT_MODEL, progress, language)
        except WeightsUnavailable:
            yield history, message, render.status_html([self._missing_model(language)]), 0
            return
        if not lm.has_chat_template:
            no_template = TEXTS.get("sampling_no_chat_template", language, model=model_title(self.hub, CHAT_MODEL))
            yield history, message, render.status_html([no_template]), 0
            return
        settings, adjustments = self._settings(lm, temperature, top_k, top_p, min_p, penalty)
        messages = [{"role": turn["role"], "content": message_text(turn["content"])} for turn in history or []]
        messages.append({"role": "user", "content": message})
        token_limit = int(token_limit)
        context, dropped = logic.fit_conversation(lm, system_prompt or "", messages, room_for_new_tokens=token_limit)
        notices = render.notices_for(adjustments, [context], lm, language)
        if dropped:
            notices.insert(0, TEXTS.get("sampling_messages_dropped", language, count=dropped))
        yield messages, "", render.status_html([], notices), 0
        reply, count = "", 0
        started = time.perf_counter()
        seed = DEFAULT_SEED if seed is None else int(seed)
        # The answer ends at the end of the assistant's turn (<|im_end|> for ChatML), or at its length.
        for token in logic.generate(lm, context, settings, token_limit, seed, end_token_ids=lm.end_of_turn_ids):
            reply += token.text
            count += 1
            line = render.progress_line(count, token.finish, time.perf_counter() - started, language)
            yield messages + [{"role": "assistant", "content": reply}], "", render.status_html([line], notices), count

    # ---- small things

    def stopped(self, tokens: int, request: gr.Request):
        """Once « Arrêter » has stopped a stream: its status hidden (a token already on its way
        may still write there), the note shown in its place."""
        language = request_language(request)
        note = render.status_html([TEXTS.get("sampling_stopped", language, count=format_number(tokens, language))])
        return gr.HTML(visible=False), gr.HTML(note, visible=True)

    def stopped_generation(self, data: dict | None, request: gr.Request):
        return self.stopped(len((data or {}).get("tokens", [])), request)

    def starting(self):
        """A new stream: its status shown again, the last one's note hidden."""
        return gr.HTML("", visible=True), gr.HTML(visible=False)

    def preset(self, name: str, request: gr.Request):
        """One of the course's chat demos: its system prompt and first message, a new conversation."""
        language = request_language(request)
        system_prompt = TEXTS.get(f"sampling_preset_{name}_system", language)
        return system_prompt, TEXTS.get(f"sampling_preset_{name}_message", language), [], ""

    def first_values(
        self,
        notice: gr.HTML,
        settings: SettingsPanel,
        next_token: NextTokenPanel,
        compare: ComparePanel,
        generation: GenerationPanel,
        chat: ChatPanel,
    ) -> None:
        """As the hub starts, for every visitor: the texts in the page's language (translated in
        the browser), and what this server cannot do (one sentence; the buttons that cannot work
        disabled). In the page: no event when a phone opens it."""
        missing = self.models.missing()
        available = [key for key in LANGUAGE_MODELS if key not in missing]
        title = {key: model_title(self.hub, key) for key in LANGUAGE_MODELS}
        if not available:
            key, values = "sampling_missing_all", {}
        elif COMPLETION_MODEL in missing:
            key, values = "sampling_missing_completion", {"other": title[available[0]]}
        elif CHAT_MODEL in missing:
            key, values = "sampling_missing_chat", {}
        else:
            key = None
        if key is not None:
            sentences = {language: notice_html(TEXTS.get(key, language, **values)) for language in LANGUAGES}
            notice.value, notice.visible = self.hub.page_texts.add("sampling_availability", **sentences), True
        any_model = bool(available)
        # The choices stay every model: they are also what the server accepts, and an API client
        # naming a missing one must read the tab's sentence, not a refused value.
        settings.model.value = COMPLETION_MODEL if COMPLETION_MODEL in available or not available else available[0]
        for button in (next_token.show, next_token.draw, next_token.undo, compare.button, generation.button):
            button.interactive = any_model
        chat.send.interactive = CHAT_MODEL not in missing
        next_token.prompt.value = str(TEXTS.label("sampling_default_prompt"))
        if any_model:
            placeholders = {language: render.placeholder_html(language) for language in LANGUAGES}
            next_token.chart.value = self.hub.page_texts.add("sampling_first_chart", **placeholders)
        compare.first.value = str(TEXTS.label("sampling_compare_prompt_a"))
        compare.second.value = str(TEXTS.label("sampling_compare_prompt_b"))
        generation.prompt.value = str(TEXTS.label("sampling_default_generate_prompt"))
        chat.system_prompt.value = str(TEXTS.label("sampling_preset_assistant_system"))


def message_text(content) -> str:
    """A Gradio chat message's text: a string, or a list of parts ({"type": "text", "text": ...})."""
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


# --- the tab ------------------------------------------------------------------------------------------


def build(hub: Hub) -> None:
    handlers = Handlers(hub, TabModels(hub))
    notice = gr.HTML(visible=False, elem_id="sampling-notice")
    settings = build_settings(hub)
    next_token = build_next_token()
    compare = build_compare()
    generation = build_generation()
    chat = build_chat(hub)
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
    for slider in settings.filters:
        slider.change(None, None, None, js=SUMMARY_JS)

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
    # The distribution follows every change of the text, the model or a slider (on release, or
    # Enter / leaving a slider's number box).
    gr.on(
        [
            next_token.show.click,
            next_token.prompt.submit,
            settings.model.input,  # a choice of the student, not the page load's
            next_token.top_n.release,
            *(slider.release for slider in settings.filters),
        ],
        handlers.next_token,
        [constant("show"), constant(None), *view_inputs, constant(None), next_token.steps],
        view_outputs,
        api_name="next_token",
        trigger_mode="always_last",
        **views,
    )
    next_token.draw.click(
        handlers.next_token,
        [constant("draw"), constant(None), *view_inputs, settings.seed, next_token.steps],
        view_outputs,
        api_name="draw_token",
        **views,
    )
    next_token.undo.click(
        handlers.next_token,
        [constant("undo"), constant(None), *view_inputs, constant(None), next_token.steps],
        view_outputs,
        api_name="undo_token",
        **views,
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
