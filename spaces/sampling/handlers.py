"""What the Échantillonnage tab's events do: the next-token view step by step (four endpoints,
one handler), two prompts side by side, the streamed generation, the chat, and the page's load.
Each returns what its outputs show; logic.py does the work, render.py writes the HTML."""

from __future__ import annotations

import functools
import html
import re
import time
from dataclasses import asdict

import gradio as gr

from shared.gpu import gpu_task
from shared.hub import Hub
from shared.hub_ui import notice_html, sent_text
from shared.i18n import LANGUAGES, format_number, request_language
from shared.language_models import LANGUAGE_MODELS, OFFLINE_CHAT_MODEL, chat_model
from shared.reply_cost import REPLY_COSTS
from shared.reply_cost_line import reply_cost_html
from shared.weights import WeightsUnavailable
from spaces.sampling import render
from spaces.sampling.models import COMPLETION_MODEL, TabModels, model_title
from spaces.sampling.texts import TEXTS

DEFAULT_SEED = 42
COMPARED_TOKENS = 8  # per prompt, its most likely next tokens in the comparison


class Handlers:
    """Every event of the tab. Each returns what its outputs show; bad input and missing models
    become a status line in the page's language, never an error."""

    def __init__(self, hub: Hub, models: TabModels):
        self.hub = hub
        self.models = models

    @functools.cached_property
    def chat_key(self) -> str:
        """The chat's model, chosen once: the best this server has (models.chat_model)."""
        return chat_model(self.hub)

    def _missing_model(self, language: str) -> str:
        return TEXTS.get("sampling_model_unavailable", language)

    def _unknown_model(self, model_key, language: str) -> str:
        """An API client's model that the tab does not have (the page offers only the tab's)."""
        return TEXTS.get(
            "sampling_unknown_model", language, model=str(model_key)[:40], choices=", ".join(LANGUAGE_MODELS)
        )

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
        from spaces.sampling.options import SEED_RANGE, TOP_N_RANGE

        language = request_language(request)
        prompt_text = sent_text(prompt_text)
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
        if model_key not in LANGUAGE_MODELS:
            return nothing_to_show(self._unknown_model(model_key, language))
        try:
            lm = self.models.get(model_key, progress, language)
        except WeightsUnavailable:
            return nothing_to_show(self._missing_model(language))
        settings, adjustments = self._settings(lm, temperature, top_k, top_p, min_p, penalty)
        top_n = int(logic.clamped("top_n", top_n, *TOP_N_RANGE, 10, adjustments))
        if action == "draw":
            seed = int(logic.clamped("seed", seed, *SEED_RANGE, DEFAULT_SEED, adjustments))
            current = logic.draw_step(lm, current.reseeded(seed), settings)
        elif action == "choose" and token_id is not None:
            current = logic.choose_step(current, int(token_id))
        elif action == "undo":
            current = current.undone()
        context = logic.steps_context(lm, current)
        next_token = logic.next_token_stages(lm, context, settings, top_n)
        filters = self.models.filters_payload(model_key, lm, next_token)
        choices = [
            (render.choice_label(candidate, language), candidate.token_id) for candidate in next_token.candidates
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
            render.chart_html(next_token, language) + render.filters_html(filters, prompt_text, next_token),
            render.stages_table_html(next_token, language),
            gr.Radio(choices=choices, value=None, visible=True),
            data,
            render.status_html(
                [],
                render.notices_for(adjustments, [context], lm, language),
                spoken=render.view_summary(next_token, language),
            ),
        )

    # ---- two prompts side by side

    @gpu_task(duration=30)
    def compare(self, model_key: str, first: str, second: str, request: gr.Request, progress=gr.Progress()):
        from spaces.sampling import logic

        language = request_language(request)
        prompts = [sent_text(first), sent_text(second)]
        if not all(prompt.strip() for prompt in prompts):
            return (
                "",
                {"prompts": prompts, "tokens": []},
                render.status_html([TEXTS.get("sampling_empty_prompt", language)]),
            )
        if model_key not in LANGUAGE_MODELS:
            return (
                "",
                {"prompts": prompts, "tokens": []},
                render.status_html([self._unknown_model(model_key, language)]),
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
        if comparison.pronouns:  # the bias in numbers: each pronoun's probability after each prompt
            words, probabilities = comparison.pronouns.words, zip(*comparison.pronouns.probabilities, strict=True)
            data["pronouns"] = {
                word: [round(p, 6) for p in row] for word, row in zip(words, probabilities, strict=True)
            }
        notices = render.notices_for([], contexts, lm, language)
        spoken = render.comparison_summary(comparison, prompts, language)
        return (
            render.comparison_html(comparison, prompts, language),
            data,
            render.status_html([], notices, spoken=spoken),
        )

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
        data, line = empty, ""
        with REPLY_COSTS.measure() as reply:
            for token in logic.generate(lm, context, settings, token_limit, seed, stop_sequences):
                tokens.append(
                    {
                        "token_id": token.token_id,
                        "text": token.text,
                        "probability": round(token.probability, 6),
                        "alternatives": [[label, round(p, 6)] for label, p in token.alternatives],
                    }
                )
                shown += render.generated_token_html(token, language, first=len(tokens) == 1)
                text += token.text
                reply.tokens = len(tokens)
                line = render.progress_line(len(tokens), token.finish, time.perf_counter() - started, language)
                data = {"text": text, "tokens": tokens, "finish": token.finish}
                yield shown, data, render.status_html([line], notices, streaming=token.finish is None)
        # Once its measurement has ended: the same text, and under it what it cost.
        data["cost"] = asdict(reply.cost)
        yield shown, data, render.status_html([line], notices, reply_cost_html(reply.cost, language))

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
            lm = self.models.get(self.chat_key, progress, language)
        except WeightsUnavailable:
            yield history, message, render.status_html([self._missing_model(language)]), 0
            return
        title = model_title(self.hub, self.chat_key)
        if not lm.has_chat_template:
            no_template = TEXTS.get("sampling_no_chat_template", language, model=title)
            yield history, message, render.status_html([no_template]), 0
            return
        settings, adjustments = self._settings(lm, temperature, top_k, top_p, min_p, penalty)
        messages = [
            {"role": turn["role"], "content": without_model_name(message_text(turn["content"]))}
            for turn in history or []
        ]
        messages.append({"role": "user", "content": message})
        token_limit = int(token_limit)
        context, dropped = logic.fit_conversation(lm, system_prompt or "", messages, room_for_new_tokens=token_limit)
        notices = render.notices_for(adjustments, [context], lm, language)
        if dropped:
            notices.insert(0, TEXTS.get("sampling_messages_dropped", language, count=dropped))
        yield messages, "", render.status_html([], notices), 0
        started = time.perf_counter()
        seed = DEFAULT_SEED if seed is None else int(seed)
        conversation, line = messages, ""
        with REPLY_COSTS.measure() as measured:
            for reply, count, finish in self.chat_reply(lm, context, settings, token_limit, seed):
                measured.tokens = count
                line = render.progress_line(count, finish, time.perf_counter() - started, language)
                conversation = messages + [{"role": "assistant", "content": reply + model_name_line(title)}]
                yield conversation, "", render.status_html([line], notices, streaming=finish is None), count
        # Once its measurement has ended: under the conversation, what this answer cost.
        cost = reply_cost_html(measured.cost, language)
        yield conversation, "", render.status_html([line], notices, cost), measured.tokens

    def chat_reply(self, lm, context, settings, token_limit: int, seed: int):
        """The one place where a chat reply is produced: its text so far, its token count and how it
        ended (None until its last token), after each token. It ends at the end of the assistant's
        turn (<|im_end|> for ChatML), or at its length."""
        from spaces.sampling import logic

        reply = ""
        for count, token in enumerate(
            logic.generate(lm, context, settings, token_limit, seed, end_token_ids=lm.end_of_turn_ids), start=1
        ):
            reply += token.text
            yield reply, count, token.finish

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

    def first_values(self, notice, settings, next_token, compare, generation, chat) -> None:
        """As the hub starts, for every visitor: the texts in the page's language (translated in
        the browser), and what this server cannot do (one sentence; the buttons that cannot work
        disabled), set on the tab's components (ui.py's panels). In the page: no event when a
        phone opens it."""
        missing = self.models.missing()
        available = [key for key in LANGUAGE_MODELS if key not in missing]
        title = {key: model_title(self.hub, key) for key in LANGUAGE_MODELS}
        if not available:
            key, values = "sampling_missing_all", {}
        elif COMPLETION_MODEL in missing:
            key, values = "sampling_missing_completion", {"other": title[available[0]]}
        elif self.chat_key == OFFLINE_CHAT_MODEL and OFFLINE_CHAT_MODEL in missing:
            key, values = "sampling_missing_chat", {}
        else:
            key = None
        if key is not None:
            sentences = {language: notice_html(TEXTS.get(key, language, **values)) for language in LANGUAGES}
            notice.value, notice.visible = self.hub.page_texts.add("sampling_availability", **sentences), True
        any_model = bool(available)
        # Every model stays a choice (a missing one answers with the notice's sentence, to the page
        # and to an API client alike, rather than Gradio's « not in the list of choices »); the
        # first one offered is one that works.
        settings.model.value = COMPLETION_MODEL if COMPLETION_MODEL in available or not available else available[0]
        for button in (next_token.show, next_token.draw, next_token.undo, compare.button, generation.button):
            button.interactive = any_model
        chat.send.interactive = not (self.chat_key == OFFLINE_CHAT_MODEL and OFFLINE_CHAT_MODEL in missing)
        chat.conversation.label = model_title(self.hub, self.chat_key)
        if self.chat_key == OFFLINE_CHAT_MODEL and chat.send.interactive:
            # No French assistant here: say so rather than let the English pack pass for one.
            fallback = {
                language: notice_html(
                    TEXTS.get("sampling_chat_fallback", language, model=model_title(self.hub, OFFLINE_CHAT_MODEL))
                )
                for language in LANGUAGES
            }
            chat.fallback.value, chat.fallback.visible = (
                self.hub.page_texts.add("sampling_chat_fallback_notice", **fallback),
                True,
            )
            # Its replies are in English: said so to a screen reader (RGAA 8.7, shared/hub_page.py).
            chat.conversation.elem_classes = [*(chat.conversation.elem_classes or []), "hub-replies-en"]
        next_token.prompt.value = str(TEXTS.label("sampling_default_prompt"))
        if any_model:
            placeholders = {language: render.placeholder_html(language) for language in LANGUAGES}
            next_token.chart.value = self.hub.page_texts.add("sampling_first_chart", **placeholders)
        compare.first.value = str(TEXTS.label("sampling_compare_prompt_a"))
        compare.second.value = str(TEXTS.label("sampling_compare_prompt_b"))
        generation.prompt.value = str(TEXTS.label("sampling_default_generate_prompt"))
        chat.system_prompt.value = str(TEXTS.label("sampling_preset_assistant_system"))


# Under each reply, the model that wrote it, on a line of its own: "*— Luth-0.6B-Instruct*". The
# conversation sent back by the page carries it; it is taken off before the model reads the text.
_MODEL_NAME_LINE = re.compile(r"\n\n\*— [^*\n]+\*$")


def model_name_line(title: str) -> str:
    return f"\n\n*— {title}*"


def without_model_name(text: str) -> str:
    return _MODEL_NAME_LINE.sub("", text)


def message_text(content) -> str:
    """A Gradio chat message's text: a string, or a list of parts ({"type": "text", "text": ...})."""
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))
