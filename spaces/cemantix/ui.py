"""The Cémantix tab: guess the secret word by the warmth of its vector; a lecture room with a
board for the projector; an explorer of the embedding space (neighbours, similarity, analogies).

Three sub-tabs, one builder each (play.py, room.py, explorer.py), the projector's board in
board.py, what their handlers share in context.py; texts in texts.py, HTML and SVG in render.py,
styles in cemantix.css. This file lays them out and opens the page.

A player's game lives on the server (sessions.py): the browser keeps only a random token in its
local storage, so a reload, a switched app or a locked phone finds the game again, and the
secret reaches the browser only once the game is over. URL parameters: `?room=CODE` fills in
the code to join a room, `?board=CODE` shows the room's board; on the demo's page of its own
(`/cemantix/`, what a room's QR code opens: app.py) and in the whole hub (with `?tab=cemantix`).
"""

from pathlib import Path

import gradio as gr

from shared.hub import Hub
from shared.hub_ui import set_first_values
from shared.i18n import request_language
from shared.rooms import clean_code
from spaces.cemantix import board as board_panel
from spaces.cemantix import explorer as explorer_tab
from spaces.cemantix import logic
from spaces.cemantix import play as play_tab
from spaces.cemantix import room as room_tab
from spaces.cemantix.context import TabContext, shared_by_pages
from spaces.cemantix.sessions import Session
from spaces.cemantix.texts import TEXTS
from spaces.cemantix.vocabulary import LANGUAGES, load_vocabulary

__all__ = ["CSS", "TEXTS", "build", "prepare", "warm_up"]

CSS = Path(__file__).with_name("cemantix.css").read_text(encoding="utf-8")
# The local storage entry (Gradio encrypts it) where a browser keeps its player token.
PLAYER_TOKEN_KEY = "iagen-cemantix-player"
# A phone opening the page asks the server nothing: what is the same for everyone is in the page
# since the hub started (first_values), and the browser itself fills in a join link's code
# (`?room=CODE`) and opens « Salle ». Only a browser that holds a saved token (a game or a room to
# find again) or opens a board (`?board=CODE`) asks for its own, by tapping the hidden « resume »
# button. The sub-tab the answer opens is opened unless the player tapped one meanwhile: on a
# busy server the answer comes seconds later, and must not undo a tap.
OPEN_THE_PAGE_JS = """() => {
  document.addEventListener("click", (event) => {
    if (event.isTrusted && event.target.closest && event.target.closest("#cemantix-sections [role=tab]")) {
      window.cemantixSectionChosen = true;
    }
  }, true);
  const wanted = new URLSearchParams(window.location.search);
  if (localStorage.getItem("PLAYER_TOKEN_KEY") !== null || wanted.get("board")) {
    document.querySelector("#cemantix-resume").click();
    return;
  }
  const room = (wanted.get("room") || "").replace(/\\s+/g, "").toUpperCase().slice(0, 12);
  if (!room) return;
  document.querySelector("#cemantix-room-button")?.click();
  const fill = (triesLeft) => {  // the sub-tab's boxes are drawn once it is open
    const box = document.querySelector("#cemantix-room-code input, #cemantix-room-code textarea");
    if (box) {
      box.value = room;
      box.dispatchEvent(new Event("input", {bubbles: true}));
    } else if (triesLeft > 0) {
      setTimeout(() => fill(triesLeft - 1), 50);
    }
  };
  fill(100);
}""".replace("PLAYER_TOKEN_KEY", PLAYER_TOKEN_KEY)
OPEN_SECTION_JS = """(wanted) => {
  const button = wanted && document.getElementById(`cemantix-${wanted}-button`);
  if (button && !window.cemantixSectionChosen && button.getAttribute("aria-selected") !== "true") button.click();
}"""
# After an action of a browser that holds no saved token yet (its first game or room, started
# with no page-load event), the session the action made is saved in the browser, once.
SAVE_THE_TOKEN_JS = """() => {
  if (localStorage.getItem("PLAYER_TOKEN_KEY") === null) document.querySelector("#cemantix-save-token").click();
}""".replace("PLAYER_TOKEN_KEY", PLAYER_TOKEN_KEY)


def prepare(hub: Hub) -> None:
    """The night before (python -m shared.prefetch): both vocabularies built into the cache."""
    for words_language in LANGUAGES:
        load_vocabulary(hub, words_language)


def warm_up(hub: Hub) -> None:
    """Build or load both vocabularies and rank today's words, so the first guesses answer at once."""
    for words_language in LANGUAGES:
        vocabulary = load_vocabulary(hub, words_language)
        vocabulary.ranking(logic.daily_secret(vocabulary, logic.puzzle_day()))


def build(hub: Hub, own_page: bool = False) -> None:
    """The demo, in the whole hub's tab or (`own_page`) as the page of its own that app.py mounts:
    both share this server's rooms and players' sessions."""
    context = TabContext(hub, own_page=own_page, **shared_by_pages(hub))
    gr.Markdown(TEXTS.label("cemantix_intro"), elem_id="cemantix-intro")
    notice = gr.HTML(elem_id="cemantix-notice")
    session_state = gr.State(None)
    player_token = gr.BrowserState(None, storage_key=PLAYER_TOKEN_KEY, secret=context.token_secret)
    wanted_section = gr.Textbox(visible=False)
    board = board_panel.build_board(context)
    with gr.Tabs(elem_id="cemantix-sections") as sections:
        with gr.Tab(TEXTS.label("cemantix_play_tab"), id="play", elem_id="cemantix-play"):
            play = play_tab.build_play(context, session_state)
        with gr.Tab(TEXTS.label("cemantix_room_tab"), id="room", elem_id="cemantix-room"):
            room = room_tab.build_room(context, session_state, play, sections)
        with gr.Tab(TEXTS.label("cemantix_explorer_tab"), id="explorer", elem_id="cemantix-explorer"):
            explorer = explorer_tab.build_explorer(context, session_state)

    def on_load(token, request: gr.Request):
        """A browser with a saved token (or opening a board): find its session again and open the
        page on it: the game in play, the room joined or hosted, or the board the page was opened
        for. A forged or stale token finds nothing: a new session."""
        language = request_language(request)
        session, resumed = context.sessions.resume(token)
        wanted_board = clean_code(request.query_params.get("board"))
        wanted_room = room_tab.wanted_room(request)
        values = opening_values(session, resumed, wanted_room, wanted_board, request, language)
        values[player_token] = session.token
        values[notice] = context.notice(request, language)
        return values

    def opening_values(session, resumed: bool, wanted_room: str, wanted_board: str, request, language: str) -> dict:
        playable = context.playable(language)
        in_that_room = session.game is not None and session.game.room_code == wanted_room and not session.game.over
        hosting = session.hosted_room is not None and not context.rooms.is_ended(session.hosted_room[0])
        values = {
            session_state: session,
            sections: gr.Tabs(visible=not wanted_board),
            wanted_section: "room" if (wanted_room and not in_that_room) or hosting else "",
        }
        in_open_room = context.in_open_room(session)
        values.update(play_tab.load_updates(play, session, resumed, language, playable, in_open_room))
        values.update(room_tab.load_updates(context, room, session, wanted_room, request, language))
        values.update(explorer_tab.load_updates(explorer, language, playable))
        values.update(board_panel.load_updates(context, board, wanted_board, request, language))
        return values

    def first_values():
        """What a browser with nothing saved sees, the same for everyone but its language: in the
        page since the hub started. (The session its first action makes is saved then.)"""
        by_language = {}
        for language in LANGUAGES:
            values = opening_values(Session(), False, "", "", None, language)
            values[notice] = context.notice(None, language)
            by_language[language] = values
        set_first_values(hub, "cemantix_first", by_language)

    hub.at_start(first_values)

    outputs = [session_state, player_token, notice, sections, wanted_section]
    outputs += [*play.load_outputs, *room.load_outputs, *explorer.load_outputs, *board.load_outputs]
    resume = gr.Button(visible="hidden", elem_id="cemantix-resume")
    # Not queued: the answer comes at once, even while the queue is busy.
    # No spinner: Gradio's would cover the word box (« 0.9s ») while the page opens.
    resumed = resume.click(
        on_load, [player_token], outputs, api_visibility="private", queue=False, show_progress="hidden"
    )
    resumed.then(None, [wanted_section], None, js=OPEN_SECTION_JS)
    save_token = gr.Button(visible="hidden", elem_id="cemantix-save-token")
    save_token.click(
        lambda session: session.token if session is not None else gr.skip(),
        [session_state],
        [player_token],
        api_visibility="private",
        queue=False,
    )
    for event in context.session_events:
        event.then(None, None, None, js=SAVE_THE_TOKEN_JS)
    # The page's load event, of the Blocks being built (build(hub) gets no handle on it): in the
    # browser only.
    gr.context.Context.root_block.load(None, js=OPEN_THE_PAGE_JS)
