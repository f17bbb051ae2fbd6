"""What every lecture room of the hub has in common (Gradio-free): a short code read off a
projector, players' nicknames checked before the whole room sees them, a host key that only its
creator holds, and rooms dropped after a few idle hours. A demo's rooms (Cémantix's, the
guards game's) subclass `RoomKeeper` with what their game records.

Rooms live in this process's memory only: bounded in number and in players.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
import unicodedata
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import regex

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a projector
CODE_LENGTH = 4
MAX_ROOMS = 100
MAX_PLAYERS = 300
MAX_NICKNAME_LENGTH = 20
IDLE_EXPIRY_SECONDS = 3 * 3600  # a room nobody touched for this long is dropped
MAX_AGE_SECONDS = 12 * 3600  # and any room after this long

# RoomError codes (each demo's texts translate them).
NO_SUCH_ROOM, ROOM_FULL, TOO_MANY_ROOMS, NICKNAME_TAKEN, NICKNAME_REFUSED, NOT_HOST, ROOM_ENDED = (
    "no_such_room",
    "room_full",
    "too_many_rooms",
    "nickname_taken",
    "nickname_refused",
    "not_host",
    "room_ended",
)
NICKNAME_EMPTY, NICKNAME_TOO_LONG, NICKNAME_INVISIBLE = "nickname_empty", "nickname_too_long", "nickname_invisible"
# What joins the characters of one emoji, invisible on its own: the zero width joiner (🧑🏿‍🔬) and
# the tag characters of a region's flag (🏴󠁧󠁢󠁳󠁣󠁴󠁿). Any other invisible or control character is refused.
EMOJI_JOINERS = frozenset(["\u200d", *map(chr, range(0xE0020, 0xE0080))])


class RoomError(Exception):
    def __init__(self, reason: str, **values: object):
        super().__init__(reason)
        self.reason = reason  # one of the codes above
        self.values = values  # for the message: the room code, the nickname...


def clean_code(text: str | None) -> str:
    return "".join((text or "").split()).upper()


def clean_nickname(text: str | None, refused_words: frozenset[str] = frozenset()) -> str:
    """The nickname as the board shows it; refused, with the reason, when empty, holding an
    invisible or control character, longer than MAX_NICKNAME_LENGTH characters as a person counts
    them (« Zoé 🧑🏿‍🔬 » is 5: an emoji is one, however many code points make it), or holding a
    word of `refused_words` (lowercase): it is shown to the whole room."""
    nickname = " ".join(unicodedata.normalize("NFC", text or "").split())
    if not nickname:
        raise RoomError(NICKNAME_EMPTY, max=MAX_NICKNAME_LENGTH)
    if not all(character.isprintable() or character in EMOJI_JOINERS for character in nickname):
        raise RoomError(NICKNAME_INVISIBLE)
    length = len(regex.findall(r"\X", nickname))  # graphemes: what a person sees as characters
    if length > MAX_NICKNAME_LENGTH:
        raise RoomError(NICKNAME_TOO_LONG, max=MAX_NICKNAME_LENGTH, length=length)
    if any(word in refused_words for word in re.findall(r"[^\W\d_]+", nickname.lower())):
        raise RoomError(NICKNAME_REFUSED)
    return nickname


# A demo's room: any object with `code`, `host_key`, `created_at`, `last_activity`, `ended` and
# `players` (player id -> an object with a `nickname`).
R = TypeVar("R")


class RoomKeeper(Generic[R]):
    """Every room of one demo on this server; thread-safe: the subclass's methods hold `_lock`
    briefly, and call the `_` methods under it."""

    def __init__(
        self,
        max_rooms: int = MAX_ROOMS,
        max_players: int = MAX_PLAYERS,
        idle_expiry: float = IDLE_EXPIRY_SECONDS,
        max_age: float = MAX_AGE_SECONDS,
        refused_nickname_words: frozenset[str] = frozenset(),
        clock=time.time,
    ):
        self.max_rooms = max_rooms
        self.max_players = max_players
        self.idle_expiry = idle_expiry
        self.max_age = max_age
        self.refused_nickname_words = refused_nickname_words
        self.clock = clock
        self._rooms: dict[str, R] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            self._drop_expired()
            return len(self._rooms)

    def is_ended(self, code: str) -> bool:
        with self._lock:
            self._drop_expired()
            room = self._rooms.get(code)
            return room is None or room.ended

    def _create(self, make_room: Callable[[str, str, float], R]) -> tuple[str, str]:
        """A new room, `make_room(code, host_key, now)`: its code and its host key."""
        self._drop_expired()
        if len(self._rooms) >= self.max_rooms:
            raise RoomError(TOO_MANY_ROOMS)
        code = self._new_code()
        host_key = secrets.token_urlsafe(16)
        self._rooms[code] = make_room(code, host_key, self.clock())
        return code, host_key

    def _join(self, code: str, nickname: str, player_id: str, new_player: Callable[[str, float], Any]) -> R:
        """Join, or join again from the same browser (a new nickname, the same progress);
        `nickname` already cleaned, `new_player(nickname, now)` makes a newcomer's record."""
        room = self._room(clean_code(code))
        if room.ended:
            raise RoomError(ROOM_ENDED, code=room.code)
        taken = any(
            player.nickname.casefold() == nickname.casefold()
            for other_id, player in room.players.items()
            if other_id != player_id
        )
        if taken:
            raise RoomError(NICKNAME_TAKEN, nickname=nickname)
        if player_id not in room.players and len(room.players) >= self.max_players:
            raise RoomError(ROOM_FULL, code=room.code, max=self.max_players)
        room.last_activity = self.clock()
        if player_id in room.players:
            room.players[player_id].nickname = nickname
        else:
            room.players[player_id] = new_player(nickname, room.last_activity)
        return room

    def _hosted(self, code: str, host_key: str) -> R:
        """The room, for its host only (the key given at creation)."""
        room = self._room(clean_code(code))
        if not secrets.compare_digest(room.host_key, host_key or ""):
            raise RoomError(NOT_HOST, code=room.code)
        room.last_activity = self.clock()
        return room

    def _room(self, code: str) -> R:
        self._drop_expired()
        room = self._rooms.get(code)
        if room is None:
            raise RoomError(NO_SUCH_ROOM, code=code)
        return room

    def _new_code(self) -> str:
        while True:  # at most 100 of 32⁴ ≈ 1 million codes are in use: a retry is rare
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if code not in self._rooms:
                return code

    def _drop_expired(self) -> None:
        now = self.clock()
        for code, room in list(self._rooms.items()):
            if now - room.last_activity > self.idle_expiry or now - room.created_at > self.max_age:
                del self._rooms[code]
