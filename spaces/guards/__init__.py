"""Gardes-fous: a guarded assistant that the room tries to break (issue 26)."""
