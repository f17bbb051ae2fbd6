"""Lecture rooms: players join with a short code and a nickname; a board ranks them (Gradio-free).

Rooms live in this process's memory only: bounded in number and in players, and dropped after
a few idle hours. A room's secret never leaves the server before its creator ends the room:
`Board` carries it, and the words the room tried, only once `ended` is true.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from shared.rooms import RoomKeeper, clean_code, clean_nickname

TRIED_WORDS_SHOWN = 30  # the room's most tried words, on the board at the end


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


class Rooms(RoomKeeper[Room]):
    """Every Cémantix room of this server; thread-safe (each method holds one lock briefly)."""

    def create(self, words_language: str, secret: str, puzzle_number: int | None) -> tuple[str, str]:
        """A new room's code and its host key (which ends the room)."""
        with self._lock:
            return self._create(
                lambda code, host_key, now: Room(code, words_language, secret, puzzle_number, host_key, now, now)
            )

    def join(self, code: str, nickname: str, player_id: str) -> Ticket:
        """Join, or join again from the same browser (a new nickname, the same progress)."""
        nickname = clean_nickname(nickname, self.refused_nickname_words)
        with self._lock:
            room = self._join(code, nickname, player_id, Player)
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

    def board(self, code: str) -> Board:
        with self._lock:
            room = self._room(clean_code(code))
            return self._board(room)

    def end(self, code: str, host_key: str) -> Board:
        """End the room and reveal its word: only with the host key given at creation."""
        with self._lock:
            room = self._hosted(code, host_key)
            room.ended = True
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
