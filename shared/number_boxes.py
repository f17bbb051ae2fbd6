"""French numbers in every number box of the hub: a decimal comma, and a value out of range refused
in the page's language with the last good value kept.

Chromium drops a comma typed in an <input type=number> (« 0,5 » becomes 5), and Gradio answers a
value out of a slider's range with its server's English error (« Value 5 is greater than maximum
value 1.0. ») after setting the slider to its maximum. This script, in the page's <head>
(hub_page.head), works on every number box of every tab, Gradio's sliders and gr.Number alike:

- a comma typed or pasted is written as the decimal point the box understands;
- what is not a number yet while it is typed (« - », « 1e ») is kept from Gradio, which would
  empty the box under the finger;
- when a box is left (Enter in a slider's box leaves it, styles.TAB_SCRIPT), a value that is not a
  number, out of the box's min/max, or empty in a slider's box, is refused before Gradio sees it:
  the box gets its last good value back, and a sentence under it says why, in the page's
  language, announced to screen readers (role=status), until the box is next left with a good value.
"""

from __future__ import annotations

import json

from shared.hub import TEXTS

NUMBER_BOXES_SCRIPT = """<script>
(function () {
  const words = %s;
  const language = () => ((document.documentElement.lang || "fr").slice(0, 2) === "en" ? "en" : "fr");
  const say = (key, values) => words[language()][key].replace(/\\{(\\w+)\\}/g, (_, name) => values[name]);
  const shown = (value) => (language() === "fr" ? String(value).replace(".", ",") : String(value));
  const isBox = (element) => element instanceof HTMLInputElement && element.type === "number";
  const lastGood = new WeakMap();  // box -> its value when it was last entered or left with a good value

  function typeDecimalPoint(event, text) {
    if (!isBox(event.target) || !text || !text.includes(",")) return;
    event.preventDefault();
    document.execCommand("insertText", false, text.replaceAll(",", "."));
  }
  document.addEventListener("beforeinput", (event) => typeDecimalPoint(event, event.data), true);
  document.addEventListener("paste", (event) => typeDecimalPoint(event, event.clipboardData.getData("text")), true);

  // While a number is being typed it may be no number yet (« - », « 1e »): the box then reads "",
  // and Gradio's binding would empty it under the finger (« -1,5 » became 1.5). Gradio sees the
  // box again once it holds a number.
  document.addEventListener("input", (event) => {
    if (isBox(event.target) && event.target.validity.badInput) event.stopImmediatePropagation();
  }, true);

  document.addEventListener("focusin", (event) => {
    if (isBox(event.target) && !event.target.validity.badInput) lastGood.set(event.target, event.target.value);
  }, true);

  function refusal(box) {
    const inSlider = Boolean(box.closest(".wrap") && box.closest(".wrap").querySelector("input[type=range]"));
    const low = box.min === "" ? null : Number(box.min);
    const high = box.max === "" ? null : Number(box.max);
    if (box.validity.badInput) return say("number_not_a_number", {});
    if (box.value === "") return inSlider ? say("number_empty", {}) : null;
    const value = Number(box.value);
    if (low !== null && value < low) return say("number_below_minimum", {value: shown(value), low: shown(low)});
    if (high !== null && value > high) return say("number_above_maximum", {value: shown(value), high: shown(high)});
    return null;
  }

  function noteOf(box) {
    const block = box.closest(".block") || box.parentElement;
    let note = block.querySelector(":scope > .hub-number-note");
    if (!note) {
      note = document.createElement("p");
      note.className = "hub-number-note";
      note.setAttribute("role", "status");
      block.appendChild(note);
    }
    return note;
  }

  // Capture phase on the document: runs before Gradio's own blur listener on the box, which then
  // never sees a refused value (no release event, no server call, no English error).
  document.addEventListener("blur", (event) => {
    const box = event.target;
    if (!isBox(box)) return;
    const reason = refusal(box);
    if (reason === null) {
      lastGood.set(box, box.value);
      const note = box.closest(".block") && box.closest(".block").querySelector(":scope > .hub-number-note");
      if (note) note.textContent = "";
      return;
    }
    event.stopImmediatePropagation();
    const previous = lastGood.has(box) ? lastGood.get(box) : box.defaultValue;
    box.value = previous;
    box.dispatchEvent(new Event("input", {bubbles: true}));  // Gradio's binding takes the value back
    noteOf(box).textContent = `${reason} ${say("number_kept", {value: shown(previous)})}`;
  }, true);
})();
</script>"""


def number_boxes_script() -> str:
    """NUMBER_BOXES_SCRIPT with its sentences in every language."""
    keys = [key for key in TEXTS.by_language["fr"] if key.startswith("number_")]
    words = {language: {key: texts[key] for key in keys} for language, texts in TEXTS.by_language.items()}
    return NUMBER_BOXES_SCRIPT % json.dumps(words, ensure_ascii=False)
