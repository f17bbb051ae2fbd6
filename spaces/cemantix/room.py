"""The « Salle » sub-tab: join a room with its code and a nickname (the board's QR code fills the
code in), or create one for a lecture hall (a random word unless the host picks the daily one)
and end it, which reveals the word to the room."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from shared.hub import is_host
from shared.i18n import request_language
from shared.rooms import MAX_NICKNAME_LENGTH, RoomError, clean_code, clean_nickname
from spaces.cemantix import logic, render
from spaces.cemantix.board import board_view, room_error_message
from spaces.cemantix.context import TabContext, WordsMissing, cached_qr_code
from spaces.cemantix.play import PlayTab, tap_button, words_language_choices
from spaces.cemantix.sessions import Session
from spaces.cemantix.texts import TEXTS
from spaces.cemantix.vocabulary import LANGUAGES


@dataclass
class RoomTab:
    code: gr.Textbox
    nickname: gr.Textbox
    join_button: gr.Button
    status: gr.HTML
    words_language_choice: gr.Radio
    mode_choice: gr.Radio
    create_fold: gr.Accordion
    create_button: gr.Button
    host_panel: gr.HTML
    end_button: gr.Button

    @property
    def load_outputs(self) -> list:
        """What the page opens with (load_updates): in the page since the hub started, or a saved session's."""
        return [
            self.code,
            self.nickname,
            self.status,
            self.words_language_choice,
            self.create_fold,
            self.host_panel,
            self.end_button,
            self.join_button,
            self.create_button,
        ]


def host_panel(context: TabContext, session: Session, request: gr.Request, language: str) -> str:
    """The panel of the room this browser created: while it plays, its QR code and links."""
    code, _ = session.hosted_room
    try:
        board = context.rooms.board(code)
    except RoomError as error:
        return render.paragraph(room_error_message(error, language), "cx-problem")
    if board.ended:
        return board_view(context, board, request, language)
    address = context.join_url(request, code)
    return render.host_panel_html(
        code,
        language,
        board.words_language,
        board.puzzle_number,
        address,
        cached_qr_code(address) if address else "",
        TEXTS.get("cemantix_host_remedy", language, host=context.hub.settings.host) if is_host(request) else "",
        context.board_link(code),
    )


def build_room(context: TabContext, session_state: gr.State, play: PlayTab, sections: gr.Tabs) -> RoomTab:
    gr.Markdown(TEXTS.label("cemantix_room_intro"))
    gr.Markdown(TEXTS.label("cemantix_join_heading"))
    with gr.Group():
        code = gr.Textbox(
            label=TEXTS.label("cemantix_room_code"), max_lines=1, max_length=12, elem_id="cemantix-room-code"
        )
        nickname = gr.Textbox(
            label=TEXTS.label("cemantix_nickname"),
            max_lines=1,
            # The server counts what a person sees (an emoji is one character, several code
            # points); the browser's limit counts code units: room for 20 emoji of 4 each.
            max_length=4 * MAX_NICKNAME_LENGTH,
            elem_id="cemantix-nickname",
            html_attributes=gr.InputHTMLAttributes(autocomplete="nickname", enterkeyhint="go"),
        )
    join_button = tap_button("cemantix_join", variant="primary", elem_id="cemantix-join")
    status = gr.HTML(elem_classes=["cx-status"], elem_id="cemantix-room-status")
    with gr.Accordion(
        TEXTS.label("cemantix_create_heading"), open=False, elem_id="cemantix-create-room"
    ) as create_fold:
        words_language_choice = gr.Radio(
            words_language_choices(), value="fr", label=TEXTS.label("cemantix_words_language")
        )
        mode_choice = gr.Radio(
            [
                (TEXTS.label("cemantix_room_mode_random"), "random"),
                (TEXTS.label("cemantix_room_mode_daily"), "daily"),
            ],
            value="random",
            label=TEXTS.label("cemantix_room_mode"),
        )
        create_button = tap_button("cemantix_create", elem_id="cemantix-create")
        host = gr.HTML(elem_id="cemantix-host-panel")
        end_button = tap_button("cemantix_end_room", variant="stop", visible=False, elem_id="cemantix-end-room")
    tab = RoomTab(
        code,
        nickname,
        join_button,
        status,
        words_language_choice,
        mode_choice,
        create_fold,
        create_button,
        host,
        end_button,
    )

    def join_room(text: str, name: str, session: Session | None, request: gr.Request, progress=gr.Progress()):
        language = request_language(request)
        session = context.session(session)
        unchanged = [gr.skip()] * (len(play.game_outputs) - 1)
        try:
            ticket = context.rooms.join(text, name, session.token)
            words = context.vocabulary(ticket.words_language, progress, language)
        except RoomError as error:
            return session, render.paragraph(room_error_message(error, language), "cx-problem"), gr.skip(), *unchanged
        except WordsMissing as missing:
            return session, render.paragraph(str(missing), "cx-problem"), gr.skip(), *unchanged
        game = session.game
        if game is None or game.room_code != ticket.code:  # joining again keeps the game going
            session.game = logic.Game(ticket.words_language, ticket.secret, words, ticket.puzzle_number, ticket.code)
        session.nickname = clean_nickname(name)
        joined = TEXTS.get("cemantix_joined", language, code=ticket.code, nickname=session.nickname)
        view = play.view(session, language, joined, True, box="")
        return view[0], render.paragraph(joined, "cx-good"), gr.Tabs(selected="play"), *view[1:]

    joined = join_button.click(
        join_room,
        [code, nickname, session_state],
        [session_state, status, sections, *play.game_outputs[1:]],
        api_name="cemantix_join_room",
    )
    context.makes_a_session(joined)
    # In the room: the phone watches for its end (play.py's timer), from now on.
    joined.then(
        lambda session: gr.Timer(active=context.in_open_room(session)),
        [session_state],
        [play.room_watch],
        api_visibility="private",
        queue=False,
        show_progress="hidden",
    )

    def create_room(
        words_language: str, mode: str, session: Session | None, request: gr.Request, progress=gr.Progress()
    ):
        language = request_language(request)
        session = context.session(session)
        words_language = words_language if words_language in LANGUAGES else language
        try:
            words = context.vocabulary(words_language, progress, language)
        except WordsMissing as missing:
            return session, render.paragraph(str(missing), "cx-problem"), gr.skip()
        # A random word by default: the daily one is public (« Jouer »), and some students
        # will have given it up already.
        day = logic.puzzle_day()
        daily = mode == "daily"
        secret = logic.daily_secret(words, day) if daily else logic.random_secret(words, day)
        try:
            room_code, host_key = context.rooms.create(
                words_language, secret, logic.puzzle_number(day) if daily else None
            )
        except RoomError as error:
            return session, render.paragraph(room_error_message(error, language), "cx-problem"), gr.skip()
        session.hosted_room = (room_code, host_key)
        return session, host_panel(context, session, request, language), gr.Button(visible=True)

    created = create_button.click(
        create_room,
        [words_language_choice, mode_choice, session_state],
        [session_state, host, end_button],
        api_name="cemantix_create_room",
    )
    context.makes_a_session(created)

    def end_room(session: Session | None, request: gr.Request):
        language = request_language(request)
        if session is None or session.hosted_room is None:
            return render.paragraph(TEXTS.get("cemantix_no_hosted_room", language), "cx-problem")
        room_code, host_key = session.hosted_room
        try:
            ended = context.rooms.end(room_code, host_key)
        except RoomError as error:
            return render.paragraph(room_error_message(error, language), "cx-problem")
        return board_view(context, ended, request, language)

    def hide_once_ended(session: Session | None):
        """The room ended (by this click or another of the host's pages): nothing left to end."""
        hosted = session.hosted_room if session is not None else None
        return gr.Button(visible=hosted is None or not context.rooms.is_ended(hosted[0]))

    # Two steps: /cemantix_end_room keeps its one output for API clients.
    ended = end_button.click(end_room, [session_state], [host], api_name="cemantix_end_room")
    ended.then(hide_once_ended, [session_state], [end_button], api_visibility="private", queue=False)
    return tab


def load_updates(
    context: TabContext, tab: RoomTab, session: Session, wanted_code: str, request: gr.Request, language: str
) -> dict:
    """The sub-tab as the page opens: the code of a join link filled in, this browser's last
    nickname, and the panel of the room it hosts (a lecturer's reload keeps it)."""
    values = {tab.words_language_choice: gr.Radio(value=(context.playable(language) or [language])[0])}
    if wanted_code:
        values[tab.code] = wanted_code
    if session.nickname:
        values[tab.nickname] = session.nickname
    game = session.game
    if wanted_code and game is not None and game.room_code == wanted_code and not game.over:
        values[tab.status] = render.paragraph(
            TEXTS.get("cemantix_resumed_room", language, code=wanted_code, nickname=session.nickname), "cx-good"
        )
    if session.hosted_room is not None:  # the lecturer's page reloaded: their room, open
        values[tab.create_fold] = gr.Accordion(open=True)
        values[tab.host_panel] = host_panel(context, session, request, language)
        values[tab.end_button] = gr.Button(visible=not context.rooms.is_ended(session.hosted_room[0]))
    can_play = bool(context.playable(language))
    for button in (tab.join_button, tab.create_button):
        values[button] = gr.Button(interactive=can_play)
    return values


def wanted_room(request: gr.Request) -> str:
    """The room code of a join link (`?room=CODE`), cleaned."""
    return clean_code(request.query_params.get("room"))
