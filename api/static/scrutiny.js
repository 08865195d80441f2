// Precedent's scrutiny outputs on the chat page: "Export" buttons on answers and comparisons (CSV,
// Markdown, Word), saved searches (watches) with their newest matches, the precept and hearing facts
// (a table by force and year, a Band D chart with vetoes marked), and links to a passage
// ("#doc=ID&chunk=ID") that open the passage viewer. It builds on app.js (window.Precedent) and, like
// it, puts every piece of document or user text on the page through textContent, never innerHTML.
"use strict";

(function () {
  const P = window.Precedent;
  if (!P) return; // app.js did not load: nothing to extend
  const { el, svg, formatDate, openPassage, currentFilters } = P;
  const $ = (id) => document.getElementById(id);
  const EXPORTS = [["csv", "CSV"], ["md", "Markdown"], ["docx", "Word"]];
  const VERDICTS = {
    supported: "Supported", supported_with_recommendations: "Supported with recommendations", vetoed: "Vetoed",
    veto_failed: "Veto failed", noted: "Noted", other: "Other",
  };
  const OUTCOMES = { endorsed: "Endorsed", endorsed_with_conditions: "Endorsed with conditions", vetoed: "Vetoed", other: "Other" };
  const SERIES_CLASSES = 8;
  const last = { question: "", filters: {} }; // the question most recently asked, for "Watch this question"

  // ---------------------------------------------------------------- HTTP

  async function detailOf(response) {
    try {
      const body = await response.json();
      return typeof body.detail === "string" ? body.detail : `The server answered ${response.status}.`;
    } catch (_) {
      return `The server answered ${response.status}.`;
    }
  }

  async function request(url, options) {
    let response;
    try {
      response = await fetch(url, options);
    } catch (_) {
      throw new Error("Could not reach the Precedent server. Is it running?");
    }
    if (!response.ok) {
      const error = new Error(await detailOf(response));
      error.status = response.status;
      throw error;
    }
    return response;
  }

  const getJSON = async (url) => (await request(url, { headers: { Accept: "application/json" } })).json();

  // ---------------------------------------------------------------- passage links

  // "#doc=ID&chunk=ID" (also the fragment of links in exports and feeds) opens that passage in the viewer.
  function linkTarget(href) {
    const at = String(href || "").indexOf("#");
    if (at < 0) return null;
    const params = new URLSearchParams(String(href).slice(at + 1));
    const doc = params.get("doc");
    const chunk = params.get("chunk");
    return doc && chunk ? { doc, chunk } : null;
  }

  function passageHref(link) {
    const target = linkTarget(link);
    return target ? `#doc=${encodeURIComponent(target.doc)}&chunk=${encodeURIComponent(target.chunk)}` : "#";
  }

  async function openTarget(target, display, opener) {
    let doc;
    try {
      doc = await getJSON(`/documents/${encodeURIComponent(target.doc)}`);
    } catch (error) {
      window.alert(`Could not open the passage: ${error.message}`);
      return;
    }
    const meta = doc.document || {};
    const chunk = (doc.chunks || []).find((c) => c.chunk_id === target.chunk) || {};
    openPassage({
      citation: { document_id: target.doc, chunk_id: target.chunk, title: meta.title, display: display || meta.title,
        locator: chunk.locator, url: meta.url },
      text: chunk.text || "",
    }, opener);
  }

  function passageLink(link, text, display, className) {
    const a = el("a", { href: passageHref(link), class: className || "passage-link", text, title: display || null,
      dataset: { display: display || "" } });
    return a;
  }

  document.addEventListener("click", (event) => {
    const a = event.target.closest && event.target.closest("a[href^='#doc=']");
    if (!a) return;
    const target = linkTarget(a.getAttribute("href"));
    if (!target) return;
    event.preventDefault();
    history.replaceState(null, "", a.getAttribute("href"));
    openTarget(target, a.dataset.display, a);
  });

  function openFromLocation() {
    const target = linkTarget(window.location.hash);
    if (target) openTarget(target, "", null);
  }

  // ---------------------------------------------------------------- exports

  function filenameOf(response, fallback) {
    const header = response.headers.get("Content-Disposition") || "";
    const match = /filename="([^"]+)"/.exec(header);
    return match ? match[1] : fallback;
  }

  async function download(kind, body, format, button) {
    const url = kind === "compare" ? "/compare" : "/ask";
    const status = button.closest(".export").querySelector(".export-status");
    button.disabled = true;
    status.textContent = "Preparing the export…";
    try {
      const response = await request(url, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ ...body, format }),
      });
      const blob = await response.blob();
      const href = URL.createObjectURL(blob);
      const a = el("a", { href, download: filenameOf(response, `precedent-${kind}.${format}`), class: "visually-hidden" });
      document.body.append(a);
      a.click();
      a.remove();
      window.setTimeout(() => URL.revokeObjectURL(href), 60_000);
      status.textContent = "";
    } catch (error) {
      status.textContent = `Export failed: ${error.message}`;
    } finally {
      button.disabled = false;
    }
  }

  function exportBar(kind, body) {
    const bar = el("div", { class: "export", role: "group", "aria-label": kind === "compare" ? "Export this comparison" : "Export this answer" }, [
      el("span", { class: "export-label", text: "Export:" }),
    ]);
    for (const [format, label] of EXPORTS) {
      const button = el("button", { type: "button", class: "export-button", dataset: { format }, text: label });
      button.addEventListener("click", () => download(kind, body, format, button));
      bar.append(button);
    }
    bar.append(el("span", { class: "export-status", role: "status" }));
    return bar;
  }

  document.addEventListener("precedent:message", (event) => {
    const { kind, request: body, data } = event.detail || {};
    if (!body) return;
    if (kind === "answer" && data && data.found !== false) event.target.append(exportBar("answer", body));
    if (kind === "compare") event.target.append(exportBar("compare", body));
    last.question = (data && (data.rewritten_question || data.question)) || body.question || "";
    const applied = (data && data.filters_applied) || body.filters || {};
    last.filters = { force: applied.force || body.forces || [], since: applied.since || body.since || null };
  });

  // ---------------------------------------------------------------- watches

  function watchItem(watch) {
    const entries = Array.isArray(watch.latest) ? watch.latest : [];
    const item = el("li", { class: "watch", dataset: { watch: watch.watch_id } }, [
      el("p", { class: "watch-query" }, [
        el("strong", { text: watch.description || watch.query }),
        ` (${watch.entries} match${watch.entries === 1 ? "" : "es"}) `,
        el("a", { href: watch.feed, class: "feed-link", text: "Atom feed" }),
      ]),
    ]);
    if (entries.length) {
      item.append(el("ul", { class: "watch-entries" }, entries.map((entry) => {
        const display = (entry.citation && entry.citation.display) || "";
        return el("li", null, [passageLink(`#doc=${encodeURIComponent(entry.citation.document_id)}&chunk=${encodeURIComponent(entry.citation.chunk_id)}`,
          display, display, "watch-entry")]);
      })));
    } else {
      item.append(el("p", { class: "hint", text: "No matching papers yet." }));
    }
    return item;
  }

  async function loadWatches() {
    const list = $("watch-list");
    let data;
    try {
      data = await getJSON("/watches");
    } catch (error) {
      list.replaceChildren(el("li", { class: "error", text: `Could not load saved searches: ${error.message}` }));
      return;
    }
    const watches = Array.isArray(data.watches) ? data.watches : [];
    list.replaceChildren(...watches.map(watchItem));
    if (!watches.length) list.append(el("li", { class: "hint", text: "No saved searches yet." }));
    $("watch-form").hidden = !data.writable;
  }

  async function saveWatch(event) {
    event.preventDefault();
    const status = $("watch-status");
    const typed = $("question").value.trim();
    const query = typed || last.question;
    const key = $("admin-key").value.trim();
    if (!query) {
      status.textContent = "Ask a question (or type one) first, then save it.";
      return;
    }
    if (!key) {
      status.textContent = "Enter the admin key to save a search.";
      $("admin-key").focus();
      return;
    }
    const filters = typed ? currentFilters() : last.filters;
    const body = { query };
    if (filters.force && filters.force.length) body.forces = filters.force;
    if (filters.since) body.since = filters.since;
    $("save-watch").disabled = true;
    try {
      const response = await request("/watches", {
        method: "POST", body: JSON.stringify(body),
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${key}` },
      });
      const watch = await response.json();
      status.textContent = `Saved: ${watch.description}. New papers that match will appear here.`;
      await loadWatches();
    } catch (error) {
      status.textContent = error.status === 401 ? "The admin key was not accepted." : `Could not save: ${error.message}`;
    } finally {
      $("save-watch").disabled = false;
    }
  }

  // ---------------------------------------------------------------- facts

  function money(value) {
    const n = Number(value);
    if (Number.isInteger(n)) return `£${n}`;
    return Math.round(n * 100) / 100 === n ? `£${n.toFixed(2)}` : `£${n}`;
  }

  function factLink(field, text) {
    return passageLink(field.link, text, `${field.citation.display}: “${field.sentence}”`, "fact-link");
  }

  function factsUrl(kind) {
    const params = new URLSearchParams({ kind });
    for (const force of currentFilters().force || []) params.append("force", force);
    return `/facts?${params}`;
  }

  function preceptCell(row) {
    const f = row.fields;
    const cell = el("td", { class: `precept verdict-${f.verdict ? f.verdict.value : "none"}` });
    const lines = [];
    if (f.verdict) lines.push(el("span", { class: "verdict" }, [factLink(f.verdict, VERDICTS[f.verdict.value] || f.verdict.value)]));
    if (f.band_d) lines.push(el("span", null, ["Band D ", factLink(f.band_d, money(f.band_d.value))]));
    const rise = [];
    if (f.increase_pounds) rise.push(factLink(f.increase_pounds, `+${money(f.increase_pounds.value)}`));
    if (f.increase_percent) rise.push(factLink(f.increase_percent, `${rise.length ? "(" : "+"}${f.increase_percent.value}%${rise.length ? ")" : ""}`));
    if (rise.length) lines.push(el("span", null, rise.flatMap((r, i) => (i ? [" ", r] : [r]))));
    lines.push(el("span", { class: "when", text: row.retrospective ? "recalled in a later paper" : (row.meeting_date ? `meeting of ${formatDate(row.meeting_date)}` : "undated") }));
    for (const line of lines) cell.append(line);
    return cell;
  }

  function preceptTable(rows) {
    if (!rows.length) return el("p", { class: "hint", text: "No precept decisions found in these papers." });
    const years = [...new Set(rows.map((r) => r.fields.year.value))].sort();
    const forces = [...new Set(rows.map((r) => r.force || "Unknown force"))].sort();
    const byKey = new Map(rows.map((r) => [`${r.force || "Unknown force"}|${r.fields.year.value}`, r]));
    return el("table", { class: "facts-table", id: "precepts" }, [
      el("caption", { class: "visually-hidden", text: "Precept decisions by force and financial year" }),
      el("thead", null, [el("tr", null, [el("th", { scope: "col", text: "Force" }), ...years.map((y) => el("th", { scope: "col", text: y }))])]),
      el("tbody", null, forces.map((force) => el("tr", { dataset: { force } }, [
        el("th", { scope: "row", text: force }),
        ...years.map((year) => (byKey.has(`${force}|${year}`) ? preceptCell(byKey.get(`${force}|${year}`)) : el("td", { class: "empty", text: "–" }))),
      ]))),
    ]);
  }

  function hearingTable(rows) {
    if (!rows.length) return el("p", { class: "hint", text: "No confirmation hearings found in these papers." });
    const cell = (field, label) => el("td", null, field ? [factLink(field, label || String(field.value))] : ["–"]);
    return el("table", { class: "facts-table", id: "hearings" }, [
      el("caption", { class: "visually-hidden", text: "Confirmation hearings" }),
      el("thead", null, [el("tr", null, ["Force", "Meeting", "Role", "Candidate", "Outcome"].map((h) => el("th", { scope: "col", text: h })))]),
      el("tbody", null, rows.map((row) => el("tr", { dataset: { force: row.force || "" } }, [
        el("th", { scope: "row", text: row.force || "Unknown force" }),
        el("td", { text: row.meeting_date ? formatDate(row.meeting_date) : "undated" }),
        cell(row.fields.role),
        cell(row.fields.candidate),
        cell(row.fields.outcome, row.fields.outcome && (OUTCOMES[row.fields.outcome.value] || row.fields.outcome.value)),
      ]))),
    ]);
  }

  // Band D over time: a line per force through the years that state it; a veto is a cross on its year
  // (on the line when that year's Band D is known, else on the axis).
  function bandDChart(rows) {
    const forces = [...new Set(rows.map((r) => r.force || "Unknown force"))].sort();
    const points = rows.filter((r) => r.fields.band_d);
    const vetoes = rows.filter((r) => r.fields.verdict && r.fields.verdict.value === "vetoed");
    const W = 640, H = 280, M = { top: 16, right: 40, bottom: 44, left: 64 };
    const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "band-d-chart", role: "img",
      "aria-label": points.length || vetoes.length
        ? `Band D police precept per force by financial year. ${points.map((r) => `${r.force} ${r.fields.year.value}: ${money(r.fields.band_d.value)}`).join("; ")}${vetoes.length ? `. Vetoed: ${vetoes.map((r) => `${r.force} ${r.fields.year.value}`).join(", ")}` : ""}.`
        : "No Band D amounts or vetoes to chart." });
    if (!points.length && !vetoes.length) {
      chart.append(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "chart-empty", text: "No Band D amounts or vetoes to chart." }));
      return chart;
    }
    const start = (r) => Number(String(r.fields.year.value).slice(0, 4));
    const years = [...points, ...vetoes].map(start);
    const x0 = Math.min(...years), x1 = Math.max(...years);
    const values = points.map((r) => Number(r.fields.band_d.value));
    const low = values.length ? Math.floor(Math.min(...values) / 20) * 20 - 20 : 0;
    const high = values.length ? Math.ceil(Math.max(...values) / 20) * 20 + 20 : 100;
    const x = (year) => M.left + (x1 === x0 ? (W - M.left - M.right) / 2 : ((year - x0) / (x1 - x0)) * (W - M.left - M.right));
    const y = (v) => M.top + (1 - (v - Math.max(0, low)) / (high - Math.max(0, low))) * (H - M.top - M.bottom);
    const grid = svg("g", { class: "grid" });
    const step = Math.max(20, Math.ceil((high - Math.max(0, low)) / 5 / 20) * 20);
    for (let v = Math.max(0, low); v <= high; v += step) {
      grid.append(svg("line", { x1: M.left, x2: W - M.right, y1: y(v), y2: y(v) }));
      grid.append(svg("text", { x: M.left - 6, y: y(v) + 4, "text-anchor": "end", class: "tick", text: `£${v}` }));
    }
    chart.append(grid);
    for (let year = x0; year <= x1; year += 1) {
      chart.append(svg("text", { x: x(year), y: H - M.bottom + 18, "text-anchor": "middle", class: "tick", text: `${year}/${String((year + 1) % 100).padStart(2, "0")}` }));
    }
    chart.append(svg("line", { x1: M.left, x2: W - M.right, y1: H - M.bottom, y2: H - M.bottom, class: "axis" }));
    forces.forEach((force, i) => {
      const series = `series-${i % SERIES_CLASSES}`;
      const own = points.filter((r) => (r.force || "Unknown force") === force).sort((a, b) => start(a) - start(b));
      if (own.length > 1) {
        chart.append(svg("polyline", { class: `line ${series}`, points: own.map((r) => `${x(start(r))},${y(Number(r.fields.band_d.value))}`).join(" ") }));
      }
      for (const r of own) {
        const link = svg("a", { href: passageHref(r.fields.band_d.link), class: "point-link" });
        const dot = svg("circle", { cx: x(start(r)), cy: y(Number(r.fields.band_d.value)), r: 5, class: `point ${series}`, "data-force": force });
        dot.append(svg("title", { text: `${force}, ${r.fields.year.value}: Band D ${money(r.fields.band_d.value)}` }));
        link.append(dot);
        chart.append(link);
      }
      for (const r of vetoes.filter((v) => (v.force || "Unknown force") === force)) {
        const cx = x(start(r));
        const cy = r.fields.band_d ? y(Number(r.fields.band_d.value)) : H - M.bottom;
        const link = svg("a", { href: passageHref(r.fields.verdict.link), class: "veto-link" });
        const cross = svg("path", { d: `M${cx - 6},${cy - 6}L${cx + 6},${cy + 6}M${cx - 6},${cy + 6}L${cx + 6},${cy - 6}`, class: "veto", "data-force": force });
        cross.append(svg("title", { text: `${force}, ${r.fields.year.value}: the Panel vetoed the precept` }));
        link.append(cross);
        chart.append(link);
      }
    });
    return chart;
  }

  function chartLegend(rows) {
    const forces = [...new Set(rows.map((r) => r.force || "Unknown force"))].sort();
    return el("ul", { class: "legend", "aria-label": "Legend" }, [
      ...forces.map((force, i) => el("li", null, [el("span", { class: `swatch series-${i % SERIES_CLASSES}`, "aria-hidden": "true" }), force])),
      el("li", null, [el("span", { class: "veto-key", "aria-hidden": "true", text: "✕" }), "veto"]),
    ]);
  }

  async function loadFacts() {
    const precepts = $("precept-table");
    const hearings = $("hearing-table");
    const figure = $("band-d-chart");
    precepts.replaceChildren(el("p", { class: "hint", text: "Loading the facts…" }));
    try {
      const [p, h] = await Promise.all([getJSON(factsUrl("precept")), getJSON(factsUrl("hearing"))]);
      const rows = Array.isArray(p.facts) ? p.facts : [];
      precepts.replaceChildren(preceptTable(rows));
      hearings.replaceChildren(hearingTable(Array.isArray(h.facts) ? h.facts : []));
      figure.querySelectorAll("svg, .legend").forEach((node) => node.remove());
      figure.append(bandDChart(rows), chartLegend(rows));
    } catch (error) {
      precepts.replaceChildren(el("p", { class: "error", role: "alert", text: `Could not load the facts: ${error.message}` }));
    }
  }

  function showView(facts) {
    $("facts-view").hidden = !facts;
    $("main").hidden = facts;
    $("show-facts").setAttribute("aria-pressed", String(facts));
    $("show-chat").setAttribute("aria-pressed", String(!facts));
    if (facts) loadFacts();
  }

  // ---------------------------------------------------------------- wiring

  function init() {
    $("show-facts").addEventListener("click", () => showView(true));
    $("show-chat").addEventListener("click", () => showView(false));
    $("watch-form").addEventListener("submit", saveWatch);
    document.querySelectorAll(".force-filter").forEach((box) => box.addEventListener("change", () => {
      if (!$("facts-view").hidden) loadFacts();
    }));
    window.addEventListener("hashchange", openFromLocation);
    loadWatches();
    openFromLocation();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
