"""What the handlers of every Cémantix sub-tab share: the hub, this server's rooms and players'
sessions, and the few steps they all take (load a vocabulary, find the player's session, tell the
player's room what they did, say what this server lacks)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import gradio as gr

from shared.hub import Hub, is_host
from shared.hub_ui import join_url, notice_html
from shared.weights import WeightsUnavailable
from spaces.cemantix import logic
from spaces.cemantix.render import escape, words_language_name
from spaces.cemantix.rooms import Rooms
from spaces.cemantix.sessions import Session, Sessions
from spaces.cemantix.texts import TEXTS
from spaces.cemantix.vocabulary import (
    FREQUENCY_SOURCE,
    LANGUAGES,
    VECTOR_SOURCES,
    Vocabulary,
    load_vocabulary,
    offensive_words,
)


class WordsMissing(Exception):
    """The vectors of a words' language are not on this server; the message is the sentence a
    player reads, in the page's language."""


# The path of Cémantix's page of its own, under the hub's address (app.py mounts it): what a room's
# join link and board open, a page holding this demo alone (a fraction of the whole hub's download).
OWN_PAGE = "cemantix/"


@dataclass
class TabContext:
    hub: Hub
    rooms: Rooms = field(default_factory=lambda: Rooms(refused_nickname_words=offensive_words()))
    sessions: Sessions = field(default_factory=Sessions)
    # The key the browser's saved token is encrypted with (gr.BrowserState): the same on every page
    # of this hub, so that a game begun in the whole hub is found again on the demo's own page.
    token_secret: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    # Whether this is the demo's page of its own (OWN_PAGE) rather than its tab in the whole hub.
    own_page: bool = False
    # The events whose handler may make the browser's session (`session`): the browser saves its
    # token after them when it holds none yet (ui.py), since no page-load event made one.
    session_events: list = field(default_factory=list)

    def makes_a_session(self, event) -> None:
        self.session_events.append(event)

    def session(self, session: Session | None) -> Session:
        """The browser's session: the one its saved token found again, or (a browser's first
        action, an API client) a new one, kept in its gr.State from then on."""
        return session if session is not None else self.sessions.new()

    def missing(self) -> dict[str, WeightsUnavailable]:
        """What this server lacks, by words' language (finding a package folder is instant; the
        log gets each remedy once)."""
        frequencies = self.hub.weights.unavailable(FREQUENCY_SOURCE)
        found = {
            words_language: self.hub.weights.unavailable(VECTOR_SOURCES[words_language]) or frequencies
            for words_language in LANGUAGES
        }
        return {words_language: reason for words_language, reason in found.items() if reason is not None}

    def playable(self, language: str) -> list[str]:
        """The words' languages this server can play, the page's first."""
        missing = self.missing()
        return sorted((lang for lang in LANGUAGES if lang not in missing), key=lambda lang: lang != language)

    def notice(self, request: gr.Request, language: str) -> str:
        """As the page opens: one sentence for a student about what cannot work here; the remedy
        (ids, commands) under it for the host only."""
        missing = self.missing()
        if not missing:
            return ""
        key = "cemantix_missing_all" if len(missing) == len(LANGUAGES) else f"cemantix_missing_{next(iter(missing))}"
        notice = notice_html(TEXTS.get(key, language))
        if is_host(request):
            remedies = dict.fromkeys(str(reason) for reason in missing.values())
            notice += "".join(f'<p class="cx-host-remedy">{escape(remedy)}</p>' for remedy in remedies)
        return notice

    def vocabulary(self, words_language: str, progress, language: str) -> Vocabulary:
        """The vocabulary, telling the player while it is built (first use on this machine).
        Raises WordsMissing when this server lacks it."""
        missing = self.missing()
        if words_language in missing:
            key = "cemantix_missing_all" if len(missing) == len(LANGUAGES) else f"cemantix_missing_{words_language}"
            raise WordsMissing(TEXTS.get(key, language))
        name = words_language_name(words_language, language)

        def report(fraction: float, step: str) -> None:
            progress(fraction, desc=TEXTS.get(f"cemantix_build_{step}", language, words_language=name))

        return load_vocabulary(self.hub, words_language, report)

    def record_in_room(self, session: Session, tried_word: str | None = None) -> None:
        """Tell the player's room (if any) their progress, and the word they just tried."""
        game = session.game
        if game is None or not game.room_code:
            return
        best = game.best
        shown = tried_word if tried_word and game.vocabulary.is_shown(tried_word) else None
        self.rooms.record(
            game.room_code,
            session.token,
            game.guesses,
            game.hints,
            best.temperature if best else None,
            best.permille if best else None,
            game.outcome == logic.FOUND,
            game.outcome == logic.GAVE_UP,
            tried_word=shown,
        )

    def in_open_room(self, session: Session | None) -> bool:
        """Whether the session's game plays in a room that has not ended (nor its game)."""
        game = session.game if session is not None else None
        return game is not None and bool(game.room_code) and not game.over and not self.rooms.is_ended(game.room_code)

    def end_if_room_ended(self, session: Session) -> bool:
        """A room's game ends for everyone when its creator reveals the word (neither found nor
        given up): whether it ended now."""
        game = session.game
        if game is not None and game.room_code and not game.over and self.rooms.is_ended(game.room_code):
            game.end_with_room()
            return True
        return False

    def join_url(self, request: gr.Request | None, code: str) -> str | None:
        """The address a phone opens to join, or None when the hub is served on this computer only."""
        return join_url(self.hub.settings, request, OWN_PAGE, code)

    def board_link(self, code: str) -> str:
        """The board's address, relative to the page it is shown on: the demo's own page."""
        return f"?board={code}" if self.own_page else f"{OWN_PAGE}?board={code}"


def shared_by_pages(hub: Hub) -> dict:
    """This server's rooms, players' sessions and token key: one set for every page that shows
    Cémantix (the whole hub, its page of its own), kept on the hub. TabContext's fields."""
    if "cemantix" not in hub.demo_state:
        hub.demo_state["cemantix"] = {
            "rooms": Rooms(refused_nickname_words=offensive_words()),
            "sessions": Sessions(),
            "token_secret": secrets.token_urlsafe(16),
        }
    return hub.demo_state["cemantix"]
