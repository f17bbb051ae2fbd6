"""The « Gardes-fous » tab: an assistant that keeps a password, one more guard a level; the page
names the guard that stopped the player, and shows what the guards cost honest questions (« Faux
positifs »). A room for a lecture hall: the lecturer opens a game (a code, a QR code to the tab's
own page `/guards/`), players join with a nickname, the board (`?board=CODE`) shows each one's
highest level and, once a level is closed, its prompt golf.

logic.py is the game, models.py the models, render.py the HTML, texts.py the words; this file
builds the tab and wires its events. A player's game and every secret stay on the server: the
page's gr.State holds the player's id only.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

import gradio as gr

from shared.gpu import gpu_task
from shared.hub import Hub
from shared.hub_ui import UNPROCESSED, fill_room_code_js, join_url, notice_html, qr_code_svg, sent_text
from shared.i18n import LANGUAGES, format_number, request_language
from shared.language_models import shared_model, shared_tokenizer
from shared.rooms import MAX_NICKNAME_LENGTH, RoomError
from shared.weights import WeightsUnavailable
from spaces.guards import logic, render
from spaces.guards.guards import INJECTION_CLASSIFIER, LEVELS, blocklist_match
from spaces.guards.models import GuardModels, attempts_at_once
from spaces.guards.texts import TEXTS

__all__ = ["CSS", "TEXTS", "build", "warm_up"]

CSS = """
#guards-verdict p, #guards-guess-result p, #guards-room-status p { margin: 0.3rem 0; }
.guards-problem { font-weight: 600; }
.guards-good { font-weight: 600; }
.guards-qr svg { width: 12rem; height: 12rem; background: #fff; }
#guards-board-panel .guards-board { font-size: 1.6rem; line-height: 1.4; }
#guards-board-panel .guards-board h2 { font-size: 2.4rem; }
#guards-board-panel .guards-qr svg { width: 18rem; height: 18rem; }
.guards-board table { border-collapse: collapse; }
.guards-board td, .guards-board th { padding: 0.2rem 0.8rem; text-align: left; }
"""
OWN_PAGE = "guards/"  # the tab's page of its own (app.py's DEMO_PAGES): what a room's QR code opens
BOARD_REFRESH_SECONDS = 3
# In the browser, as the page opens: a join link's code filled in (the room's fold opened), or a
# board asked for. A phone that only looks asks the server nothing. Only on this demo's own page,
# or in the whole hub opened on this tab: Cémantix reads the same parameters.
OPEN_THE_PAGE_JS = """() => {
  const wanted = new URLSearchParams(window.location.search);
  const here = window.location.pathname.replace(/\\/+$/, "").endsWith("/guards") || wanted.get("tab") === "guards";
  if (!here) return;
  if (wanted.get("board")) {
    document.querySelector("#guards-open-board")?.click();
    return;
  }
  const room = (wanted.get("room") || "").replace(/\\s+/g, "").toUpperCase().slice(0, 12);
  if (!room) return;
  const fold = document.querySelector("#guards-room > button, #guards-room .label-wrap");
  if (fold && !document.querySelector("#guards-room-code")) fold.click();
  FILL_ROOM_CODE
}""".replace("FILL_ROOM_CODE", fill_room_code_js("#guards-room-code input, #guards-room-code textarea"))


@dataclass
class Context:
    """What the tab and its page of its own share (hub.demo_state): the players' games, the rooms,
    the models."""

    hub: Hub
    players: logic.Players
    rooms: logic.GuardRooms
    models: GuardModels
    own_page: bool = False

    def room_of(self, player: logic.Player) -> str:
        """The code of the room the player plays in, while its game goes on; else ""."""
        code = player.room_code
        return code if code and not self.rooms.is_ended(code) else ""

    def passed(self, player: logic.Player) -> set[int]:
        code = self.room_of(player)
        if code:
            try:
                return self.rooms.passed(code, player.id)
            except RoomError:
                player.room_code = ""
        return player.passed

    def secret(self, player: logic.Player, level: int) -> str:
        code = self.room_of(player)
        return self.rooms.secret(code, level) if code else player.secrets[level - 1]

    def check_open(self, player: logic.Player, level) -> None:
        if level.number > 1 and level.number - 1 not in self.passed(player):
            raise logic.BadInput(logic.LOCKED_LEVEL, level=level.number, previous=level.number - 1)

    def classifier_available(self) -> bool:
        return self.models.classifier is not None

    def join_url(self, request: gr.Request | None, code: str) -> str | None:
        return join_url(self.hub.settings, request, OWN_PAGE, code)

    def board_link(self, code: str) -> str:
        return f"?board={code}" if self.own_page else f"{OWN_PAGE}?board={code}"


def shared_context(hub: Hub, own_page: bool) -> Context:
    if "guards" not in hub.demo_state:
        models = GuardModels(hub)
        if models.process is not None:  # a lecture: ready before the room arrives
            hub.at_start(models.start_process)
        hub.demo_state["guards"] = dict(
            players=logic.Players(hub.settings.guard_secrets), rooms=logic.GuardRooms(), models=models
        )
    return Context(hub, own_page=own_page, **hub.demo_state["guards"])


def problem(bad: logic.BadInput, language: str) -> str:
    values = {
        name: format_number(value, language) if isinstance(value, int) else value for name, value in bad.values.items()
    }
    return render.paragraph(TEXTS.get(bad.key, language, **values), "problem")


def room_problem(error: RoomError, language: str) -> str:
    return render.paragraph(TEXTS.get(f"guards_room_error_{error.reason}", language, **error.values), "problem")


class Handlers:
    def __init__(self, context: Context):
        self.context = context

    def model_line(self, language: str) -> str:
        return TEXTS.get("guards_model", language, model=self.context.models.title())

    @gpu_task(duration=60)
    def attempt(self, level_number, prompt, player_id, request: gr.Request, progress=gr.Progress()):
        """/guard_attempt: (the answer as shown, the blocking guard's key or "", the verdict, the
        model's name), streamed; the prompt box keeps what was typed whatever happens."""
        context = self.context
        language = request_language(request)
        player = context.players.get(player_id)
        model_line = self.model_line(language)
        try:
            level = logic.level_of(level_number)
            prompt = logic.checked_prompt(prompt)
            context.check_open(player, level)
            player.gate.enter()
        except logic.BadInput as bad:
            yield gr.skip(), "", problem(bad, language), model_line, player.id
            return
        try:
            secret = context.secret(player, level.number)
            classifier = context.models.classifier if INJECTION_CLASSIFIER in level.guards else None

            def answer_stream(system: str, text: str):
                return context.models.stream(system, text, progress, language)

            shown = None
            for shown in logic.attempt(level, prompt, secret, language, classifier, answer_stream):
                yield shown.answer, shown.blocked_by or "", render.verdict(shown, language), model_line, player.id
            code = context.room_of(player)
            if code and shown is not None:
                context.rooms.record_attempt(code, player.id, level.number, prompt, shown.answer)
        except WeightsUnavailable:
            yield "", "", render.paragraph(TEXTS.get("guards_no_model", language), "problem"), model_line, player.id
        except RoomError as error:
            yield gr.skip(), "", room_problem(error, language), model_line, player.id
        finally:
            player.gate.leave()

    def guess(self, level_number, word, player_id, request: gr.Request):
        """/guard_guess: (whether it passed, said; the level to play: the next one when it passed;
        the levels passed)."""
        context = self.context
        language = request_language(request)
        player = context.players.get(player_id)
        try:
            level = logic.level_of(level_number)
            word = logic.checked_guess(word)
            context.check_open(player, level)
            player.guess_gate.enter()
            player.guess_gate.leave()
        except logic.BadInput as bad:
            return problem(bad, language), gr.skip(), render.progress(context.passed(player), language), player.id
        code = context.room_of(player)
        if code:
            try:
                right = context.rooms.prove(code, player.id, level.number, word)
            except RoomError as error:
                return room_problem(error, language), gr.skip(), gr.skip(), player.id
        else:
            right = logic.folded(word) == logic.folded(player.secrets[level.number - 1])
            if right:
                player.passed.add(level.number)
        passed = render.progress(context.passed(player), language)
        if not right:
            return (
                render.paragraph(TEXTS.get("guards_wrong", language, level=level.number), "problem"),
                level.number,
                passed,
                player.id,
            )
        if level.number == len(LEVELS):
            said = TEXTS.get("guards_right_last", language, level=level.number)
            return render.paragraph(said, "good"), level.number, passed, player.id
        said = TEXTS.get("guards_right", language, level=level.number, next=level.number + 1)
        return render.paragraph(said, "good"), level.number + 1, passed, player.id

    def level_info(self, level_number, request: gr.Request):
        language = request_language(request)
        try:
            level = logic.level_of(level_number)
        except logic.BadInput as bad:
            return problem(bad, language)
        return render.level_info(level, self.context.classifier_available(), language)

    def innocent_question(self) -> str:
        """One of the honest questions whose false positives the panel counts."""
        from spaces.guards.attacks import INNOCENT_QUESTIONS

        return random.choice(INNOCENT_QUESTIONS)

    # ---- the room

    def join(self, code, nickname, player_id, request: gr.Request):
        language = request_language(request)
        player = self.context.players.get(player_id)
        try:
            room_code, player.nickname = self.context.rooms.join(sent_text(code), sent_text(nickname), player.id)
        except RoomError as error:
            return room_problem(error, language), gr.skip(), player.id
        player.room_code = room_code
        joined = TEXTS.get("guards_joined", language, code=room_code, nickname=player.nickname)
        return render.paragraph(joined, "good"), render.progress(self.context.passed(player), language), player.id

    def host_panel(self, player: logic.Player, request: gr.Request, language: str) -> str:
        code, _ = player.hosted
        try:
            board = self.context.rooms.board(code)
        except RoomError as error:
            return room_problem(error, language)
        address = self.context.join_url(request, code)
        qr = qr_code_svg(address, language) if address else ""
        return render.host_panel(code, address, qr, self.context.board_link(code), board, language)

    def create(self, player_id, request: gr.Request):
        language = request_language(request)
        player = self.context.players.get(player_id)
        try:
            player.hosted = self.context.rooms.create(logic.level_secrets(self.context.hub.settings.guard_secrets))
        except RoomError as error:
            return room_problem(error, language), gr.skip(), player.id
        return self.host_panel(player, request, language), gr.Group(visible=True), player.id

    def close_level(self, level_number, player_id, request: gr.Request):
        language = request_language(request)
        player = self.context.players.get(player_id)
        if player.hosted is None:
            return render.paragraph(TEXTS.get("guards_no_hosted_room", language), "problem"), player.id
        try:
            level = logic.level_of(level_number)
            self.context.rooms.close_level(*player.hosted, level.number)
        except logic.BadInput as bad:
            return problem(bad, language), player.id
        except RoomError as error:
            return room_problem(error, language), player.id
        return self.host_panel(player, request, language), player.id

    def end(self, player_id, request: gr.Request):
        language = request_language(request)
        player = self.context.players.get(player_id)
        if player.hosted is None:
            return render.paragraph(TEXTS.get("guards_no_hosted_room", language), "problem"), player.id
        try:
            self.context.rooms.end(*player.hosted)
        except RoomError as error:
            return room_problem(error, language), player.id
        return self.host_panel(player, request, language), player.id

    def open_board(self, request: gr.Request):
        """The page opened for a room's board (`?board=CODE`): the board shown, refreshed from now on."""
        code = request.query_params.get("board", "")
        return gr.Column(visible=True), code, self.board(code, request), gr.Timer(active=True)

    def board(self, code, request: gr.Request):
        language = request_language(request)
        try:
            board = self.context.rooms.board(sent_text(code).strip().upper())
        except RoomError as error:
            return room_problem(error, language)
        address = self.context.join_url(request, board.code)
        return render.board_html(board, language, address, qr_code_svg(address, language) if address else "")


@dataclass
class Panel:
    level: gr.Radio
    level_info: gr.HTML
    prompt: gr.Textbox
    send: gr.Button
    model_name: gr.Markdown
    answer: gr.Textbox
    blocked: gr.Textbox
    verdict: gr.HTML
    guess: gr.Textbox
    guess_button: gr.Button
    guess_result: gr.HTML
    progress: gr.HTML
    notice: gr.HTML


def build_play() -> Panel:
    gr.Markdown(TEXTS.label("guards_intro"))
    notice = gr.HTML(visible=False, elem_id="guards-notice")
    level = gr.Radio(
        [(TEXTS.label(f"guards_level_{level.number}"), level.number) for level in LEVELS],
        value=1,
        label=TEXTS.label("guards_level"),
        elem_id="guards-level",
    )
    level_info = gr.HTML(elem_id="guards-level-info")
    prompt = gr.Textbox(
        label=TEXTS.label("guards_prompt"),
        placeholder=TEXTS.label("guards_prompt_placeholder"),
        lines=2,
        max_lines=8,
        elem_id="guards-prompt",
    )
    send = gr.Button(TEXTS.label("guards_send"), variant="primary", elem_id="guards-send")
    answer = gr.Textbox(label=TEXTS.label("guards_answer"), lines=3, interactive=False, elem_id="guards-answer")
    model_name = gr.Markdown(elem_id="guards-model")  # under the answer, as the assistant tab names its models
    blocked = gr.Textbox(visible=False, elem_id="guards-blocked")  # the blocking guard's key, for API clients
    verdict = gr.HTML(elem_classes=["hub-live"], elem_id="guards-verdict")
    with gr.Row():
        guess = gr.Textbox(label=TEXTS.label("guards_guess"), max_lines=1, elem_id="guards-guess")
        guess_button = gr.Button(TEXTS.label("guards_guess_button"), elem_id="guards-guess-button")
    guess_result = gr.HTML(elem_classes=["hub-live"], elem_id="guards-guess-result")
    progress = gr.HTML(elem_id="guards-progress")
    return Panel(
        level,
        level_info,
        prompt,
        send,
        model_name,
        answer,
        blocked,
        verdict,
        guess,
        guess_button,
        guess_result,
        progress,
        notice,
    )


def first_values(context: Context, panel: Panel, false_positives: gr.HTML) -> None:
    """As the hub starts, the same for everyone but the language: level 1's guards, the model's
    name, what this server lacks, the false positives' panel."""
    from spaces.guards.attacks import INNOCENT_QUESTIONS

    page_texts = context.hub.page_texts
    panel.level_info.value = page_texts.add(
        "guards_first_level_info", **{lang: render.level_info(LEVELS[0], True, lang) for lang in LANGUAGES}
    )
    rates = _false_positive_rates()
    blocked = [question for question in INNOCENT_QUESTIONS if blocklist_match(question) is not None]
    false_positives.value = page_texts.add(
        "guards_false_positives_panel", **{lang: render.false_positives(rates, blocked, lang) for lang in LANGUAGES}
    )
    if not context.models.available():
        panel.notice.value = page_texts.add(
            "guards_availability", **{lang: notice_html(TEXTS.get("guards_no_model", lang)) for lang in LANGUAGES}
        )
        panel.notice.visible = True
        panel.send.interactive = False
        return
    panel.model_name.value = page_texts.add(
        "guards_first_model",
        **{lang: TEXTS.get("guards_model", lang, model=context.models.title()) for lang in LANGUAGES},
    )
    panel.progress.value = page_texts.add(
        "guards_first_progress", **{lang: render.progress(set(), lang) for lang in LANGUAGES}
    )


@functools.cache  # the same for the hub's tab and the game's page of its own: counted once (~0.4 s a start)
def _false_positive_rates() -> dict[str, tuple[int, int]]:
    from spaces.guards.attacks import false_positive_rates

    return false_positive_rates()


def warm_up(hub: Hub) -> None:
    """The assistant loaded (and the classifier, where this server can have it), before the room
    arrives (lecture profile) or when the tab is tapped."""
    context = shared_context(hub, own_page=False)
    try:
        shared_tokenizer(hub, context.models.key)
        shared_model(hub, context.models.key)
    except WeightsUnavailable:
        pass  # the tab says what is missing; the log says how to get it
    classifier = context.models.classifier
    if classifier is not None:
        classifier.is_injection("Bonjour")  # its first use loads it


def build(hub: Hub, own_page: bool = False) -> None:
    context = shared_context(hub, own_page)
    handlers = Handlers(context)
    player_id = gr.State(None)
    with gr.Column(visible=False, elem_id="guards-board-panel") as board_panel:
        board_code = gr.Textbox(visible=False)  # the room whose board this page shows
        board = gr.HTML(elem_classes=["hub-live"], elem_id="guards-board")
        timer = gr.Timer(BOARD_REFRESH_SECONDS, active=False)
    panel = build_play()
    with gr.Accordion(TEXTS.label("guards_false_positives"), open=False, elem_id="guards-false-positives"):
        false_positives = gr.HTML(elem_id="guards-false-positive-rates")
        try_innocent = gr.Button(TEXTS.label("guards_try_innocent"), size="sm", elem_id="guards-try-innocent")
    with gr.Accordion(TEXTS.label("guards_room"), open=False, elem_id="guards-room"):
        gr.Markdown(TEXTS.label("guards_room_intro"))
        code = gr.Textbox(label=TEXTS.label("guards_room_code"), max_lines=1, max_length=12, elem_id="guards-room-code")
        nickname = gr.Textbox(
            label=TEXTS.label("guards_nickname"),
            max_lines=1,
            max_length=4 * MAX_NICKNAME_LENGTH,  # the server counts what a person sees (an emoji is one)
            elem_id="guards-nickname",
        )
        join = gr.Button(TEXTS.label("guards_join"), variant="primary", elem_id="guards-join")
        room_status = gr.HTML(elem_classes=["hub-live"], elem_id="guards-room-status")
    with gr.Accordion(TEXTS.label("guards_create_heading"), open=False, elem_id="guards-host"):
        create = gr.Button(TEXTS.label("guards_create"), elem_id="guards-create")
        host_panel = gr.HTML(elem_classes=["hub-live"], elem_id="guards-host-panel")
        with gr.Group(visible=False) as host_controls:
            close_choice = gr.Dropdown(
                [(TEXTS.label(f"guards_level_{level.number}"), level.number) for level in LEVELS],
                value=1,
                label=TEXTS.label("guards_close_level"),
                elem_id="guards-close-level",
            )
            close = gr.Button(TEXTS.label("guards_close"), elem_id="guards-close")
            end = gr.Button(TEXTS.label("guards_end"), variant="stop", elem_id="guards-end")
    hub.at_start(lambda: first_values(context, panel, false_positives))

    panel.level.change(
        handlers.level_info, [panel.level], [panel.level_info], api_visibility="private", queue=False, **UNPROCESSED
    )
    attempt_outputs = [panel.answer, panel.blocked, panel.verdict, panel.model_name, player_id]
    # An attempt's event, sent or tried with an innocent question: a stream, in a group of its own.
    attempting = dict(
        show_progress_on=[panel.answer],
        concurrency_id="guard_attempts",
        concurrency_limit=attempts_at_once(hub),
        preprocess=False,  # the handler checks what it is sent, and answers in the page's language
    )
    gr.on(
        [panel.send.click, panel.prompt.submit],
        handlers.attempt,
        [panel.level, panel.prompt, player_id],
        attempt_outputs,
        api_name="guard_attempt",
        **attempting,
    )
    gr.on(
        [panel.guess_button.click, panel.guess.submit],
        handlers.guess,
        [panel.level, panel.guess, player_id],
        [panel.guess_result, panel.level, panel.progress, player_id],
        api_name="guard_guess",
        preprocess=False,
    )
    try_innocent.click(handlers.innocent_question, None, [panel.prompt], api_visibility="private", queue=False).then(
        handlers.attempt,
        [panel.level, panel.prompt, player_id],
        attempt_outputs,
        api_visibility="private",
        **attempting,
    )
    join.click(
        handlers.join,
        [code, nickname, player_id],
        [room_status, panel.progress, player_id],
        api_name="guard_join_room",
        preprocess=False,
    )
    create.click(handlers.create, [player_id], [host_panel, host_controls, player_id], api_name="guard_create_room")
    close.click(
        handlers.close_level,
        [close_choice, player_id],
        [host_panel, player_id],
        api_name="guard_close_level",
        preprocess=False,
    )
    end.click(handlers.end, [player_id], [host_panel, player_id], api_name="guard_end_room")
    open_board = gr.Button(visible="hidden", elem_id="guards-open-board")
    open_board.click(
        handlers.open_board,
        None,
        [board_panel, board_code, board, timer],
        api_visibility="private",
        queue=False,
    )
    timer.tick(handlers.board, [board_code], [board], api_name="guard_board", show_progress="hidden")
    gr.context.Context.root_block.load(None, js=OPEN_THE_PAGE_JS)
