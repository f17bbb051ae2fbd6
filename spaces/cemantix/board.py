"""The projector's board of a room (`?tab=cemantix&board=CODE`): in place of the sub-tabs, refreshed
every BOARD_REFRESH_SECONDS; the same view is the host's panel once the room has ended."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from shared.i18n import request_language
from shared.rooms import RoomError
from spaces.cemantix import logic, render
from spaces.cemantix.context import TabContext, WordsMissing, cached_qr_code
from spaces.cemantix.rooms import Board
from spaces.cemantix.texts import TEXTS

BOARD_REFRESH_SECONDS = 2  # a player's guess shows on the board within 3 s


@dataclass
class BoardPanel:
    panel: gr.Column
    code: gr.Textbox
    board: gr.HTML
    timer: gr.Timer

    @property
    def load_outputs(self) -> list:
        """What the page opens with (load_updates): in the page since the hub started, or a saved session's."""
        return [self.panel, self.code, self.board, self.timer]


def room_error_message(error: RoomError, language: str) -> str:
    return TEXTS.get(f"cemantix_room_error_{error.reason}", language, **error.values)


def board_view(context: TabContext, board: Board, request: gr.Request, language: str) -> str:
    """The board's HTML: how to join while the room plays, the word and the room's words after."""
    if not board.ended:
        address = context.join_url(request, board.code)
        return render.board_html(board, language, address, cached_qr_code(address) if address else "")
    try:
        vocabulary = context.vocabulary(board.words_language, lambda *_, **__: None, language)
    except WordsMissing:
        return render.board_html(board, language, None)
    game = logic.Game(board.words_language, board.secret, vocabulary)
    tried = [
        (word, tries, *game.score(word))
        for word, tries in board.tried_words
        if word in vocabulary and word != board.secret  # the secret is the map's centre
    ]
    points = logic.map_around(game, {word: "guess" for word, _, _, _ in tried})
    room_map = render.map_svg(points, render.BOARD_MAP)
    return render.board_html(board, language, None, tried=tried, room_map_svg=room_map)


def build_board(context: TabContext) -> BoardPanel:
    with gr.Column(visible=False, elem_id="cemantix-board-panel") as panel:
        code = gr.Textbox(visible=False)
        board = gr.HTML(elem_id="cemantix-board")
        timer = gr.Timer(BOARD_REFRESH_SECONDS, active=False)

    def show_board(text: str, request: gr.Request):
        language = request_language(request)
        try:
            current = context.rooms.board(text)
        except RoomError as error:
            return render.paragraph(room_error_message(error, language), "cx-problem")
        return board_view(context, current, request, language)

    timer.tick(show_board, [code], [board], api_name="cemantix_board", show_progress="hidden")
    return BoardPanel(panel, code, board, timer)


def load_updates(context: TabContext, panel: BoardPanel, wanted: str, request: gr.Request, language: str) -> dict:
    """The board, when the page was opened for it (`?board=CODE`); else the panel stays hidden."""
    if not wanted:
        return {panel.panel: gr.Column(visible=False), panel.timer: gr.Timer(active=False)}
    try:
        board = board_view(context, context.rooms.board(wanted), request, language)
    except RoomError as error:
        board = render.paragraph(room_error_message(error, language), "cx-problem")
    return {
        panel.panel: gr.Column(visible=True),
        panel.code: wanted,
        panel.board: board,
        panel.timer: gr.Timer(active=True),
    }
