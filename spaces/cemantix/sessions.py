"""Players' sessions, kept on the server and found again after a reload (Gradio-free).

A phone reloads the page, switches apps or locks its screen, and the page's own state is gone.
So the browser keeps one random token (in its local storage) and everything else stays here,
under that token: the game and its secret, the room joined, the room hosted. The token reveals
nothing and proves nothing but itself: a token edited by hand finds no session (the player
starts afresh), and finding another player's means guessing 128 random bits.

Sessions live in this process's memory, like the rooms: bounded in number (the least recently
seen goes first) and dropped after a day unseen.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from spaces.cemantix.logic import Game

MAX_SESSIONS = 20_000  # ~100 rooms of 200 phones; a session is a few kB
IDLE_EXPIRY_SECONDS = 24 * 3600  # counted from the last page load
TOKEN_BYTES = 16


@dataclass
class Session:
    """What one browser holds on the server. `token` is also its player id in rooms."""

    token: str = field(default_factory=lambda: secrets.token_urlsafe(TOKEN_BYTES))
    game: Game | None = None
    hosted_room: tuple[str, str] | None = None  # (code, host key) of the room this browser created
    nickname: str = ""  # the last one it joined a room with


class Sessions:
    """Every browser's session, by token; thread-safe."""

    def __init__(self, max_sessions: int = MAX_SESSIONS, idle_expiry: float = IDLE_EXPIRY_SECONDS, clock=time.time):
        self.max_sessions = max_sessions
        self.idle_expiry = idle_expiry
        self.clock = clock
        self._sessions: OrderedDict[str, tuple[Session, float]] = OrderedDict()  # least recently seen first
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def new(self) -> Session:
        session = Session()
        with self._lock:
            self._sessions[session.token] = (session, self.clock())
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)
        return session

    def find(self, token: object) -> Session | None:
        """The session of `token` (whatever the browser sent), or None: unknown, expired, not a token."""
        if not isinstance(token, str):
            return None
        now = self.clock()
        with self._lock:
            found = self._sessions.get(token)
            if found is None:
                return None
            session, last_seen = found
            if now - last_seen > self.idle_expiry:
                del self._sessions[token]
                return None
            self._sessions[token] = (session, now)
            self._sessions.move_to_end(token)
            return session

    def resume(self, token: object) -> tuple[Session, bool]:
        """The session of `token`, or a new one: (session, whether it was found)."""
        found = self.find(token)
        return (found, True) if found is not None else (self.new(), False)
