// Precedent chat page: filters from /facets, questions to /ask (or /ask/stream), comparisons to
// /compare, and a passage viewer over /documents/{id}. Every piece of user or document text enters
// the page through textContent or createTextNode, never innerHTML, so nothing in a question or a
// document can become markup.
"use strict";

(function () {
  const HISTORY_TURNS = 4;
  const SVG_NS = "http://www.w3.org/2000/svg";
  const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December"];

  const state = {
    turns: [],          // [{question, filters_applied}] sent back as `history`
    streaming: false,   // set from GET /health
    busy: false,
    documents: new Map(), // document_id -> Promise of /documents/{id} JSON
    lastFocus: null,
  };

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- DOM building

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [key, value] of Object.entries(attrs)) {
        if (value === null || value === undefined || value === false) continue;
        if (key === "class") node.className = value;
        else if (key === "text") node.textContent = value;
        else if (key === "dataset") Object.assign(node.dataset, value);
        else node.setAttribute(key, value === true ? "" : String(value));
      }
    }
    for (const child of children || []) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function svg(tag, attrs, children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, String(value));
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  // A snippet may carry <mark>..</mark> around matched terms; only those two tags become elements,
  // everything else (including any other angle brackets) stays literal text.
  function snippetNodes(snippet) {
    const frag = document.createDocumentFragment();
    let inMark = false;
    for (const part of String(snippet || "").split(/(<mark>|<\/mark>)/i)) {
      const lower = part.toLowerCase();
      if (lower === "<mark>") { inMark = true; continue; }
      if (lower === "</mark>") { inMark = false; continue; }
      if (!part) continue;
      frag.append(inMark ? el("mark", { text: part }) : document.createTextNode(part));
    }
    return frag;
  }

  function formatDate(iso) {
    const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || "");
    if (!m) return iso || "";
    return `${Number(m[3])} ${MONTHS[Number(m[2]) - 1]} ${m[1]}`;
  }

  function safeUrl(url) {
    if (!url) return null;
    try {
      const parsed = new URL(url, window.location.href);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (_) {
      return null;
    }
  }

  // Bring a new message into view; scroll-padding in the stylesheet keeps it clear of the sticky
  // composer, and "nearest" keeps the top of a long answer visible.
  function reveal(node) {
    window.requestAnimationFrame(() => node.scrollIntoView({ block: "nearest" }));
  }

  // ---------------------------------------------------------------- HTTP

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function errorFromResponse(response) {
    let detail = "";
    try {
      const body = await response.json();
      detail = body && body.detail;
      if (Array.isArray(detail)) {
        // FastAPI validation errors: [{loc, msg, ...}]
        detail = detail.map((d) => (d && d.msg ? d.msg : JSON.stringify(d))).join("; ");
      } else if (detail && typeof detail !== "string") {
        detail = JSON.stringify(detail);
      }
    } catch (_) {
      detail = "";
    }
    // The server's message already says what to do (ingest, start Chroma, set the model): show it as is.
    return new ApiError(response.status, detail || `The server answered ${response.status} ${response.statusText}.`);
  }

  async function getJSON(url) {
    let response;
    try {
      response = await fetch(url, { headers: { Accept: "application/json" } });
    } catch (_) {
      throw new ApiError(0, "Could not reach the Precedent server. Is it running?");
    }
    if (!response.ok) throw await errorFromResponse(response);
    return response.json();
  }

  async function postJSON(url, body) {
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      });
    } catch (_) {
      throw new ApiError(0, "Could not reach the Precedent server. Is it running?");
    }
    if (!response.ok) throw await errorFromResponse(response);
    return response.json();
  }

  // POST /ask/stream: server-sent events over a fetch body (EventSource cannot POST). An `error`
  // event (the LLM failed) is not the end: the server follows it with a `final` extractive answer,
  // so the error comes back beside that answer, as `notice`, rather than thrown.
  async function postStream(url, body, onToken) {
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
        body: JSON.stringify(body),
      });
    } catch (_) {
      throw new ApiError(0, "Could not reach the Precedent server. Is it running?");
    }
    if (!response.ok) throw await errorFromResponse(response);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let final = null;
    let notice = null;

    const handle = (block) => {
      const data = block.split(/\r?\n/)
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, ""))
        .join("\n");
      if (!data) return;
      let event;
      try { event = JSON.parse(data); } catch (_) { return; }
      if (event.type === "token") onToken(String(event.text || ""));
      else if (event.type === "final") final = event;
      else if (event.type === "error") notice = String(event.detail || event.message || "The answer stream failed.");
    };

    for (;;) {
      const { value, done } = await reader.read();
      if (value) buffer += decoder.decode(value, { stream: true });
      const blocks = buffer.split(/\r?\n\r?\n/);
      buffer = blocks.pop();
      blocks.forEach(handle);
      if (done) break;
    }
    if (buffer.trim()) handle(buffer);
    if (!final) throw new ApiError(502, notice || "The answer stream ended before the final answer arrived.");
    return { final, notice };
  }

  // ---------------------------------------------------------------- filters

  function currentFilters() {
    const force = Array.from(document.querySelectorAll(".force-filter input[type=checkbox]:checked"))
      .map((box) => box.value);
    const filters = {};
    if (force.length) filters.force = force;
    if ($("since").value) filters.since = $("since").value;
    if ($("until").value) filters.until = $("until").value;
    if ($("doc-type").value) filters.doc_type = $("doc-type").value;
    return filters;
  }

  // ---------------------------------------------------------------- filter panel

  // On a phone the open panel fills the first screen, so it starts collapsed there and open on wider
  // screens. The width is the stylesheet's narrow-screen breakpoint.
  const NARROW = window.matchMedia("(max-width: 760px)");

  function setFiltersOpen(open) {
    $("filters-toggle").setAttribute("aria-expanded", open ? "true" : "false");
    $("filters-body").hidden = !open;
  }

  // A collapsed panel must not hide that filters are set: the toggle counts them.
  function showFilterCount() {
    const filters = currentFilters();
    const n = (filters.force || []).length + ["since", "until", "doc_type"].filter((key) => filters[key]).length;
    $("filters-active").textContent = n ? ` (${n} set)` : "";
  }

  async function loadFacets() {
    const summary = $("archive-summary");
    let facets;
    try {
      facets = await getJSON("/facets");
    } catch (error) {
      summary.textContent = "";
      summary.append(el("span", { class: "error", role: "alert", text: `Could not load filters: ${error.message}` }));
      return;
    }

    const list = $("force-list");
    list.replaceChildren();
    (facets.forces || []).forEach((facet, i) => {
      const id = `force-${i}`;
      list.append(el("li", null, [
        el("input", { type: "checkbox", id, name: "force", value: facet.value }),
        el("label", { for: id }, [
          facet.value,
          " ",
          el("span", { class: "count", text: `(${facet.count})`, "aria-label": `${facet.count} documents` }),
        ]),
      ]));
    });
    if (!list.children.length) list.append(el("li", { class: "hint", text: "No forces in the archive yet." }));
    listUnindexedForces(list);

    const select = $("doc-type");
    for (const facet of facets.doc_types || []) {
      select.append(el("option", { value: facet.value, text: `${facet.value} (${facet.count})` }));
    }

    const range = facets.date_range || {};
    for (const id of ["since", "until"]) {
      if (range.min) $(id).min = range.min;
      if (range.max) $(id).max = range.max;
    }

    const docs = facets.documents || 0;
    const chunks = facets.chunks || 0;
    let text = `${docs} document${docs === 1 ? "" : "s"}, ${chunks} passage${chunks === 1 ? "" : "s"}`;
    if (range.min && range.max) text += `, ${formatDate(range.min)} to ${formatDate(range.max)}`;
    summary.textContent = docs ? `${text}.` : "The archive is empty. Run `precedent ingest` to load documents.";
  }

  // Forces that exist but have nothing in the archive yet, from /sources, under the force filters:
  // a scrutiny officer sees what the archive does not cover, and why. Not filters (nothing to match).
  async function listUnindexedForces(list) {
    let data;
    try {
      data = await getJSON("/sources");
    } catch (_) {
      return; // the force filters above still work without it
    }
    const missing = (data.sources || []).filter((row) => !row.documents);
    if (!missing.length) return;
    const items = missing.map((row) => el("li", { text: `${row.force} (${row.status})`, title: row.reason || row.status }));
    const details = el("details", { class: "force-unindexed", id: "force-unindexed" }, [
      el("summary", { class: "hint", text: `${missing.length} more force${missing.length === 1 ? "" : "s"} not yet indexed` }),
      el("ul", { class: "force-list" }, items),
    ]);
    $("force-unindexed")?.remove();
    list.after(details);
  }

  async function detectStreaming() {
    try {
      const health = await getJSON("/health");
      state.streaming = Boolean(health && health.llm === true);
    } catch (_) {
      state.streaming = false;
    }
  }

  // ---------------------------------------------------------------- conversation

  function addMessage(node) {
    const welcome = $("welcome");
    if (welcome) welcome.remove();
    $("conversation").append(node);
    reveal(node);
    return node;
  }

  function userMessage(question, compare) {
    return el("div", { class: "msg user" }, [
      el("p", { class: "msg-label visually-hidden", text: compare ? "You asked to compare:" : "You asked:" }),
      el("p", { class: "msg-text", text: question }),
    ]);
  }

  function errorMessage(message) {
    return el("div", { class: "msg error", role: "alert" }, [
      el("p", { text: message }),
    ]);
  }

  function chipButton(n, citation) {
    const label = citation && citation.citation && citation.citation.display
      ? `Citation ${n}: ${citation.citation.display}` : `Citation ${n}`;
    const chip = el("button", { type: "button", class: "chip", "aria-label": label, title: label, dataset: { n: String(n) } },
      [String(n)]);
    chip.addEventListener("click", () => openPassage(citation, chip));
    return chip;
  }

  // Answer text: one paragraph per line, each [n] a chip when n is a known citation.
  function answerBody(answer, citationsByN) {
    const body = el("div", { class: "answer-text" });
    const lines = String(answer || "").split(/\r?\n/);
    lines.forEach((line, index) => {
      if (!line.trim()) return;
      const p = el("p");
      let rest = line;
      // "Dorset — 5 February 2015: ..." gets its force-and-date heading emphasised.
      const heading = /^([^\[\n]{1,160}? — [^\[\n]{1,80}?:)(\s)/.exec(line);
      if (heading) {
        p.append(el("strong", { text: heading[1] }), heading[2]);
        rest = line.slice(heading[0].length);
      } else if (index === 0 && /:\s*$/.test(line)) {
        p.className = "lead";
      }
      for (const part of rest.split(/(\[\d+\])/)) {
        const marker = /^\[(\d+)\]$/.exec(part);
        if (marker && citationsByN.has(Number(marker[1]))) {
          p.append(chipButton(Number(marker[1]), citationsByN.get(Number(marker[1]))));
        } else if (part) {
          p.append(document.createTextNode(part));
        }
      }
      body.append(p);
    });
    return body;
  }

  function citationList(citations) {
    const list = el("ol", { class: "citations", "aria-label": "Sources" });
    for (const c of citations) {
      const meta = c.citation || {};
      list.append(el("li", { class: "citation", dataset: { n: String(c.n) } }, [
        chipButton(c.n, c),
        el("div", { class: "citation-body" }, [
          el("p", { class: "citation-display", text: meta.display || meta.title || meta.document_id || "" }),
          el("p", { class: "snippet" }, [snippetNodes(c.snippet || c.text)]),
        ]),
      ]));
    }
    return list;
  }

  function answerMessage(data) {
    const citations = Array.isArray(data.citations) ? data.citations : [];
    const byN = new Map(citations.map((c) => [Number(c.n), c]));
    const found = data.found !== false;
    const msg = el("div", { class: found ? "msg answer" : "msg answer not-found" });
    msg.append(el("p", { class: "msg-label visually-hidden", text: "Answer:" }));
    if (data.rewritten_question && data.rewritten_question !== data.question) {
      msg.append(el("p", { class: "rewritten", text: `Searched for: ${data.rewritten_question}` }));
    }
    msg.append(answerBody(data.answer, byN));
    const chips = filterChips(data);
    if (chips) msg.append(chips);
    if (citations.length) {
      msg.append(el("h3", { class: "citations-heading", text: "Sources" }), citationList(citations));
    }
    return msg;
  }

  // Why an LLM-mode answer is the extractive one: the model failed, and the server said how.
  function llmNotice(detail) {
    return el("p", { class: "notice" }, [
      el("strong", { text: "The language model failed, so this answer is built from the passages alone." }),
      " ",
      el("span", { class: "notice-detail", text: detail }),
    ]);
  }

  // The filters an answer ran with, one chip each. Those read from the question itself ("Dorset",
  // "in 2019") can be removed: the question is asked again with the rest, and without reading cues.
  function filterChips(data) {
    const applied = data.filters_applied || {};
    const cued = new Set(Array.isArray(data.cues) ? data.cues : []);
    const items = [];
    (applied.force || []).forEach((force) => items.push({ key: "force", value: force, label: force }));
    if (applied.since) items.push({ key: "since", value: applied.since, label: `from ${formatDate(applied.since)}` });
    if (applied.until) items.push({ key: "until", value: applied.until, label: `to ${formatDate(applied.until)}` });
    if (applied.doc_type) items.push({ key: "doc_type", value: applied.doc_type, label: `${applied.doc_type} only` });
    if (!items.length) return null;
    const row = el("p", { class: "filters-applied" }, ["Filters: "]);
    for (const item of items) {
      const fromQuestion = cued.has(item.key);
      const chip = el("span", { class: fromQuestion ? "filter-chip cued" : "filter-chip",
                                title: fromQuestion ? "Read from your question" : null }, [item.label]);
      if (fromQuestion) {
        const remove = el("button", { type: "button", class: "chip-remove", text: "×",
                                      "aria-label": `Remove the filter ${item.label}, read from your question` });
        remove.addEventListener("click", () => askWithout(data.question, applied, item));
        chip.append(remove);
      }
      row.append(chip, " ");
    }
    return row;
  }

  async function askWithout(question, applied, removed) {
    if (state.busy) return;
    const filters = {};
    const force = (applied.force || []).filter((f) => !(removed.key === "force" && f === removed.value));
    if (force.length) filters.force = force;
    for (const key of ["since", "until", "doc_type"]) {
      if (applied[key] && removed.key !== key) filters[key] = applied[key];
    }
    addMessage(userMessage(`${question} (without ${removed.label})`, false));
    setBusy(true);
    try {
      await ask(question, { filters, useCues: false });
    } catch (error) {
      addMessage(errorMessage(error.message || String(error)));
    } finally {
      setBusy(false);
    }
  }

  // Page extensions (scrutiny.js: export buttons, watches) hear of each new message: what was sent, what came back.
  function announce(node, kind, request, data) {
    node.dispatchEvent(new CustomEvent("precedent:message", { bubbles: true, detail: { kind, request, data } }));
    return node;
  }

  function rememberTurn(question, filtersApplied) {
    state.turns.push({ question, filters_applied: filtersApplied || {} });
    if (state.turns.length > HISTORY_TURNS) state.turns.splice(0, state.turns.length - HISTORY_TURNS);
  }

  async function ask(question, options = {}) {
    const body = { question };
    const filters = options.filters || currentFilters();
    if (Object.keys(filters).length) body.filters = filters;
    if (options.useCues === false) body.use_cues = false;
    if (state.turns.length) body.history = state.turns.slice(-HISTORY_TURNS);

    const pending = addMessage(el("div", { class: "msg pending", "aria-hidden": "true" }, [
      el("p", { class: "pending-text", text: "Searching the archive…" }),
    ]));

    let data;
    let notice = null;
    try {
      if (state.streaming) {
        let streamed = "";
        const text = pending.querySelector(".pending-text");
        try {
          ({ final: data, notice } = await postStream("/ask/stream", body, (token) => {
            streamed += token;
            text.textContent = streamed;
          }));
        } catch (error) {
          // No streaming endpoint after all: fall back to the plain one for this and later questions.
          if (!(error instanceof ApiError) || ![404, 405, 501].includes(error.status) || streamed) throw error;
          state.streaming = false;
          data = await postJSON("/ask", body);
        }
      } else {
        data = await postJSON("/ask", body);
      }
    } finally {
      pending.remove();
    }
    const message = answerMessage(data);
    if (notice) message.querySelector(".msg-label").after(llmNotice(notice));
    announce(addMessage(message), "answer", state.streaming ? { ...body, mode: "llm" } : body, data);
    rememberTurn(data.rewritten_question || question, data.filters_applied);
  }

  // ---------------------------------------------------------------- comparison

  const MAX_SERIES_CLASSES = 8;

  function compareMessage(data) {
    const msg = el("div", { class: "msg compare" });
    msg.append(el("h3", { class: "compare-heading", text: `Compared across forces: ${data.question || ""}` }));
    const forces = Array.isArray(data.forces) ? data.forces : [];
    const columns = el("div", { class: "force-columns" });
    forces.forEach((column) => {
      const section = el("section", { class: column.found === false ? "force-column empty" : "force-column", dataset: { force: column.force } });
      const results = Array.isArray(column.results) ? column.results : [];
      section.append(el("h4", { class: "force-name", text: column.force }));
      if (column.found === false || !results.length) {
        section.append(el("p", { class: "nothing", text: column.message || "Nothing found for this force." }));
      } else {
        const list = el("ol", { class: "force-results" });
        for (const result of results) {
          const meta = result.citation || {};
          const open = el("button", { type: "button", class: "open-passage", text: meta.display || meta.title || "Open passage" });
          open.addEventListener("click", () => openPassage(result, open));
          list.append(el("li", null, [open, el("p", { class: "snippet" }, [snippetNodes(result.snippet || result.text)])]));
        }
        section.append(list);
      }
      columns.append(section);
    });
    if (!forces.length) columns.append(el("p", { class: "nothing", text: "No forces to compare." }));
    msg.append(columns);
    msg.append(timelineFigure(data.timeline || {}, data.question || ""));
    return msg;
  }

  function niceStep(max) {
    if (max <= 5) return 1;
    const rough = max / 5;
    const magnitude = Math.pow(10, Math.floor(Math.log10(rough)));
    for (const m of [1, 2, 5, 10]) if (m * magnitude >= rough) return m * magnitude;
    return 10 * magnitude;
  }

  // Grouped bars: one group per year, one bar per force, drawn into a fixed viewBox that scales.
  function timelineChart(timeline, question) {
    const years = Array.isArray(timeline.years) ? timeline.years : [];
    const series = Array.isArray(timeline.series) ? timeline.series : [];
    // Drawn at about the size it will be shown, so its text stays legible from phone to desktop.
    const available = $("conversation").clientWidth - 40;
    const W = Math.round(Math.min(760, Math.max(300, available || 640))), H = 260;
    const M = { top: 16, right: 12, bottom: 52, left: 52 };
    const plotW = W - M.left - M.right, plotH = H - M.top - M.bottom;
    const max = Math.max(0, ...series.flatMap((s) => (s.counts || []).map(Number)));

    const summary = series.map((s) => `${s.force}: ${years.map((y, i) => `${y} ${Number((s.counts || [])[i] || 0)}`).join(", ")}`).join("; ");
    const chart = svg("svg", {
      viewBox: `0 0 ${W} ${H}`, role: "img", class: "timeline-chart",
      "aria-label": years.length
        ? `Matching passages per force per year for "${question}". ${summary}.`
        : `No matching passages to chart for "${question}".`,
      preserveAspectRatio: "xMidYMid meet",
    });

    if (!years.length || !series.length) {
      chart.append(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "chart-empty", text: "No matching passages to chart." }));
      return chart;
    }

    const step = niceStep(max || 1);
    const top = Math.max(step, Math.ceil((max || 1) / step) * step);
    const y = (v) => M.top + plotH - (v / top) * plotH;
    const groupW = plotW / years.length;
    const pad = Math.min(16, groupW * 0.15);
    const barW = Math.max(1, (groupW - 2 * pad) / series.length);
    const labelEvery = Math.max(1, Math.ceil(years.length / Math.floor(plotW / 40))); // ~40px per year label

    const grid = svg("g", { class: "grid" });
    for (let v = 0; v <= top; v += step) {
      grid.append(svg("line", { x1: M.left, x2: W - M.right, y1: y(v), y2: y(v) }));
      grid.append(svg("text", { x: M.left - 6, y: y(v) + 4, "text-anchor": "end", class: "tick", text: String(v) }));
    }
    chart.append(grid);

    const bars = svg("g", { class: "bars" });
    years.forEach((year, yi) => {
      const gx = M.left + yi * groupW + pad;
      series.forEach((s, si) => {
        const count = Number((s.counts || [])[yi] || 0);
        const h = (count / top) * plotH;
        const rect = svg("rect", {
          x: gx + si * barW + 1, y: y(count) - (count ? 0 : 1), width: Math.max(1, barW - 2), height: Math.max(count ? h : 1, 1),
          class: `bar series-${si % MAX_SERIES_CLASSES}`, "data-force": s.force, "data-year": year,
        });
        rect.append(svg("title", { text: `${s.force}, ${year}: ${count} matching passage${count === 1 ? "" : "s"}` }));
        bars.append(rect);
      });
      if (yi % labelEvery === 0) {
        chart.append(svg("text", { x: M.left + yi * groupW + groupW / 2, y: M.top + plotH + 18, "text-anchor": "middle", class: "tick", text: String(year) }));
      }
    });
    chart.append(bars);

    chart.append(svg("line", { x1: M.left, x2: W - M.right, y1: M.top + plotH, y2: M.top + plotH, class: "axis" }));
    chart.append(svg("line", { x1: M.left, x2: M.left, y1: M.top, y2: M.top + plotH, class: "axis" }));
    chart.append(svg("text", { x: M.left + plotW / 2, y: H - 10, "text-anchor": "middle", class: "axis-label", text: "Year of meeting" }));
    chart.append(svg("text", {
      x: 0, y: 0, "text-anchor": "middle", class: "axis-label",
      transform: `translate(14 ${M.top + plotH / 2}) rotate(-90)`, text: "Matching passages",
    }));
    return chart;
  }

  function timelineFigure(timeline, question) {
    // Only the newest comparison carries id="timeline".
    const previous = $("timeline");
    if (previous) previous.removeAttribute("id");

    const series = Array.isArray(timeline.series) ? timeline.series : [];
    const years = Array.isArray(timeline.years) ? timeline.years : [];
    const figure = el("figure", { id: "timeline", class: "timeline" });
    figure.append(el("figcaption", { class: "timeline-caption", text: "How often the topic comes up, per force per year" }));
    figure.append(timelineChart(timeline, question));

    const legend = el("ul", { class: "legend", "aria-label": "Legend" });
    series.forEach((s, si) => {
      legend.append(el("li", null, [
        el("span", { class: `swatch series-${si % MAX_SERIES_CLASSES}`, "aria-hidden": "true" }),
        s.force,
      ]));
    });
    figure.append(legend);

    // Papers without a meeting date cannot sit on the year axis: say how many were left out.
    const undated = series.filter((s) => Number(s.undated) > 0);
    if (undated.length) {
      const parts = undated.map((s) => `${s.force} ${Number(s.undated)}`);
      figure.append(el("p", { class: "timeline-undated", text: `Undated passages, not charted: ${parts.join(", ")}.` }));
    }

    if (years.length && series.length) {
      const table = el("table", { class: "timeline-table" }, [
        el("thead", null, [el("tr", null, [el("th", { scope: "col", text: "Force" }), ...years.map((yr) => el("th", { scope: "col", text: String(yr) }))])]),
        el("tbody", null, series.map((s) => el("tr", null, [
          el("th", { scope: "row", text: s.force }),
          ...years.map((_, i) => el("td", { text: String(Number((s.counts || [])[i] || 0)) })),
        ]))),
      ]);
      figure.append(el("details", { class: "timeline-data" }, [el("summary", { text: "Show the numbers" }), table]));
    }
    return figure;
  }

  async function compare(question) {
    const filters = currentFilters();
    const body = { question };
    if (filters.force) body.forces = filters.force;
    if (filters.since) body.since = filters.since;
    if (filters.until) body.until = filters.until;
    if (filters.doc_type) body.doc_type = filters.doc_type;

    const pending = addMessage(el("div", { class: "msg pending", "aria-hidden": "true" }, [
      el("p", { class: "pending-text", text: "Comparing forces…" }),
    ]));
    let data;
    try {
      data = await postJSON("/compare", body);
    } finally {
      pending.remove();
    }
    announce(addMessage(compareMessage(data)), "compare", body, data);
    rememberTurn(question, {
      force: filters.force || [], since: filters.since || null, until: filters.until || null, doc_type: filters.doc_type || null,
    });
  }

  // ---------------------------------------------------------------- passage viewer

  function fetchDocument(id) {
    if (!state.documents.has(id)) {
      const promise = getJSON(`/documents/${encodeURIComponent(id)}`);
      promise.catch(() => state.documents.delete(id));
      state.documents.set(id, promise);
    }
    return state.documents.get(id);
  }

  // Where the cited chunk sits in the document text: its offsets, or failing that its text.
  function citedSpan(doc, meta, passageText) {
    const text = doc.text || "";
    const chunk = (doc.chunks || []).find((c) => c.chunk_id === meta.chunk_id);
    if (chunk && Number.isInteger(chunk.start) && Number.isInteger(chunk.end) && chunk.end > chunk.start && chunk.end <= text.length) {
      return { start: chunk.start, end: chunk.end, locator: chunk.locator };
    }
    const needle = (chunk && chunk.text) || passageText || "";
    const at = needle ? text.indexOf(needle) : -1;
    if (at >= 0) return { start: at, end: at + needle.length, locator: chunk && chunk.locator };
    return null;
  }

  async function openPassage(item, opener) {
    const meta = (item && item.citation) || {};
    const dialog = $("passage");
    const body = $("passage-body");
    state.lastFocus = opener || document.activeElement;

    $("passage-title").textContent = meta.title || "Cited passage";
    $("passage-display").textContent = meta.display || "";
    $("passage-locator").textContent = meta.locator ? `Located at: ${meta.locator}` : "";
    const link = $("passage-original");
    const url = safeUrl(meta.url);
    if (url) {
      link.href = url;
      link.hidden = false;
    } else {
      link.removeAttribute("href");
      link.hidden = true;
    }
    body.replaceChildren(el("p", { class: "hint", text: "Loading the document…" }));
    dialog.setAttribute("aria-busy", "true");
    if (!dialog.open) dialog.showModal();

    try {
      const doc = await fetchDocument(meta.document_id);
      const text = doc.text || "";
      const span = citedSpan(doc, meta, item.text);
      const frag = document.createDocumentFragment();
      if (span) {
        frag.append(
          document.createTextNode(text.slice(0, span.start)),
          el("mark", { id: "cited-passage", class: "cited", tabindex: "-1", text: text.slice(span.start, span.end) }),
          document.createTextNode(text.slice(span.end)),
        );
        if (!meta.locator && span.locator) $("passage-locator").textContent = `Located at: ${span.locator}`;
      } else {
        // The cited passage could not be placed in the document: show it on its own.
        frag.append(
          el("p", { class: "hint", text: "The passage could not be located in the document text; it is shown on its own." }),
          el("mark", { id: "cited-passage", class: "cited", tabindex: "-1", text: item.text || "" }),
        );
      }
      body.replaceChildren(frag);
      const mark = $("cited-passage");
      window.requestAnimationFrame(() => mark.scrollIntoView({ block: "center" }));
    } catch (error) {
      body.replaceChildren(
        el("p", { class: "error", role: "alert", text: `Could not open the document: ${error.message}` }),
        el("p", { class: "hint", text: "The cited passage:" }),
        el("mark", { id: "cited-passage", class: "cited", text: item.text || "" }),
      );
    } finally {
      dialog.removeAttribute("aria-busy");
    }
  }

  function closePassage() {
    const dialog = $("passage");
    if (dialog.open) dialog.close();
  }

  // ---------------------------------------------------------------- wiring

  function setBusy(busy) {
    state.busy = busy;
    $("send").disabled = busy;
    $("ask-form").setAttribute("aria-busy", busy ? "true" : "false");
    // Screen readers hold back announcing the log until the finished answer is in place.
    $("conversation").setAttribute("aria-busy", busy ? "true" : "false");
  }

  function updateSendLabel() {
    $("send").textContent = $("compare-toggle").checked ? "Compare" : "Ask";
  }

  async function onSubmit(event) {
    event.preventDefault();
    if (state.busy) return;
    const box = $("question");
    const question = box.value.trim();
    if (!question) {
      box.focus();
      return;
    }
    const comparing = $("compare-toggle").checked;
    addMessage(userMessage(question, comparing));
    box.value = "";
    setBusy(true);
    try {
      if (comparing) await compare(question);
      else await ask(question);
    } catch (error) {
      addMessage(errorMessage(error.message || String(error)));
    } finally {
      setBusy(false);
      box.focus();
    }
  }

  function init() {
    const form = $("ask-form");
    const box = $("question");
    form.addEventListener("submit", onSubmit);
    box.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });

    document.querySelectorAll(".example").forEach((button) => {
      button.addEventListener("click", () => {
        box.value = button.textContent;
        box.focus();
      });
    });

    $("compare-toggle").addEventListener("change", updateSendLabel);
    updateSendLabel();

    $("clear-filters").addEventListener("click", () => {
      document.querySelectorAll(".force-filter input[type=checkbox]").forEach((b) => { b.checked = false; });
      $("since").value = "";
      $("until").value = "";
      $("doc-type").value = "";
      showFilterCount();
    });

    setFiltersOpen(!NARROW.matches);
    NARROW.addEventListener("change", (event) => setFiltersOpen(!event.matches));
    $("filters-toggle").addEventListener("click", () => {
      setFiltersOpen($("filters-toggle").getAttribute("aria-expanded") !== "true");
    });
    $("filters-body").addEventListener("change", showFilterCount);

    const dialog = $("passage");
    $("passage-close").addEventListener("click", closePassage);
    // A click on the backdrop lands on the dialog element itself.
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog) closePassage();
    });
    dialog.addEventListener("close", () => {
      const back = state.lastFocus;
      state.lastFocus = null;
      if (back && document.contains(back)) back.focus();
    });

    loadFacets();
    detectStreaming();
  }

  window.Precedent = Object.freeze({ openPassage, currentFilters, el, svg, formatDate, safeUrl });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
