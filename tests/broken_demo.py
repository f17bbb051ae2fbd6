"""A demo that fails while building its tab: the hub must show an error panel and stay up."""

from shared.i18n import Texts

TEXTS = Texts(fr={}, en={})
CSS = ""


def build(hub):
    raise RuntimeError("this demo is broken on purpose (test fixture)")
