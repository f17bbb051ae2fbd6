"""Lecture rooms: players join with a short code and a nickname; a board ranks them (Gradio-free).

Rooms live in this process's memory only: bounded in number and in players, and dropped after
a few idle hours. A room's secret never leaves the server before its creator ends the room:
`Board` carries it, and the words the room tried, only once `ended` is true.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

import regex

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a projector
CODE_LENGTH = 4
MAX_ROOMS = 100
MAX_PLAYERS = 300
MAX_NICKNAME_LENGTH = 20
IDLE_EXPIRY_SECONDS = 3 * 3600  # a room nobody touched for this long is dropped
MAX_AGE_SECONDS = 12 * 3600  # and any room after this long
TRIED_WORDS_SHOWN = 30  # the room's most tried words, on the board at the end

# RoomError codes (the UI translates them).
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


@dataclass
class Player:
    nickname: str
    joined_at: float
    guesses: int = 0
    hints: int = 0
    best_temperature: float | None = None
    best_permille: int | None = None
    found_after: float | None = None  # seconds from joining to finding
    gave_up: bool = False


@dataclass
class Room:
    code: str
    words_language: str
    secret: str
    puzzle_number: int | None  # the daily puzzle it plays, or None for a random word
    host_key: str
    created_at: float
    last_activity: float
    players: dict[str, Player] = field(default_factory=dict)  # by player id (one per browser)
    tried: Counter[str] = field(default_factory=Counter)  # counted guesses, all players together
    ended: bool = False


@dataclass(frozen=True)
class Ticket:
    """What a player needs to play a room's game (server side only: it holds the secret)."""

    code: str
    words_language: str
    secret: str
    puzzle_number: int | None


@dataclass(frozen=True)
class BoardRow:
    place: int
    nickname: str
    guesses: int
    hints: int
    best_temperature: float | None
    best_permille: int | None
    found_after: float | None
    gave_up: bool


@dataclass(frozen=True)
class Board:
    code: str
    words_language: str
    puzzle_number: int | None
    players: int
    found: int
    rows: tuple[BoardRow, ...]  # every player, best first
    ended: bool
    secret: str | None  # only once the room has ended
    tried_words: tuple[tuple[str, int], ...] = ()  # (word, players who tried it): only once ended


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


class Rooms:
    """Every room of this server; thread-safe (each method holds one lock briefly)."""

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
        self._rooms: dict[str, Room] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            self._drop_expired()
            return len(self._rooms)

    def create(self, words_language: str, secret: str, puzzle_number: int | None) -> tuple[str, str]:
        """A new room's code and its host key (which ends the room)."""
        with self._lock:
            self._drop_expired()
            if len(self._rooms) >= self.max_rooms:
                raise RoomError(TOO_MANY_ROOMS)
            code = self._new_code()
            now = self.clock()
            host_key = secrets.token_urlsafe(16)
            self._rooms[code] = Room(code, words_language, secret, puzzle_number, host_key, now, now)
            return code, host_key

    def join(self, code: str, nickname: str, player_id: str) -> Ticket:
        """Join, or join again from the same browser (a new nickname, the same progress)."""
        nickname = clean_nickname(nickname, self.refused_nickname_words)
        with self._lock:
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
                room.players[player_id] = Player(nickname, room.last_activity)
            return Ticket(room.code, room.words_language, room.secret, room.puzzle_number)

    def record(
        self,
        code: str,
        player_id: str,
        guesses: int,
        hints: int,
        best_temperature: float | None,
        best_permille: int | None,
        found: bool,
        gave_up: bool,
        tried_word: str | None = None,
    ) -> None:
        """A player's progress, and the word they just tried (counted for the room's words);
        ignored once the room has ended or expired."""
        with self._lock:
            self._drop_expired()
            room = self._rooms.get(code)
            player = room.players.get(player_id) if room else None
            if player is None or room.ended:
                return
            now = self.clock()
            room.last_activity = now
            player.guesses, player.hints = guesses, hints
            player.best_temperature, player.best_permille = best_temperature, best_permille
            if found and player.found_after is None:
                player.found_after = now - player.joined_at
            player.gave_up = gave_up and not found
            if tried_word:
                room.tried[tried_word] += 1

    def is_ended(self, code: str) -> bool:
        with self._lock:
            self._drop_expired()
            room = self._rooms.get(code)
            return room is None or room.ended

    def board(self, code: str) -> Board:
        with self._lock:
            room = self._room(clean_code(code))
            return self._board(room)

    def end(self, code: str, host_key: str) -> Board:
        """End the room and reveal its word: only with the host key given at creation."""
        with self._lock:
            room = self._room(clean_code(code))
            if not secrets.compare_digest(room.host_key, host_key or ""):
                raise RoomError(NOT_HOST, code=room.code)
            room.ended = True
            room.last_activity = self.clock()
            return self._board(room)

    def _board(self, room: Room) -> Board:
        players = list(room.players.values())

        def ranking_key(player: Player):
            if player.found_after is not None:  # found: fewer guesses first, then faster
                return (0, player.guesses, player.found_after)
            # not found: nearest best guess first
            return (1, -(player.best_permille or 0), -(player.best_temperature or -100.0), player.guesses)

        rows = tuple(
            BoardRow(
                place,
                player.nickname,
                player.guesses,
                player.hints,
                player.best_temperature,
                player.best_permille,
                player.found_after,
                player.gave_up,
            )
            for place, player in enumerate(sorted(players, key=ranking_key), start=1)
        )
        found = sum(player.found_after is not None for player in players)
        return Board(
            room.code,
            room.words_language,
            room.puzzle_number,
            len(players),
            found,
            rows,
            room.ended,
            room.secret if room.ended else None,
            tuple(room.tried.most_common(TRIED_WORDS_SHOWN)) if room.ended else (),
        )

    def _room(self, code: str) -> Room:
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
