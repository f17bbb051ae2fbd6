// The land-cover canvas (spaces/seg2sat/canvas.py): Gradio runs this once the template is drawn,
// with `element` (the component's root), `props` (props.value is the drawing as a PNG data: URL),
// `trigger` (fires the component's events) and `watch` (called when Python sets a prop).
const canvas = element.querySelector("canvas");
const context = canvas.getContext("2d", { willReadFrequently: true });
const size = canvas.width;
const picture = context.createImageData(size, size);
const pixels = new Uint32Array(picture.data.buffer); // one RGBA pixel each, little-endian ABGR
const colourButton = element.querySelector(".seg2sat-colour");
const paletteBox = element.querySelector(".seg2sat-palette");
const fillButton = element.querySelector(".seg2sat-fill");
const undoButton = element.querySelector(".seg2sat-undo");
const message = element.querySelector(".message");
const UNDO_LIMIT = 20;
const LIVE_DELAY_MS = 250;

function packed(hex) {
  const r = parseInt(hex.slice(1, 3), 16), g = parseInt(hex.slice(3, 5), 16), b = parseInt(hex.slice(5, 7), 16);
  return ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

let colour = packed(props.background);
let radius = Number(element.querySelector('.seg2sat-size[aria-pressed="true"]').dataset.radius);
let filling = false;
let undoStack = [];
let stroke = null; // {id, x, y} while a finger or the mouse is down
let sentValue = props.value; // what this script last gave Gradio, so that its echo is not redrawn
let liveTimer = null;
let messageTimer = null;

function repaint() {
  context.putImageData(picture, 0, 0);
}

function remember() {
  undoStack.push(pixels.slice());
  if (undoStack.length > UNDO_LIMIT) undoStack.shift();
  undoButton.disabled = false;
}

// The drawing becomes the component's value at the end of each change; in live mode it also asks
// for an image, once the hand has paused.
function commit() {
  sentValue = canvas.toDataURL("image/png");
  props.value = sentValue;
  clearTimeout(liveTimer);
  liveTimer = setTimeout(() => {
    if (liveOn()) trigger("input");
  }, LIVE_DELAY_MS);
}

function liveOn() {
  const live = document.querySelector("#seg2sat-live input[type=checkbox]");
  return Boolean(live && live.checked && !live.disabled);
}

// Draws a data: URL on the canvas; resolves once it is there.
function show(value) {
  return new Promise((resolve) => {
    const image = new Image();
    image.onload = () => {
      const scratch = document.createElement("canvas");
      scratch.width = scratch.height = size;
      const drawing = scratch.getContext("2d", { willReadFrequently: true });
      drawing.imageSmoothingEnabled = false; // a palette colour must stay exactly itself
      drawing.drawImage(image, 0, 0, size, size);
      pixels.set(new Uint32Array(drawing.getImageData(0, 0, size, size).data.buffer));
      repaint();
      resolve();
    };
    image.src = value;
  });
}

function say(fragment) {
  message.replaceChildren(fragment.cloneNode(true));
  clearTimeout(messageTimer);
  messageTimer = setTimeout(() => message.replaceChildren(), 6000);
}

// --- drawing: discs of exact colour, no antialiasing ---------------------------------------------

function disc(cx, cy) {
  const r = radius;
  for (let dy = -r; dy <= r; dy++) {
    const y = Math.round(cy) + dy;
    if (y < 0 || y >= size) continue;
    const half = Math.floor(Math.sqrt(r * r - dy * dy));
    const from = Math.max(0, Math.round(cx) - half), to = Math.min(size - 1, Math.round(cx) + half);
    if (from <= to) pixels.fill(colour, y * size + from, y * size + to + 1);
  }
}

function segment(x0, y0, x1, y1) {
  const distance = Math.hypot(x1 - x0, y1 - y0);
  const count = Math.max(1, Math.ceil(distance / Math.max(1, radius / 2)));
  for (let index = 1; index <= count; index++) {
    disc(x0 + ((x1 - x0) * index) / count, y0 + ((y1 - y0) * index) / count);
  }
}

function fill(x, y) {
  const start = y * size + x;
  const target = pixels[start];
  if (target === colour) return;
  const pending = [start];
  while (pending.length) {
    const index = pending.pop();
    if (pixels[index] !== target) continue; // reached from two sides: already filled
    const row = Math.floor(index / size);
    let left = index;
    while (left % size > 0 && pixels[left - 1] === target) left--;
    let right = index;
    while (right % size < size - 1 && pixels[right + 1] === target) right++;
    for (let i = left; i <= right; i++) {
      pixels[i] = colour;
      if (row > 0 && pixels[i - size] === target) pending.push(i - size);
      if (row < size - 1 && pixels[i + size] === target) pending.push(i + size);
    }
  }
}

function position(event) {
  const box = canvas.getBoundingClientRect();
  const x = Math.floor(((event.clientX - box.left) * size) / box.width);
  const y = Math.floor(((event.clientY - box.top) * size) / box.height);
  return [Math.min(size - 1, Math.max(0, x)), Math.min(size - 1, Math.max(0, y))];
}

canvas.addEventListener("pointerdown", (event) => {
  if (stroke || event.button > 0) return; // one finger draws; a second one is ignored
  event.preventDefault();
  closePalette();
  const [x, y] = position(event);
  remember();
  if (filling) {
    fill(x, y);
    repaint();
    commit();
    return;
  }
  canvas.setPointerCapture(event.pointerId);
  stroke = { id: event.pointerId, x, y };
  disc(x, y);
  repaint();
});

canvas.addEventListener("pointermove", (event) => {
  if (!stroke || event.pointerId !== stroke.id) return;
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
  for (const each of events.length ? events : [event]) {
    const [x, y] = position(each);
    segment(stroke.x, stroke.y, x, y);
    stroke.x = x;
    stroke.y = y;
  }
  repaint();
});

function endStroke(event) {
  if (!stroke || event.pointerId !== stroke.id) return;
  stroke = null;
  commit();
}
canvas.addEventListener("pointerup", endStroke);
canvas.addEventListener("pointercancel", endStroke);

// --- tools ---------------------------------------------------------------------------------------

function closePalette() {
  paletteBox.hidden = true;
  colourButton.setAttribute("aria-expanded", "false");
}

colourButton.addEventListener("click", () => {
  const opening = paletteBox.hidden;
  paletteBox.hidden = !opening;
  colourButton.setAttribute("aria-expanded", String(opening));
  if (opening) paletteBox.querySelector('[aria-pressed="true"]').focus(); // a keyboard starts at the colour in use
});

// Escape closes the palette, and the keyboard goes back to the button that opened it.
element.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || paletteBox.hidden) return;
  event.preventDefault();
  closePalette();
  colourButton.focus();
});

for (const pick of element.querySelectorAll(".seg2sat-pick")) {
  pick.addEventListener("click", () => {
    colour = packed(pick.dataset.colour);
    for (const other of element.querySelectorAll(".seg2sat-pick")) other.setAttribute("aria-pressed", String(other === pick));
    colourButton.querySelector(".seg2sat-swatch").style.background = pick.dataset.colour;
    colourButton.querySelector(".current").replaceChildren(...pick.querySelector(".name").cloneNode(true).childNodes);
    closePalette();
    colourButton.focus(); // the pick is hidden now: the keyboard stays by the palette's button
  });
}

document.addEventListener("pointerdown", (event) => {
  if (!paletteBox.hidden && !paletteBox.contains(event.target) && !colourButton.contains(event.target)) closePalette();
});

for (const button of element.querySelectorAll(".seg2sat-size")) {
  button.addEventListener("click", () => {
    radius = Number(button.dataset.radius);
    filling = false;
    fillButton.setAttribute("aria-pressed", "false");
    for (const other of element.querySelectorAll(".seg2sat-size")) other.setAttribute("aria-pressed", String(other === button));
  });
}

fillButton.addEventListener("click", () => {
  filling = !filling;
  fillButton.setAttribute("aria-pressed", String(filling));
  for (const other of element.querySelectorAll(".seg2sat-size")) {
    other.setAttribute("aria-pressed", String(!filling && Number(other.dataset.radius) === radius));
  }
});

undoButton.addEventListener("click", () => {
  if (!undoStack.length) return;
  pixels.set(undoStack.pop());
  undoButton.disabled = undoStack.length === 0;
  repaint();
  commit();
});

element.querySelector(".seg2sat-new").addEventListener("click", () => {
  remember();
  pixels.fill(packed(props.background));
  repaint();
  commit();
});

// An example replaces the drawing, which stays one « Annuler » away; the tab fills in its place.
for (const button of element.querySelectorAll(".seg2sat-example")) {
  button.addEventListener("click", async () => {
    remember();
    await show(button.querySelector("img").src);
    commit();
    say(element.querySelector("template.replaced").content);
    trigger("select", { example: Number(button.dataset.example) });
  });
}

// A drawing set by Python (an example, an imported mask) replaces this one, which stays undoable.
watch("value", () => {
  if (!props.value || props.value === sentValue) return;
  remember();
  sentValue = props.value;
  show(props.value);
  say(element.querySelector("template.replaced").content);
  if (liveOn()) trigger("input");
});

// Ticking the live checkbox makes an image of the drawing as it is.
document.addEventListener("change", (event) => {
  if (event.target.matches && event.target.matches("#seg2sat-live input[type=checkbox]") && event.target.checked) {
    trigger("input");
  }
});

show(props.value);
