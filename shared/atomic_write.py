"""Files written all at once or not at all, for caches that several processes and threads share.

A reader never sees half a file, and a failure (a full disk, an exception, a killed process before
the rename) never leaves a half-written file under the real name: the file is written under a
temporary name beside its target, then renamed into place, which is atomic on one filesystem.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def atomic_write(path: Path, mode: str = "wb", encoding: str | None = None) -> Iterator[IO]:
    """`with atomic_write(path) as file:` write `file`; `path` holds it once the block ends, and
    is left as it was (the temporary file removed) if the block raises."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(handle, mode, encoding=encoding) as file:
            yield file
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
