// The sampling filters, run in the phone: the repetition penalty, the temperature, top-k, top-p
// and min-p applied to the scores a view sent (spaces/sampling/browser_filters.py), exactly as
// spaces/sampling/logic.py's `next_token_stages` applies transformers' processors, so that the
// chart and the stage table redraw while a finger drags a slider, with no server call.
//
// Exact means: float32 arithmetic where transformers computes in float32 (a score times or divided
// by a setting), float64 sums for the normalisation and the entropy (as logic.StageDistribution),
// and the same rules for ties and thresholds. Where the answer depends on what was not sent (a
// nucleus reaching the tail, a temperature off the slider's grid) or on float32 rounding that
// only the server can reproduce (a top-p or min-p threshold within a hair of a token), `stages`
// returns {ask: reason} and the page asks the server. tests/test_browser_filters.py compares the
// two over many settings; tests/test_browser_sampling.py drives the page.
//
// Loaded twice: into the tab's page script (styles.TAB_SCRIPT), and alone into a blank page by
// the tests. It only defines `globalThis.iagenSamplingFilters`.
globalThis.iagenSamplingFilters = (() => {
  const STAGES = ["raw", "repetition_penalty", "temperature", "top_k", "top_p", "min_p"];
  const TOP_P_MARGIN = 2e-6; // logic.FastTopP.MARGIN: closer than this to top-p, the server's sort decides
  const MIN_P_MARGIN = 1e-5; // relative: a float32 softmax is within ~1e-6 of the exact ratio
  const f32 = Math.fround;

  // A distribution: `known`, the sent tokens it keeps, most likely first ({id, value}); `tail`,
  // the tokens not sent, as their highest score and two sums shifted by it ({count, max, s0, s1}),
  // or null once a stage removed them.
  function sortedTokens(tokens) {
    return tokens.sort((a, b) => b.value - a.value || a.id - b.id);
  }

  function figures(distribution) {
    const {known, tail} = distribution;
    let highest = known.length ? known[0].value : -Infinity;
    if (tail) highest = Math.max(highest, tail.max);
    let total = 0;
    let weighted = 0; // sum of p * (x - highest), unnormalised
    for (const token of known) {
      const shifted = token.value - highest;
      const weight = Math.exp(shifted);
      total += weight;
      weighted += weight * shifted;
    }
    if (tail) {
      const offset = tail.max - highest;
      const scale = Math.exp(offset);
      total += scale * tail.s0;
      weighted += scale * (tail.s1 + offset * tail.s0);
    }
    const entropyNats = Math.log(total) - weighted / total;
    return {
      logTotal: highest + Math.log(total),
      kept: known.length + (tail ? tail.count : 0),
      entropyBits: Math.max(0, entropyNats / Math.LN2),
    };
  }

  // How many of the most likely known tokens are surely above every token of the tail: their
  // order, and their place in the whole vocabulary, are known.
  function surelyAhead(distribution) {
    const {known, tail} = distribution;
    if (!tail) return known.length;
    let count = 0;
    while (count < known.length && known[count].value > tail.max) count += 1;
    return count;
  }

  function tailAt(payload, temperature) {
    const tail = payload.tail;
    if (!tail.count) return null;
    const sums = tail.temperatures[temperature.toFixed(2)];
    if (!sums || Math.abs(Number(temperature.toFixed(2)) - temperature) > 1e-9) return undefined;
    const [max, s0, s1] = sums;
    return {count: tail.count, max, s0, s1};
  }

  function penalised(distribution, penalty, textIds) {
    // RepetitionPenaltyLogitsProcessor: a score < 0 times the penalty, else divided by it (float32)
    const factor = f32(penalty);
    const known = distribution.known.map((token) => {
      if (!textIds.has(token.id)) return token;
      const value = token.value < 0 ? f32(token.value * factor) : f32(token.value / factor);
      return {id: token.id, value};
    });
    return {known: sortedTokens(known), tail: distribution.tail};
  }

  function tempered(distribution, temperature, tail) {
    // TemperatureLogitsWarper: scores / T (float32); the tail's sums for T came from the server
    const divisor = f32(temperature);
    const known = distribution.known.map((token) => ({id: token.id, value: f32(token.value / divisor)}));
    return {known: sortedTokens(known), tail};
  }

  function mostLikelyOnly(distribution) {
    // logic.KeepMostLikely (temperature 0): argmax, the lowest id among equal scores
    const best = distribution.known[0];
    if (distribution.tail && distribution.tail.max >= best.value) return {ask: "greedy_tail"};
    return {known: [best], tail: null};
  }

  function topK(distribution, k) {
    // TopKLogitsWarper: remove what is below the k-th score (ties with it stay)
    const {known, tail} = distribution;
    const finite = known.length + (tail ? tail.count : 0);
    if (k >= finite) return distribution; // the k-th score is the lowest finite one, or -inf: nothing removed
    if (k > surelyAhead(distribution)) return {ask: "top_k_beyond_sent"};
    const threshold = known[k - 1].value;
    return {known: known.filter((token) => token.value >= threshold), tail: null};
  }

  function topP(distribution, topPValue) {
    // logic.FastTopP.kept_tokens: a token stays while the probability of those before it is below
    // top-p; a decision within the margin, or a tie across it, is the server's full sort's
    const {known} = distribution;
    const {logTotal} = figures(distribution);
    const ahead = surelyAhead(distribution);
    const moreLikely = []; // of each token: the probability of those before it
    let before = 0;
    for (const token of known) {
      moreLikely.push(before);
      before += Math.exp(token.value - logTotal);
    }
    let count = 0;
    while (count < known.length && moreLikely[count] < topPValue) count += 1;
    count = Math.max(count, 1);
    if (count === known.length && !distribution.tail) return distribution; // everything kept
    if (count >= ahead) return {ask: "top_p_beyond_sent"};
    const lastKept = count - 1;
    const clear =
      moreLikely[count] >= topPValue + TOP_P_MARGIN && (lastKept < 1 || moreLikely[lastKept] < topPValue - TOP_P_MARGIN);
    if (!clear || known[lastKept].value === known[count].value) return {ask: "top_p_close_call"};
    return {known: known.slice(0, count), tail: null};
  }

  function minP(distribution, minPValue) {
    // MinPLogitsWarper: remove what is less likely than min-p x the most likely (at least one stays)
    const {known, tail} = distribution;
    const best = known[0].value;
    const ratio = (value) => Math.exp(value - best);
    if (tail && ratio(tail.max) >= minPValue * (1 - MIN_P_MARGIN)) return {ask: "min_p_beyond_sent"};
    const kept = [];
    for (const [index, token] of known.entries()) {
      const share = ratio(token.value);
      if (index > 0 && Math.abs(share - minPValue) <= MIN_P_MARGIN * minPValue) return {ask: "min_p_close_call"};
      if (index === 0 || share >= minPValue) kept.push(token);
    }
    return {known: kept, tail: null};
  }

  function onGrid(value, low, high) {
    return typeof value === "number" && Number.isFinite(value) && value >= low && value <= high;
  }

  // The figures of logic.next_token_stages for `settings` ({temperature, top_k, top_p, min_p,
  // repetition_penalty}) and the `topN` most likely candidates after the penalty; or {ask: reason}.
  function stages(payload, settings, topN) {
    const {temperature, top_k: topKValue, top_p: topPValue, min_p: minPValue} = settings;
    const penalty = settings.repetition_penalty;
    if (
      !onGrid(temperature, 0, 2) ||
      !onGrid(topKValue, 0, payload.vocabulary) ||
      !Number.isInteger(topKValue) ||
      !onGrid(topPValue, 0, 1) ||
      !onGrid(minPValue, 0, 1) ||
      !onGrid(penalty, 1, 2)
    ) {
      return {ask: "out_of_range"}; // the server clamps it and says so (the ranges of options.py)
    }
    const textIds = new Set(payload.text_ids);
    const known = [];
    payload.ids.forEach((id, index) => {
      if (payload.scores[index] !== null) known.push({id, value: payload.scores[index]});
    });
    const raw = {known: sortedTokens(known), tail: tailAt(payload, 1)};
    const distributions = [raw];
    const active = [true];
    const steps = [
      [penalty !== 1, (d) => penalised(d, penalty, textIds)],
      [
        temperature !== 1,
        (d) => {
          if (temperature === 0) return mostLikelyOnly(d);
          const tail = d.tail ? tailAt(payload, temperature) : null;
          return tail === undefined ? {ask: "temperature_off_grid"} : tempered(d, temperature, tail);
        },
      ],
      [topKValue !== 0, (d) => topK(d, Math.min(Math.max(topKValue, 1), payload.vocabulary))],
      [topPValue < 1, (d) => topP(d, topPValue)],
      [minPValue > 0, (d) => minP(d, minPValue)],
    ];
    for (const [on, apply] of steps) {
      const previous = distributions[distributions.length - 1];
      const next = on ? apply(previous) : previous;
      if (next.ask) return next;
      distributions.push(next);
      active.push(on);
    }
    // Ranked after the penalty: the later stages never reorder tokens.
    const ranked = distributions[1];
    const count = Math.min(topN, figures(ranked).kept);
    if (count > surelyAhead(ranked)) return {ask: "candidates_beyond_sent"};
    const summaries = distributions.map((distribution, index) => ({
      name: STAGES[index],
      active: active[index],
      ...figures(distribution),
      values: new Map(distribution.known.map((token) => [token.id, token.value])),
    }));
    const candidates = ranked.known.slice(0, count).map((token) => ({
      token_id: token.id,
      label: payload.labels[String(token.id)],
      probabilities: summaries.map((stage) =>
        stage.values.has(token.id) ? Math.exp(stage.values.get(token.id) - stage.logTotal) : 0,
      ),
    }));
    return {
      stages: summaries.map((stage) => ({
        name: stage.name,
        active: stage.active,
        kept: stage.kept,
        entropy_bits: stage.entropyBits,
      })),
      candidates,
    };
  }

  // --- the view, as spaces/sampling/render.py writes it ---------------------------------------

  // Python's f"{value:,.{decimals}f}" (exact ties rounded to even), as shared.i18n.format_number
  // writes it: 12 345,6 in French, 12,345.6 in English.
  function formatNumber(value, language, decimals = 0) {
    let text = Math.abs(value).toFixed(decimals);
    const exact = Math.abs(value).toFixed(decimals + 25);
    const rest = exact.slice(exact.length - 25);
    if (/^50*$/.test(rest)) {
      // an exact tie: toFixed rounded it away from zero, Python to the even digit
      const truncated = exact.slice(0, exact.length - 25).replace(/\.$/, "");
      if (Number(truncated.slice(-1)) % 2 === 0) text = truncated;
    }
    let [whole, fraction] = text.split(".");
    whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    text = (value < 0 ? "\u2212" : "") + whole + (fraction === undefined ? "" : "." + fraction);
    if (language === "fr") text = text.replace(/,/g, "\u202f").replace(".", ",");
    return text;
  }

  function percent(probability, language, sign = true) {
    if (probability === 0) return "\u2014";
    const suffix = sign ? " %" : "";
    if (probability < 0.001) return (sign ? "< " : "<") + formatNumber(0.1, language, 1) + suffix;
    return formatNumber(100 * probability, language, 1) + suffix;
  }

  const VISIBLE_WHITESPACE = {" ": "\u2423", "\n": "\u21b5", "\t": "\u21e5"};
  const ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"};
  const escape = (text) => text.replace(/[&<>"']/g, (character) => ESCAPES[character]);
  const visibleWhitespace = (text) => text.replace(/[ \n\t]/g, (character) => VISIBLE_WHITESPACE[character]);
  const visible = (text) => escape(visibleWhitespace(text));
  const isKept = (candidate) => candidate.probabilities[candidate.probabilities.length - 1] > 0;

  // render.chart_html's bars (its legend never changes)
  function chartHtml(view, language) {
    const rows = view.candidates.map((candidate) => {
      const raw = candidate.probabilities[0];
      const final = candidate.probabilities[candidate.probabilities.length - 1];
      const removed = isKept(candidate) ? "" : " removed";
      return (
        `<span class="label${removed}"><code>${visible(candidate.label)}</code></span>` +
        `<span class="track${removed}"><span class="raw" style="width:${formatNumber(100 * raw, "en", 1)}%"></span>` +
        `<span class="final" style="width:${formatNumber(100 * final, "en", 1)}%"></span></span>` +
        `<span class="value${removed}">${escape(percent(final, language))}</span>`
      );
    });
    return `<div class="sampling-chart">${rows.join("")}</div>`;
  }

  // render.stages_table_html; `words`: the tab's texts in the page's language
  function tableHtml(view, language, words) {
    const shown = view.stages.flatMap((stage, index) => (stage.active ? [index] : []));
    const names = view.stages.map((stage) => words[`stage_${stage.name}`]);
    const header = [`<th>${escape(words.column_token)}</th>`, ...shown.map((index) => `<th>${escape(names[index])}</th>`)];
    const rows = view.candidates.map((candidate) => {
      const cells = [`<td class="token"><code>${visible(candidate.label)}</code></td>`];
      for (const index of shown) {
        const probability = candidate.probabilities[index];
        const removed = probability === 0 ? ' class="removed"' : "";
        cells.push(`<td${removed}>${escape(percent(probability, language, false))}</td>`);
      }
      return `<tr${isKept(candidate) ? "" : " class=removed"}>${cells.join("")}</tr>`;
    });
    const kept = shown.map((index) => `<td>${formatNumber(view.stages[index].kept, language)}</td>`).join("");
    const entropy = shown.map((index) => `<td>${formatNumber(view.stages[index].entropy_bits, language, 2)}</td>`).join("");
    const footer =
      `<tr><th>${escape(words.row_kept)}</th>${kept}</tr>` + `<tr><th>${escape(words.row_entropy)}</th>${entropy}</tr>`;
    const off = view.stages.flatMap((stage, index) => (stage.active ? [] : [names[index]]));
    const offLine = off.length
      ? `<p class="sampling-off">${escape(words.stages_off.replace("{stages}", off.join(", ")))}</p>`
      : "";
    return (
      `<table class="sampling-stages"><caption>${escape(words.table_caption)}</caption><thead><tr>${header.join("")}` +
      `</tr></thead><tbody>${rows.join("")}</tbody><tfoot>${footer}</tfoot></table>${offLine}`
    );
  }

  // The radio's label of a candidate, as ui.Handlers.next_token writes it
  function choiceLabel(candidate, language) {
    return `${visibleWhitespace(candidate.label)} \u00b7 ${percent(candidate.probabilities[candidate.probabilities.length - 1], language)}`;
  }

  // --- the page: the chart and the table follow a dragged slider -------------------------------

  const SLIDERS = {
    temperature: "temperature",
    "top-k": "top_k",
    "top-p": "top_p",
    "min-p": "min_p",
    "repetition-penalty": "repetition_penalty",
  };
  const SLIDER_SELECTOR = Object.keys(SLIDERS)
    .map((name) => `#sampling-${name}`)
    .join(", ");

  // Installed once by the tab's page script (styles.TAB_SCRIPT), with the tab's texts in both
  // languages. While a slider moves, each animation frame redraws the view from the sent scores;
  // when it is released, a view the browser could not draw (see `stages`), or another text in the
  // prompt box, is asked of the server once (the « Probabilités » button's call). The chart and
  // the table are marked busy during the drag; its result is said once, at the end.
  function attach(allWords) {
    let parsed = {node: null, data: null};
    let scheduled = false;
    let needsServer = false; // the view on screen is not the one of the sliders' values
    let shownView = null;

    const language = () => ((document.documentElement.lang || "fr").slice(0, 2) === "en" ? "en" : "fr");
    const sentData = () => {
      const node = document.querySelector("#sampling-chart .sampling-filters");
      if (node !== parsed.node) parsed = {node, data: node ? JSON.parse(node.dataset.filters) : null};
      return parsed.data;
    };
    const sliderValue = (name) => {
      const box = document.querySelector(`#sampling-${name} input[type=number]`);
      return box && box.value.trim() !== "" ? Number(box.value) : NaN;
    };
    const live = document.createElement("p");
    live.className = "sampling-live";
    live.setAttribute("aria-live", "polite");
    document.body.appendChild(live);
    const busy = (on) => {
      for (const id of ["sampling-chart", "sampling-table"]) {
        const element = document.getElementById(id);
        if (element) element.setAttribute("aria-busy", on ? "true" : "false");
      }
    };

    function redraw() {
      scheduled = false;
      if (window.iagenSamplingSummary) window.iagenSamplingSummary(); // the folded settings' one line
      const data = sentData();
      const prompt = document.querySelector("#sampling-prompt textarea");
      const chart = document.querySelector("#sampling-chart .sampling-chart");
      const table = document.querySelector("#sampling-table .sampling-stages");
      // A view the browser cannot draw stays, dimmed, until the server's replaces it.
      const stale = () => {
        needsServer = true;
        for (const element of [chart, table]) if (element) element.classList.add("stale");
      };
      if (!data || !prompt || prompt.value !== data.prompt || !chart || !table) return stale();
      const settings = {};
      for (const [name, key] of Object.entries(SLIDERS)) settings[key] = sliderValue(name);
      const view = stages(data, settings, data.shown.length);
      if (view.ask) return stale();
      const pageLanguage = language();
      chart.outerHTML = chartHtml(view, pageLanguage);
      table.parentElement.innerHTML = tableHtml(view, pageLanguage, allWords[pageLanguage]);
      // The radio's choices are the server's (their values are token ids): their labels follow
      // while the candidates are the same; a penalty that reorders them needs the server.
      const sameChoices = view.candidates.map((candidate) => candidate.token_id).join() === data.shown.join();
      if (sameChoices) {
        const labels = document.querySelectorAll("#sampling-candidates label");
        view.candidates.forEach((candidate, index) => {
          const text = labels[index] && labels[index].querySelector("span");
          if (text) text.textContent = choiceLabel(candidate, pageLanguage);
        });
      }
      needsServer = !sameChoices;
      shownView = view;
    }

    function announce() {
      const words = allWords[language()];
      const final = shownView.stages[shownView.stages.length - 1];
      const best = shownView.candidates[0];
      live.textContent = words.live
        .replace("{kept}", formatNumber(final.kept, language()))
        .replace("{token}", visibleWhitespace(best.label))
        .replace("{percent}", percent(best.probabilities[best.probabilities.length - 1], language()));
    }

    const inSlider = (target) => target && target.closest && target.closest(SLIDER_SELECTOR);
    document.addEventListener(
      "input",
      (event) => {
        if (!inSlider(event.target)) return;
        busy(true);
        if (!scheduled) {
          scheduled = true;
          requestAnimationFrame(redraw);
        }
      },
      true,
    );
    // The end of a drag, or a typed value applied: the last frame, then once the server if needed.
    document.addEventListener(
      "change",
      (event) => {
        if (!inSlider(event.target)) return;
        requestAnimationFrame(() => {
          redraw();
          busy(false);
          const show = document.getElementById("sampling-show");
          if (needsServer && show) show.click();
          else if (shownView) announce();
        });
      },
      true,
    );
  }

  return {STAGES, stages, formatNumber, percent, chartHtml, tableHtml, choiceLabel, attach};
})();
