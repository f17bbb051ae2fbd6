"""The « Jouer » sub-tab: the word box, « Indice » and « Abandonner » right under it (a phone keeps
them in reach above the history), the history, and at the end the word, its map and its nearest
words, with « Nouvelle partie » one tap away."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from shared.hub_ui import UNPROCESSED, sent_text
from shared.i18n import request_language
from spaces.cemantix import logic, render
from spaces.cemantix.context import TabContext, WordsMissing
from spaces.cemantix.sessions import Session
from spaces.cemantix.texts import TEXTS
from spaces.cemantix.vocabulary import LANGUAGES

# A phone in a room asks every ROOM_WATCH_SECONDS whether the room ended, so that its end shows
# without a word typed: one light call (no queue, one look-up in the table of rooms, nothing sent
# back while it plays on), 10 calls a second for 100 phones (benchmarks/cemantix.py --room-watch).
ROOM_WATCH_SECONDS = 10


def tap_button(text_key: str, **options) -> gr.Button:
    """A button a finger hits: 44 px high (.cx-tap in cemantix.css), its text in the page's language."""
    return gr.Button(TEXTS.label(text_key), elem_classes=["cx-tap"], size="md", **options)


def words_language_choices():
    return [(TEXTS.label(f"cemantix_choice_{words_language}"), words_language) for words_language in LANGUAGES]


@dataclass
class PlayTab:
    session_state: gr.State
    header: gr.HTML
    playing: gr.Column  # the word box and the actions, closed after the end
    word: gr.Textbox
    actions: gr.Row
    hint_button: gr.Button
    give_up_button: gr.Button
    confirm: gr.Row
    play_again_button: gr.Button
    status: gr.HTML
    share: gr.Textbox
    reveal: gr.HTML
    history: gr.HTML
    result: gr.JSON
    words_language_choice: gr.Radio
    mode_choice: gr.Radio
    start_button: gr.Button
    room_watch: gr.Timer  # ticks while the game plays in a room (ROOM_WATCH_SECONDS)

    @property
    def game_outputs(self) -> list:
        """What every game answer updates. The API shows the components with a value, in this
        order: header, status, history, share, reveal, state (JSON), word box."""
        return [
            self.session_state,
            self.header,
            self.status,
            self.history,
            self.share,
            self.reveal,
            self.result,
            self.word,
            self.playing,
            self.actions,
            self.confirm,
            self.play_again_button,
        ]

    @property
    def load_outputs(self) -> list:
        """What the page opens with (load_updates): in the page since the hub started, or a saved session's."""
        game = [component for component in self.game_outputs if component is not self.result]
        return [
            *game,
            self.hint_button,
            self.give_up_button,
            self.start_button,
            self.words_language_choice,
            self.room_watch,
        ]

    def view(
        self,
        session: Session,
        language: str,
        message: str,
        good: bool,
        box: str | None = None,
        said: str = "",
        **action,
    ) -> tuple:
        """The values of `game_outputs`: the game as it stands, `message` in the status line (or,
        with no message, `said`: for a screen reader only, the status being a live region),
        `action` in the JSON state. `box` is the word box's new value (None: leave what the
        player typed)."""
        game = session.game
        over = game is not None and game.over
        share = (
            gr.Textbox(value=render.share_text(game, language), visible=True)
            if over
            else gr.Textbox(value="", visible=False)
        )
        return (
            session,
            render.header_html(game, language, pending_words_language=language),
            render.paragraph(message, "cx-good" if good else "cx-problem") or render.paragraph(said, "cx-said"),
            render.history_html(game, language),
            share,
            render.reveal_html(game, language),
            render.game_state(game, **action),
            gr.skip() if box is None else box,
            gr.Column(visible=not over),  # after the end the box is closed
            gr.Row(visible=True),
            gr.Row(visible=False),
            gr.Button(visible=over),
        )


def build_play(context: TabContext, session_state: gr.State) -> PlayTab:
    header = gr.HTML(elem_id="cemantix-header")
    with gr.Column(elem_id="cemantix-playing") as playing:
        word = gr.Textbox(
            label=TEXTS.label("cemantix_word"),
            show_label=False,
            placeholder=TEXTS.label("cemantix_word_placeholder"),
            max_lines=1,
            submit_btn=True,
            elem_id="cemantix-word",
            html_attributes=gr.InputHTMLAttributes(
                autocapitalize="off", autocorrect="off", spellcheck=False, autocomplete="off", enterkeyhint="send"
            ),
        )
        with gr.Row(elem_id="cemantix-actions", equal_height=True) as actions:
            hint_button = tap_button("cemantix_hint", elem_id="cemantix-hint")
            give_up_button = tap_button("cemantix_give_up", variant="stop", elem_id="cemantix-give-up")
        with gr.Row(visible=False, elem_id="cemantix-give-up-confirm", equal_height=True) as confirm:
            gr.Markdown(TEXTS.label("cemantix_give_up_question"), elem_classes=["cx-question"])
            confirm_button = tap_button("cemantix_give_up_confirm", variant="stop", elem_id="cemantix-give-up-yes")
            cancel_button = tap_button("cemantix_give_up_cancel", elem_id="cemantix-give-up-no")
    play_again_button = tap_button(
        "cemantix_play_again", variant="primary", visible=False, elem_id="cemantix-play-again"
    )
    status = gr.HTML(elem_classes=["cx-status", "hub-live"], elem_id="cemantix-status")
    share = gr.Textbox(
        label=TEXTS.label("cemantix_share"),
        visible=False,
        interactive=False,
        lines=2,
        buttons=["copy"],
        elem_id="cemantix-share",
    )
    reveal = gr.HTML(elem_id="cemantix-reveal")
    history = gr.HTML(elem_id="cemantix-history")
    result = gr.JSON(visible=False)
    with gr.Accordion(TEXTS.label("cemantix_new_game_heading"), open=False, elem_id="cemantix-new-game"):
        words_language_choice = gr.Radio(
            words_language_choices(), value="fr", label=TEXTS.label("cemantix_words_language")
        )
        mode_choice = gr.Radio(
            [(TEXTS.label("cemantix_mode_daily"), "daily"), (TEXTS.label("cemantix_mode_random"), "random")],
            value="daily",
            label=TEXTS.label("cemantix_mode"),
        )
        start_button = tap_button("cemantix_start", variant="primary", elem_id="cemantix-start")
    with gr.Accordion(TEXTS.label("cemantix_rules_heading"), open=False):
        gr.Markdown(TEXTS.label("cemantix_rules"))
    room_watch = gr.Timer(ROOM_WATCH_SECONDS, active=False)

    tab = PlayTab(
        session_state,
        header,
        playing,
        word,
        actions,
        hint_button,
        give_up_button,
        confirm,
        play_again_button,
        status,
        share,
        reveal,
        history,
        result,
        words_language_choice,
        mode_choice,
        start_button,
        room_watch,
    )

    def guess(text: str, session: Session | None, request: gr.Request, progress=gr.Progress()):
        language = request_language(request)
        text = sent_text(text)  # UNPROCESSED, below
        session = context.session(session)
        if session.game is None:  # the first word starts the daily game, in the page's language
            try:
                words_language = (context.playable(language) or [language])[0]
                session.game = logic.daily_game(context.vocabulary(words_language, progress, language))
            except WordsMissing as missing:
                return tab.view(session, language, str(missing), False)
        game = session.game
        # A word typed as the room ended is scored and kept all the same (the room no longer
        # counts it): the player sees it in the history, beside the end.
        outcome = game.guess(text)
        context.record_in_room(session, outcome.word if outcome.counted else None)
        context.end_if_room_ended(session)
        if outcome.found or game.outcome == logic.ROOM_ENDED:
            message, good = render.end_message(game, language), outcome.found
        elif outcome.counted:  # the history shows it; a screen reader hears it (cx-said)
            message, good = "", True
        else:
            message, good = render.problem_message(outcome, language), False
        # A counted word leaves the box for the next one; a refused one stays, to be corrected.
        cleared = outcome.counted or outcome.problem == logic.REPEATED
        return tab.view(
            session,
            language,
            message,
            good,
            box="" if cleared else None,
            said=render.scored_message(outcome, language) if outcome.counted else "",
            word=outcome.word,
            counted=outcome.counted,
            temperature=outcome.temperature,
            permille=outcome.permille,
            problem=outcome.problem,
        )

    guessed = gr.on(
        [word.submit],
        guess,
        [word, session_state],
        tab.game_outputs,
        api_name="cemantix_guess",
        show_progress="full",
        show_progress_on=[status],
        **UNPROCESSED,  # the word and seven values: hand-overs that add up for a room guessing at once
    )
    context.makes_a_session(guessed)

    def hint(session: Session | None, request: gr.Request):
        language = request_language(request)
        session = context.session(session)
        game = session.game
        context.end_if_room_ended(session)
        given = game.hint() if game is not None else None  # none once the game is over
        context.record_in_room(session)
        if game is not None and game.outcome == logic.ROOM_ENDED:
            message = render.end_message(game, language)
        elif given is None:
            message = TEXTS.get("cemantix_no_hint", language)
        else:
            message = TEXTS.get("cemantix_hint_given", language, word=given.word)
        hint_fields = {} if given is None else {"temperature": given.temperature, "permille": given.permille}
        return tab.view(
            session, language, message, given is not None, hint=given.word if given else None, **hint_fields
        )

    context.makes_a_session(
        hint_button.click(hint, [session_state], tab.game_outputs, api_name="cemantix_hint", show_progress="hidden")
    )

    # Giving up asks once: « Abandonner » opens the question in its place, answered in one tap.
    give_up_button.click(
        lambda: (gr.Row(visible=False), gr.Row(visible=True)),
        None,
        [actions, confirm],
        api_visibility="private",
        queue=False,
        show_progress="hidden",
    )
    cancel_button.click(
        lambda: (gr.Row(visible=True), gr.Row(visible=False)),
        None,
        [actions, confirm],
        api_visibility="private",
        queue=False,
        show_progress="hidden",
    )

    def give_up(session: Session | None, request: gr.Request):
        language = request_language(request)
        session = context.session(session)
        game = session.game
        if game is None or game.over:
            return tab.view(session, language, TEXTS.get("cemantix_problem_game_over", language), False)
        if context.end_if_room_ended(session):  # the room ended first: not an « abandon »
            return tab.view(session, language, render.end_message(game, language), False)
        game.give_up()
        context.record_in_room(session)
        return tab.view(session, language, "", True)  # the reveal says it all

    context.makes_a_session(
        confirm_button.click(
            give_up, [session_state], tab.game_outputs, api_name="cemantix_give_up", show_progress="hidden"
        )
    )

    def new_game(words_language: str, mode: str, session: Session | None, request: gr.Request, progress=gr.Progress()):
        language = request_language(request)
        session = context.session(session)
        words_language = words_language if words_language in LANGUAGES else language
        try:
            words = context.vocabulary(words_language, progress, language)
        except WordsMissing as missing:
            return tab.view(session, language, str(missing), False)
        name = render.words_language_name(words_language, language)
        if mode == "random":
            session.game = logic.Game(words_language, logic.random_secret(words), words)
            message = TEXTS.get("cemantix_new_random", language, words_language=name)
        else:
            session.game = logic.daily_game(words)
            message = TEXTS.get("cemantix_new_daily", language, number=session.game.puzzle_number, words_language=name)
        return tab.view(session, language, message, True, box="")

    started = start_button.click(
        new_game,
        [words_language_choice, mode_choice, session_state],
        tab.game_outputs,
        api_name="cemantix_new_game",
        show_progress_on=[status],
    )
    context.makes_a_session(started)

    def play_again(session: Session | None, request: gr.Request, progress=gr.Progress()):
        """« Nouvelle partie » after the end: a random word in the same words' language."""
        game = context.session(session).game
        words_language = game.words_language if game else request_language(request)
        return new_game(words_language, "random", session, request, progress)

    context.makes_a_session(
        play_again_button.click(
            play_again, [session_state], tab.game_outputs, api_visibility="private", show_progress_on=[status]
        )
    )

    def watch_room(session: Session | None, request: gr.Request):
        """A tick of a phone in a room: nothing while the room plays on; its end once it ended;
        and the watch stops once the game is not in an open room any more."""
        if session is not None and context.end_if_room_ended(session):
            language = request_language(request)
            view = tab.view(session, language, render.end_message(session.game, language), False)
            return *view, gr.Timer(active=False)
        unchanged = [gr.skip()] * len(tab.game_outputs)
        return *unchanged, gr.skip() if context.in_open_room(session) else gr.Timer(active=False)

    # Not queued: a tick never waits behind the language models' work, nor holds a worker.
    room_watch.tick(
        watch_room,
        [session_state],
        [*tab.game_outputs, room_watch],
        api_visibility="private",
        queue=False,
        show_progress="hidden",
    )
    return tab


def load_updates(
    tab: PlayTab, session: Session, resumed: bool, language: str, playable: list[str], in_open_room: bool
) -> dict:
    """The sub-tab as the page opens: the game this browser was playing, if any (and, in a room
    still open, the watch for its end)."""
    game = session.game
    message = ""
    if resumed and game is not None and game.entries and not game.over:
        guesses = render.counted("cemantix_guess_count", game.guesses, language)
        message = TEXTS.get("cemantix_resumed", language, guesses=guesses)
    values = dict(zip(tab.game_outputs, tab.view(session, language, message, True), strict=True))
    del values[tab.result]  # the JSON side is for API answers
    can_play = bool(playable)
    values[tab.word] = gr.Textbox(interactive=can_play)
    for button in (tab.hint_button, tab.give_up_button, tab.start_button, tab.play_again_button):
        values[button] = gr.Button(interactive=can_play)
    values[tab.play_again_button] = gr.Button(visible=bool(game and game.over), interactive=can_play)
    words_language = game.words_language if game else (playable or [language])[0]
    values[tab.words_language_choice] = gr.Radio(value=words_language)
    values[tab.room_watch] = gr.Timer(active=in_open_room)
    return values
