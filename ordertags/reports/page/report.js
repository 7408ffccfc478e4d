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
  const rows = [];
  for (const o of data.orders) {
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
    for (const s of o.set) {
      needs.appendChild(el("div", {}, [el("strong", { class: "action", text: s.column + ": " + s.value })]));
    }
    if (o.hold) needs.appendChild(el("div", {}, [el("strong", { class: "hold", text: "HOLD: " + o.hold })]));
    for (const a of o.actions || []) needs.appendChild(el("div", { class: "action-line", text: a }));
    tr.appendChild(needs);
    for (const v of o.values) tr.appendChild(parts("td", "value", v, false));
    body.appendChild(tr);
    rows.push({ tr, tags: o.tags, text: [o.order, o.name, o.identity, o.profile, o.needs,
      ...o.values].join(" ").toLowerCase() });
  }

  const search = document.getElementById("search");
  const shown = document.getElementById("shown");
  function apply() {
    const q = search.value.trim().toLowerCase();
    let n = 0;
    for (const r of rows) {
      const ok = (!active.size || r.tags.some((t) => active.has(t))) && (!q || r.text.includes(q));
      r.tr.hidden = !ok;
      if (ok) n += 1;
    }
    shown.textContent = n + " shown";
  }
  search.addEventListener("input", apply);
  apply();
})();
