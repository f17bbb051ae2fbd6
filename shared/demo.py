"""What the hub expects of a demo: the contract between `spaces/<name>/ui.py`, `app.py` (which
mounts it as a tab) and `shared/prefetch.py` (which runs its one-off work the night before).

A new demo is a folder `spaces/<name>/` whose `ui.py` fulfils `DemoModule`, plus its name in
`ALL_DEMOS` (shared/settings.py). tests/test_hub.py checks every demo against this contract.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from shared.hub import Hub
    from shared.i18n import Texts


@runtime_checkable
class DemoModule(Protocol):
    """The module `spaces/<name>/ui.py`.

    - `TEXTS`: every text of the tab in French and English, with `<name>_tab` (the tab's label)
      and `<name>_about` (its paragraph in À propos) among them;
    - `CSS`: the tab's own styles, added to the page;
    - `build(hub)`: renders the tab's components inside the tab the hub opened for it; loads no
      model (that happens on first use, or in `warm_up`).
    - a demo of app.DEMO_PAGES also takes `build(hub, own_page=True)`: the same components as the
      page of its own at /<name>/, beside its tab in the whole hub (what the two builds share
      lives on the hub: `Hub.demo_state`).

    Two functions are optional, looked up with `getattr`, so the Protocol does not list them:
    - `warm_up(hub)`: loads the tab's models in the background when the tab is shown;
    - `prepare(hub)`: the one-off work of `python -m shared.prefetch` (conversions, indexes).
    """

    TEXTS: Texts
    CSS: str

    def build(self, hub: Hub) -> None: ...


def import_demo(module_name: str) -> DemoModule:
    """Import a demo's ui module; a module that breaks the contract is refused with its reason."""
    module = importlib.import_module(module_name)
    if not isinstance(module, DemoModule):
        missing = [name for name in ("TEXTS", "CSS", "build") if not hasattr(module, name)]
        raise TypeError(f"{module_name} is not a demo module: it lacks {', '.join(missing)}")
    return module
