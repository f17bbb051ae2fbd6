"""app.py served as Gradio alone serves it: the hub without shared/compression.py's middlewares
and with Gradio's queue as it comes (shared/idle_queue.py left out).

first_load.py's baseline: the same page, the same files and load events, but the page and its JSON
rendered and sent uncompressed for every request, and Gradio's files read and compressed anew for every
phone.

    python benchmarks/gradio_alone_hub.py [app.py's flags]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import shared.compression as compression  # noqa: E402
import shared.idle_queue as idle_queue  # noqa: E402


class PassThrough:
    def __init__(self, app, **_):
        self.app = app

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)

    @classmethod
    def ahead_of(cls, app, pages=()):  # KeepAssets puts itself in front of the app: nothing to put
        pass


compression.CompressPages = compression.KeepAssets = compression.KeepPages = (
    PassThrough  # app.launch imports them when it runs
)
idle_queue.look_less_when_idle = lambda blocks: None  # Gradio's queue as it comes

import app  # noqa: E402

if __name__ == "__main__":
    app.main()
