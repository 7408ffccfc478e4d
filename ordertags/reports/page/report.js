// Renders the page `ordertags report` writes from its embedded JSON document (inlined).
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("ordertags-data").textContent);
  const tags = new Map(data.tags.map((t) => [t.name, t]));
  const symbol = (t) => t.icon || data.symbol;
  const LONG = 24; // characters: a part longer than this may break (see parts)
  function el(name, attrs, children) {
    const node = document.createElement(name);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else node.setAttribute(k, v);
    }
    for (const c of children || []) if (c) node.appendChild(c);
    return node;
  }
  function badge(t) {
    const text = symbol(t) + " " + t.label;
    // A label wraps only when it is too long for any column (as parts do, below).
    const b = el("span", { class: "badge" + (t.background ? "" : " plain") +
      (text.length > LONG ? "" : " whole"), text, "data-tag": t.name, title: t.description || t.name });
    if (t.background) {
      // On paper, the colours shaded to keep their contrast in grey (see the style sheet).
      for (const [k, v] of [["--fill", t.background], ["--ink", t.text],
        ["--print-fill", t.print_background], ["--print-ink", t.print_text]]) b.style.setProperty(k, v);
    }
    return b;
  }
  // Text that wraps between its parts only: its words, and for an email or a file name
  // (`at`) also after "@", ".", "_", "-" and "+". A part is never broken (a date stays
  // whole before its time, an email breaks after its @), except one too long for any
  // column (over LONG characters), which breaks where it must rather than widen the page.
  function parts(tag, cls, text, at) {
    const node = el(tag, { class: cls + " parts" });
    for (const piece of text.split(/([ \t\r\n]+)/)) {
      if (/^[ \t\r\n]*$/.test(piece)) { if (piece) node.appendChild(document.createTextNode(piece)); continue; }
      const bits = at ? piece.split(/(?<=[@._+-])/) : [piece];
      bits.forEach((bit, i) => {
        if (i) node.appendChild(document.createElement("wbr"));
        node.appendChild(bit.length > LONG ? document.createTextNode(bit) : el("span", { text: bit }));
      });
    }
    return node;
  }
  // When the document was made, as written there (ISO 8601, the maker's local time and
  // UTC offset): the same text in every browser, whatever its language or time zone.
  function made(iso) {
    const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/.exec(iso);
    if (!m) return iso;
    const zone = !m[3] ? "" : (m[3] === "Z" || m[3] === "+00:00") ? " UTC" : " UTC" + m[3];
    return m[1] + " " + m[2] + zone;
  }
  const c = data.counts;
  document.getElementById("meta").textContent =
    c.orders + (c.orders === 1 ? " order" : " orders") +
    (c.all !== c.orders ? " of " + c.all : "") + " · " + c.tagged + " tagged · " +
    data.sources.join(", ") + (data.as_of ? " · as of " + data.as_of : "") +
    " · made " + made(data.generated);

  const active = new Set();
  const chips = document.getElementById("chips");
  const legend = document.getElementById("legend");
  for (const t of data.tags) {
    if (!t.orders) continue;
    const chip = el("button", { class: "chip", type: "button", "aria-pressed": "false",
      "data-tag": t.name, title: t.label }, [
      el("span", { text: symbol(t) + " " + t.name }), el("span", { class: "n", text: String(t.orders) }),
    ]);
    if (t.background) { chip.style.background = t.background; chip.style.color = t.text; }
    chip.addEventListener("click", () => {
      if (active.has(t.name)) active.delete(t.name); else active.add(t.name);
      chip.setAttribute("aria-pressed", String(active.has(t.name)));
      apply();
    });
    chips.appendChild(chip);
    legend.appendChild(el("span", { text: symbol(t) + " " + t.name + ": " + t.label + " (" + t.orders + ")" }));
  }

  const head = document.getElementById("head");
  for (const title of ["Order", "Customer", "Tags", "What it needs", ...data.fields]) {
    head.appendChild(el("th", { text: title }));
  }
  const body = document.getElementById("rows");
  // Rows are made when they are about to be seen: the first CHUNK at once, the next ones
  // as the reader scrolls near the end of those drawn (or all of them, to print), so a
  // page of 50,000 orders opens as fast as one of fifty. Filtering works on the data, not
  // on the drawn rows: it picks the matching orders, then draws the first of them.
  const CHUNK = 30;
  // Each order is one array; C names its places (the document's orders.columns).
  const C = Object.fromEntries(data.orders.columns.map((c, i) => [c, i]));
  function row(a) {
    const o = { order: a[C.order], source: a[C.source], row: a[C.row], name: a[C.name],
      identity: a[C.identity], tags: a[C.tags], notes: a[C.notes], order_notes: a[C.order_notes],
      set: a[C.set], hold: a[C.hold], actions: a[C.actions], values: a[C.values] };
    const first = o.tags.map((n) => tags.get(n)).find((t) => t && t.background) ||
      (o.tags.length ? tags.get(o.tags[0]) : null);
    const tr = el("tr", { class: "order" + (o.tags.length ? " tagged" : ""),
      "data-tags": o.tags.join(" "), "data-order": o.order });
    if (first) tr.style.setProperty("--tag", first.background || "#000");
    const mark = first ? symbol(first) : "";
    const id = el("div", { class: "order-id", text: o.order, "data-mark": mark });
    if (mark) id.prepend(el("span", { class: "mark", text: mark }));
    tr.appendChild(el("td", {}, [id, parts("div", "where", o.source + " row\u00a0" + o.row, true)]));
    tr.appendChild(el("td", {}, [
      parts("div", "name", o.name, false),
      parts("div", "identity", o.identity, true),
    ]));
    tr.appendChild(el("td", { class: "tags" }, o.tags.filter((n) => tags.has(n)).map((n) => badge(tags.get(n)))));
    const needs = el("td", { class: "needs" });
    for (const n of o.notes) needs.appendChild(el("div", { class: "note", text: "Note: " + n }));
    for (const n of o.order_notes) needs.appendChild(el("div", { class: "order-note", text: n }));
    for (const [column, value] of o.set) {
      needs.appendChild(el("div", {}, [el("strong", { class: "action", text: column + ": " + value })]));
    }
    if (o.hold) needs.appendChild(el("div", {}, [el("strong", { class: "hold", text: "HOLD: " + o.hold })]));
    for (const a of o.actions || []) needs.appendChild(el("div", { class: "action-line", text: a }));
    tr.appendChild(needs);
    for (const v of o.values) tr.appendChild(parts("td", "value", v, false));
    return tr;
  }
  const rows = data.orders.rows.map((a) => ({ a, tr: null, tags: a[C.tags], text: null }));
  // What a search looks in: made once, just after the first rows are shown.
  const text = (r) => r.text ?? (r.text = [r.a[C.order], r.a[C.name], r.a[C.identity],
    r.a[C.profile], r.a[C.needs], ...r.a[C.values]].join(" ").toLowerCase());
  // The orders of each tag, in the document's order: made on the chip's first click.
  const byTag = new Map();
  const tagged = (name) => byTag.get(name) ||
    byTag.set(name, rows.filter((r) => r.tags.includes(name))).get(name);
  let matches = rows;
  let drawn = 0;
  function draw(upTo) {
    const end = Math.min(upTo, matches.length);
    if (end <= drawn) return;
    const part = document.createDocumentFragment();
    for (let i = drawn; i < end; i++) {
      const r = matches[i];
      if (!r.tr) r.tr = row(r.a);
      part.appendChild(r.tr);
    }
    body.appendChild(part);
    drawn = end;
  }
  // Near the end of the drawn rows (within a screen's height): draw the next chunk.
  const sentinel = document.getElementById("more");
  function more() {
    while (drawn < matches.length && sentinel.getBoundingClientRect().top < 2 * window.innerHeight) {
      draw(drawn + CHUNK);
    }
  }
  if ("IntersectionObserver" in window) {
    new IntersectionObserver((seen) => { if (seen.some((e) => e.isIntersecting)) more(); },
      { rootMargin: "0px 0px 100% 0px" }).observe(sentinel);
  }
  window.addEventListener("scroll", more, { passive: true });
  // On paper every matching order is printed, drawn or not yet.
  const everything = () => draw(matches.length);
  window.addEventListener("beforeprint", everything);
  if (window.matchMedia) {
    window.matchMedia("print").addEventListener("change", (m) => { if (m.matches) everything(); });
  }

  const search = document.getElementById("search");
  const shown = document.getElementById("shown");
  function apply() {
    const q = search.value.trim().toLowerCase();
    let pool = rows;
    if (active.size === 1) pool = tagged([...active][0]);
    else if (active.size) pool = rows.filter((r) => r.tags.some((t) => active.has(t)));
    matches = q ? pool.filter((r) => text(r).includes(q)) : pool;
    body.replaceChildren();
    drawn = 0;
    draw(CHUNK);
    more();
    shown.textContent = matches.length + " shown";
  }
  search.addEventListener("input", apply);
  apply();
  performance.mark("ordertags:rows");
  setTimeout(() => rows.forEach(text), 0);
})();
