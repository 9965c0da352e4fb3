// The staff page's script: reads the query from the URL, asks the
// gateway (POST /v1/search, /v1/ladder, /v1/row), and draws the results,
// the ladder grid and an opened row.  Every piece of corpus text goes
// into the page as text nodes (textContent, createTextNode), never as
// markup: a clause holding <script> or <img onerror=...> is shown, not
// run.  The snippet's highlight marks are the one markup the daemon
// sends; they are split out here and made into <mark> elements.
"use strict";

const LEVELS = [1, 2, 3, 4, 5];
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return e;
}

// The daemon's snippet: HTML-escaped text (&amp; &lt; &gt;) with the
// matches between <mark> and </mark>.  Text nodes and <mark> elements.
function marked(snippet) {
  const out = document.createDocumentFragment();
  const unescape = (s) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
  let inMark = false;
  for (const part of snippet.split(/(<mark>|<\/mark>)/)) {
    if (part === "<mark>") { inMark = true; continue; }
    if (part === "</mark>") { inMark = false; continue; }
    if (!part) continue;
    const t = document.createTextNode(unescape(part));
    out.append(inMark ? el("mark", {}, t) : t);
  }
  return out;
}

function token() { return sessionStorage.getItem("specdex-token") || ""; }

async function call(op, body) {
  const headers = { "Content-Type": "application/json" };
  const t = $("token").value || token();
  if (t) headers.Authorization = "Bearer " + t;
  const r = await fetch("/v1/" + op, {
    method: "POST", headers, body: JSON.stringify(body) });
  let reply;
  try { reply = await r.json(); } catch (e) {
    throw new Error("the gateway answered " + r.status + " without JSON");
  }
  if (r.status === 401) {
    $("token-box").hidden = false;
    $("token").focus();
  } else if (t) {
    sessionStorage.setItem("specdex-token", t);
  }
  if (!reply.ok) {
    const e = reply.error || {};
    throw new Error((e.message || "error") + " (" + (e.code || r.status) + ")");
  }
  return reply;
}

// The form <-> the URL: ?q=...&level=1&level=3&section=ksa
function readForm() {
  const levels = [...document.querySelectorAll("input[name=level]:checked")]
    .map((c) => Number(c.value));
  return { q: $("q").value.trim(), levels, section: $("section").value };
}

function writeForm(s) {
  $("q").value = s.q;
  for (const c of document.querySelectorAll("input[name=level]"))
    c.checked = s.levels.includes(Number(c.value));
  $("section").value = s.section;
}

function fromUrl() {
  const p = new URLSearchParams(location.search);
  return {
    q: p.get("q") || "",
    levels: p.getAll("level").map(Number).filter((n) => LEVELS.includes(n)),
    section: p.get("section") || "",
  };
}

function toUrl(s) {
  const p = new URLSearchParams();
  p.set("q", s.q);
  for (const l of s.levels) p.append("level", String(l));
  if (s.section) p.set("section", s.section);
  return "?" + p.toString();
}

function status(text) { $("status").textContent = text; }

function meta(c) {
  return el("div", { class: "meta" },
    el("span", { class: "level" },
      c.level ? "Level " + c.level : "All levels"),
    el("span", { class: "row-label" }, c.row),
    el("span", { class: "series" }, c.series),
    el("span", { class: "id" }, c.id));
}

function drawResults(reply, q) {
  const list = $("results");
  list.replaceChildren();
  for (const h of reply.hits) {
    const open = el("button", { type: "button", class: "link" },
      "Open " + h.row + " across levels");
    open.addEventListener("click", () => openRow(h.row, h.series));
    list.append(el("li", { "data-id": h.id, "data-level": String(h.level) },
      meta(h),
      el("p", { class: "text" }, h.snippet ? marked(h.snippet) : h.text),
      open));
  }
  const n = reply.hits.length;
  let s = n ? `${reply.total} result${reply.total === 1 ? "" : "s"} for “${q}”`
            : `Nothing matches “${q}”.`;
  if (!n && reply.corrected) s += ` Did you mean “${reply.corrected}”?`;
  if (reply.partial) s += " (The search was cut short: there may be more.)";
  status(s);
}

// The ladder: one grid row per row label the ladder's hits come from,
// one column per level; a cell is that row's clause at that level,
// marked when it is the level's best match.
async function drawLadder(reply) {
  const section = $("ladder-section");
  const head = document.querySelector("#ladder thead tr");
  const body = document.querySelector("#ladder tbody");
  head.replaceChildren(el("th", { scope: "col" }, "Row"),
    ...LEVELS.map((l) => el("th", { scope: "col" }, "Level " + l)));
  body.replaceChildren();
  const rows = [];
  for (const step of reply.ladder) {
    if (!step.hit) continue;
    const key = step.hit.series + "\u0000" + step.hit.row;
    let r = rows.find((x) => x.key === key);
    if (!r) {
      r = { key, row: step.hit.row, series: step.hit.series, hits: {} };
      rows.push(r);
    }
    r.hits[step.level] = step.hit;
  }
  if (!rows.length) { section.hidden = true; return; }
  for (const r of rows) {
    let cells = null;
    if (reply.row && r.row === reply.row && reply.row_cells.length &&
        reply.row_cells[0].series === r.series) {
      cells = reply.row_cells;
    } else {
      const got = await call("row", { row: r.row, series: r.series });
      cells = got.cells;
    }
    const open = el("button", { type: "button", class: "link" }, r.row);
    open.setAttribute("aria-label", "Open " + r.row + " of " + r.series +
                      " across every level");
    open.addEventListener("click", () => openRow(r.row, r.series));
    const tr = el("tr", {}, el("th", { scope: "row" }, open,
      el("div", { class: "meta" }, r.series)));
    for (const l of LEVELS) {
      const c = cells.find((x) => x.level === l);
      const hit = r.hits[l];
      const td = el("td", { "data-level": String(l) });
      if (c && c.text !== null && c.text !== undefined) {
        td.append(c.text);
      } else {
        td.className = "empty";
        td.append("No cell at this level");
      }
      if (hit) {
        td.classList.add("hit");
        td.append(el("span", { class: "sr-only" }, " (matches the search)"));
      }
      tr.append(td);
    }
    body.append(tr);
  }
  section.hidden = false;
}

async function openRow(row, series) {
  try {
    const reply = await call("row", { row, series });
    const list = $("row-cells");
    list.replaceChildren();
    for (const c of reply.cells) {
      list.append(el("li", {},
        el("div", { class: "meta" },
          el("span", { class: "level" }, "Level " + c.level),
          el("span", {}, c.title || ""), el("span", {}, c.id)),
        el("p", { class: "text" },
          c.text === null ? "No cell at this level" : c.text)));
    }
    $("row-heading").textContent = (reply.row || row) + ", " + series;
    $("row-section").hidden = false;
    $("row-heading").focus();
  } catch (e) {
    status("Could not open the row: " + e.message);
  }
}

async function run(s) {
  $("row-section").hidden = true;
  if (!s.q) {
    $("results").replaceChildren();
    $("ladder-section").hidden = true;
    status("");
    return;
  }
  status("Searching…");
  const body = { q: s.q, limit: 20 };
  if (s.levels.length) body.levels = s.levels;
  if (s.section) body.sections = [s.section];
  const ladderBody = { q: s.q };
  if (s.section) ladderBody.sections = [s.section];
  try {
    const [res, lad] = await Promise.all([call("search", body),
                                          call("ladder", ladderBody)]);
    drawResults(res, s.q);
    await drawLadder(lad);
    document.body.dataset.ready = "1";
  } catch (e) {
    $("results").replaceChildren();
    $("ladder-section").hidden = true;
    status("The search failed: " + e.message);
    document.body.dataset.ready = "1";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const first = fromUrl();
  writeForm(first);
  $("search").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const s = readForm();
    history.pushState(null, "", toUrl(s));
    run(s);
  });
  for (const c of document.querySelectorAll("#levels input, #section"))
    c.addEventListener("change", () => {
      const s = readForm();
      if (!s.q) return;
      history.replaceState(null, "", toUrl(s));
      run(s);
    });
  $("row-close").addEventListener("click", () => {
    $("row-section").hidden = true;
    $("q").focus();
  });
  window.addEventListener("popstate", () => {
    const s = fromUrl();
    writeForm(s);
    run(s);
  });
  if (first.q) run(first);
  else $("q").focus();
});
