/* sqllineage-harvester's lineage view: tables as boxes with their columns, edges between
   columns, laid out by dagre (vendored) and drawn as SVG elements whose labels are text.
   Served (no embedded data): asks the local server for pieces. A file (data embedded in
   #lineage-data): reads only what it holds, and makes no request at all.
   Every name is put in with textContent: data is never markup. */
(function () {
  "use strict";
  var SVGNS = "http://www.w3.org/2000/svg";
  var ROW = 18, HEAD = 38, LABELS_UP_TO = 600;
  var embedded = document.getElementById("lineage-data");
  var STATIC = !!embedded;
  var S = {
    tables: new Map(), edges: new Map(), ops: {}, colTable: new Map(), colName: new Map(),
    root: null, collapsed: new Set(), indirect: true, namespace: "", depth: 2, direction: "both",
    asOf: "", impact: null, truncated: 0, left: { retired: 0, outside_window: 0 },
    view: { x: 0, y: 0, k: 1 }, layout: null
  };

  function $(id) { return document.getElementById(id); }
  function h(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function s(tag, attrs, text) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs) if (attrs[k] !== undefined) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }
  function when(t) { return t ? String(t).replace("T", " ").replace(/\.\d+Z$/, " UTC").replace(/Z$/, " UTC") : "-"; }
  function status(text) { $("status").textContent = text; }

  function api(path, params) {
    var q = new URLSearchParams();
    Object.keys(params).forEach(function (k) {
      if (params[k] !== null && params[k] !== undefined && params[k] !== "") q.set(k, params[k]);
    });
    return fetch("api/" + path + "?" + q.toString()).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body.error || r.statusText);
        return body;
      });
    });
  }
  function common() {
    return { direct_only: S.indirect ? "" : "1", as_of: S.asOf };
  }

  /* ---- data ---------------------------------------------------------------------------- */
  function reset() {
    S.tables.clear(); S.edges.clear(); S.colTable.clear(); S.colName.clear();
    S.ops = {}; S.impact = null; S.collapsed.clear(); S.truncated = 0;
    S.left = { retired: 0, outside_window: 0 };
  }
  function load(data) {
    (data.tables || []).forEach(function (t) {
      var old = S.tables.get(t.key);
      if (!old || (old.depth === null && t.depth !== null)) S.tables.set(t.key, t);
      t.columns.forEach(function (c) { S.colTable.set(c.key, t.key); S.colName.set(c.key, c.name); });
    });
    (data.edges || []).forEach(function (e) {
      S.edges.set([e.level, e.source, e.target, e.operation, e.type].join("\u0000"), e);
    });
    Object.keys(data.operations || {}).forEach(function (k) {
      if (!S.ops[k] || data.operations[k].sql !== undefined) S.ops[k] = data.operations[k];
    });
    S.truncated += data.truncated || 0;
    if (data.hidden) { S.left.retired += data.hidden.retired; S.left.outside_window += data.hidden.outside_window; }
  }
  function leftOut(hidden) {  // edges retirement or the as-of left out: hidden lineage is not no lineage
    var words = "";
    if (hidden && hidden.retired) {
      words += "; " + hidden.retired + " retired edges left out (not run within harvest --retire-after)";
    }
    if (hidden && hidden.outside_window) words += "; " + hidden.outside_window + " edges outside the as-of left out";
    return words;
  }
  var OPEN_UP_TO = 50;  // tables drawn with their columns; past that only the root's are open at first
  function collapseMany() {
    if (S.tables.size <= OPEN_UP_TO) return 0;
    S.tables.forEach(function (t) { if (t.key !== rootTable()) S.collapsed.add(t.key); });
    return S.collapsed.size;
  }
  function rootTable() {
    if (!S.root || !S.root.key) return null;
    return S.root.kind === "column" ? S.colTable.get(S.root.key) : S.root.key;
  }
  function endOfDay(day) { return day + "T23:59:59.999999Z"; }
  function edgeShown(e) {
    if (!S.indirect && e.indirect) return false;
    if (STATIC && S.asOf && e.first_seen && e.first_seen > endOfDay(S.asOf)) return false;
    return true;
  }
  function tableShown(t) {
    if (t.key === rootTable()) return true;
    if (S.namespace && t.namespace !== S.namespace) return false;
    if (STATIC && t.depth !== null && S.depth !== null && Math.abs(t.depth) > S.depth) return false;
    return true;
  }

  /* ---- layout -------------------------------------------------------------------------- */
  var measure = document.createElement("canvas").getContext("2d");
  var FONT = getComputedStyle(document.body).fontFamily;
  function textWidth(text, weight, px) {
    measure.font = weight + " " + px + "px " + FONT;
    return measure.measureText(text).width;
  }
  function sizeOf(t) {
    if (!t.width) {  // measured once: the widest of the name, the namespace line and the columns
      var w = Math.max(textWidth(t.name, 600, 12) + 40, textWidth(t.namespace || "", 400, 10) + 60);
      t.columns.forEach(function (c) { w = Math.max(w, textWidth(c.name, 400, 12) + 44); });
      t.width = Math.ceil(Math.min(520, Math.max(170, w)));
    }
    var rows = S.collapsed.has(t.key) ? 0 : t.columns.length;
    var hits = rows ? 0 : hitsOf(t).length;
    return { w: hits ? Math.max(t.width, textWidth(hitsLine(hitsOf(t)), 700, 10) + 20) : t.width,
             h: HEAD + rows * ROW + (rows ? 6 : hits ? 16 : 0) };
  }
  function hitsLine(hits) {
    return hits.length + (hits.length === 1 ? " column" : " columns") + " reached, nearest at " + Math.min.apply(null, hits);
  }
  function hitsOf(t) {  // the impact's distances to this table's columns
    if (!S.impact) return [];
    return t.columns.map(function (c) { return S.impact.get(c.key); }).filter(function (d) { return d > 0; });
  }
  function visible() {
    var tables = new Map();
    S.tables.forEach(function (t) { if (tableShown(t)) tables.set(t.key, t); });
    var edges = [], bundled = new Set();
    S.edges.forEach(function (e) {
      if (e.level !== "column" || !edgeShown(e)) return;
      var a = S.colTable.get(e.source), b = S.colTable.get(e.target);
      if (!tables.has(a) || !tables.has(b)) return;
      edges.push({ e: e, a: a, b: b });
      bundled.add(a + "\u0000" + b + "\u0000" + e.operation);
    });
    S.edges.forEach(function (e) {  // a table edge where no column edge says more
      if (e.level !== "table" || !edgeShown(e) || !tables.has(e.source) || !tables.has(e.target)) return;
      if (bundled.has(e.source + "\u0000" + e.target + "\u0000" + e.operation)) return;
      edges.push({ e: e, a: e.source, b: e.target });
    });
    if (STATIC && S.asOf) {  // as it stood then: a table no lineage touched yet is not drawn
      var touched = new Set([rootTable()]);
      edges.forEach(function (x) { touched.add(x.a); touched.add(x.b); });
      tables.forEach(function (t, k) { if (!touched.has(k)) tables.delete(k); });
    }
    return { tables: tables, edges: edges };
  }
  function layout(vis) {
    var g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: "LR", ranksep: 220, nodesep: 26, marginx: 30, marginy: 30 });
    g.setDefaultEdgeLabel(function () { return {}; });
    vis.tables.forEach(function (t) { var z = sizeOf(t); g.setNode(t.key, { width: z.w, height: z.h }); });
    vis.edges.forEach(function (x) { if (x.a !== x.b) g.setEdge(x.a, x.b); });
    dagre.layout(g);
    var pos = new Map();
    g.nodes().forEach(function (k) {
      var n = g.node(k);
      pos.set(k, { x: n.x - n.width / 2, y: n.y - n.height / 2, w: n.width, h: n.height });
    });
    return { pos: pos, width: g.graph().width || 0, height: g.graph().height || 0 };
  }

  /* ---- drawing ------------------------------------------------------------------------- */
  function anchor(pos, table, column, side) {
    var p = pos.get(table), t = S.tables.get(table);
    var y = p.y + 19;
    if (column && !S.collapsed.has(table)) {
      var i = t.columns.findIndex(function (c) { return c.key === column; });
      if (i >= 0) y = p.y + HEAD + i * ROW + ROW / 2;
    }
    return { x: side === "out" ? p.x + p.w : p.x, y: y };
  }
  function curve(a, b) {
    var dx = Math.max(40, Math.abs(b.x - a.x) / 2);
    return "M" + a.x + "," + a.y + " C" + (a.x + dx) + "," + a.y + " " + (b.x - dx) + "," + b.y + " " + b.x + "," + b.y;
  }
  function render() {
    var vis = visible();
    var lay = layout(vis);
    S.layout = lay;
    var edgesG = clear($("edges")), tablesG = clear($("tables")), labelsG = clear($("labels"));
    var labelled = new Set(), spots = new Map(), hidden = 0;
    S.edges.forEach(function (e) { if (!S.indirect && e.indirect) hidden++; });
    vis.edges.forEach(function (x) {
      var e = x.e, col = e.level === "column";
      var a = anchor(lay.pos, x.a, col ? e.source : null, "out"), b = anchor(lay.pos, x.b, col ? e.target : null, "in");
      var d = curve(a, b), cls = "edge " + (e.indirect ? "indirect" : "direct") + " " + e.level;
      var g = s("g", { "class": cls, "data-op": e.operation, "data-type": e.type, "data-source": e.source,
                       "data-target": e.target });
      var tip = fullName(e.source) + " \u2192 " + fullName(e.target) + "  " + e.type + (e.kind ? " (" + e.kind + ")" : "");
      g.appendChild(s("title", {}, tip));
      g.appendChild(s("path", { d: d, "class": "line" }));
      g.appendChild(s("path", { d: d, "class": "hit" }));
      pressable(g, "statement of " + tip, function () { showOperation(e.operation, e); });
      edgesG.appendChild(g);
      var group = [x.a, x.b, e.operation, e.type].join("\u0000"), pair = x.a + "\u0000" + x.b;
      if (!labelled.has(group) && labelled.size < LABELS_UP_TO) {
        labelled.add(group);  // one label a kind of edge between two tables, stacked where they meet
        if (!spots.has(pair)) spots.set(pair, { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 - 3, n: 0 });
        var spot = spots.get(pair);
        var label = s("text", { x: spot.x, y: spot.y + 12 * spot.n++, "class": "elabel " + (e.indirect ? "indirect" : "direct"),
                                "data-op": e.operation }, e.type + (e.kind ? " \u00b7 " + e.kind : ""));
        label.addEventListener("click", function (ev) { ev.stopPropagation(); showOperation(e.operation, e); });
        labelsG.appendChild(label);
      }
    });
    vis.tables.forEach(function (t) { tablesG.appendChild(drawTable(t, lay.pos.get(t.key))); });
    var words = vis.tables.size + " tables, " + vis.edges.length + " edges shown";
    if (hidden) words += "; " + hidden + " indirect edges hidden";
    if (S.truncated) words += "; " + S.truncated + " tables farther away left out (lower the depth)";
    words += leftOut(S.left);
    if (S.collapsed.size) words += "; columns hidden in " + S.collapsed.size + " tables (+ shows them)";
    status(words);
  }
  function nameOf(key) { var t = S.tables.get(key); return t ? t.name : key; }
  function fullName(key) {  // a column as table.column, a table by its name
    return S.colTable.has(key) ? nameOf(S.colTable.get(key)) + "." + S.colName.get(key) : nameOf(key);
  }
  function drawTable(t, p) {
    var collapsed = S.collapsed.has(t.key);
    var target = S.target && (S.colTable.get(S.target.key) || S.target.key) === t.key;
    var g = s("g", { "class": "table" + (t.key === rootTable() ? " root" : "") + (target ? " target" : ""), "data-key": t.key,
                     "data-name": t.name, transform: "translate(" + p.x + "," + p.y + ")" });
    g.appendChild(s("rect", { "class": "box", width: p.w, height: p.h, rx: 5 }));
    g.appendChild(s("rect", { "class": "head", width: p.w, height: HEAD - 4, rx: 5 }));
    g.appendChild(s("text", { "class": "tname", x: 9, y: 16 }, t.name));
    g.appendChild(s("text", { "class": "tns", x: 9, y: 30 },
                    (t.namespace || "") + (t.type && t.type !== "table" ? " \u00b7 " + t.type : "")));
    var what = (collapsed ? "show the columns of " : "hide the columns of ") + t.name;
    pressable(button(g, p.w - 16, 16, collapsed ? "+" : "\u2212", what, "collapse"), what, function () {
      if (S.collapsed.has(t.key)) S.collapsed.delete(t.key); else S.collapsed.add(t.key);
      render();
    });
    if (!STATIC) {
      var up = "load what " + t.name + " is made from", down = "load what is made from " + t.name;
      pressable(button(g, -11, 17, "\u25c0", up, "expand up"), up, function () { expand(t.key, "upstream"); });
      pressable(button(g, p.w + 11, 17, "\u25b6", down, "expand down"), down,
                function () { expand(t.key, "downstream"); });
    }
    if (!collapsed) t.columns.forEach(function (c, i) { g.appendChild(drawColumn(c, i, p.w)); });
    else if (hitsOf(t).length) {  // what the impact reaches in a table whose columns are hidden
      var hits = hitsOf(t);
      g.setAttribute("class", g.getAttribute("class") + " hit");
      g.appendChild(s("text", { "class": "thits", x: 9, y: HEAD + 8 }, hitsLine(hits)));
    }
    return g;
  }
  function pressable(e, label, act) {  // a click, or Enter / Space when focused with the keyboard
    e.setAttribute("tabindex", "0");
    e.setAttribute("role", "button");
    e.setAttribute("aria-label", label);
    e.addEventListener("click", function (ev) { ev.stopPropagation(); act(); });
    e.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); act(); }
    });
    return e;
  }
  function button(g, x, y, glyph, title, cls) {
    var b = s("g", { "class": "btn " + cls, transform: "translate(" + x + "," + y + ")" });
    b.appendChild(s("title", {}, title));
    b.appendChild(s("circle", { r: 8 }));
    b.appendChild(s("text", { y: 4 }, glyph));
    g.appendChild(b);
    return b;
  }
  function drawColumn(c, i, w) {
    var y = HEAD + i * ROW, dist = S.impact ? S.impact.get(c.key) : undefined;
    var cls = "column";
    if (S.root && S.root.key === c.key) cls += " root";
    if (dist !== undefined) cls += dist === 0 ? " source" : " hit";
    if (S.reached && S.reached.has(c.key)) cls += " answer";
    var g = s("g", { "class": cls, "data-key": c.key, "data-name": c.name, transform: "translate(0," + y + ")" });
    g.appendChild(s("rect", { width: w, height: ROW }));
    g.appendChild(s("text", { x: 12, y: 13 }, c.name));
    if (dist !== undefined && dist > 0) g.appendChild(s("text", { "class": "dist", x: w - 8, y: 13 }, dist));
    pressable(g, "impact of " + c.name, function () { showImpact(c.key); });
    return g;
  }

  /* ---- pan and zoom -------------------------------------------------------------------- */
  function apply() {
    $("viewport").setAttribute("transform", "translate(" + S.view.x + "," + S.view.y + ") scale(" + S.view.k + ")");
  }
  function fit() {
    var box = $("canvas").getBoundingClientRect(), lay = S.layout;
    if (!lay || !lay.width) return;
    var k = Math.min(1, box.width / lay.width, box.height / lay.height);
    if (k < 0.45 && rootTable() && lay.pos.has(rootTable())) {  // too small to read: the root, readable
      S.view.k = 0.75;
      return focus(rootTable());
    }
    S.view = { k: k, x: Math.max(0, (box.width - lay.width * k) / 2), y: Math.max(0, (box.height - lay.height * k) / 2) };
    apply();
  }
  function focus(tableKey) {
    var p = S.layout && S.layout.pos.get(tableKey), box = $("canvas").getBoundingClientRect();
    if (!p) return;
    S.view.k = Math.max(S.view.k, 0.75);
    S.view.x = Math.min(box.width / 2 - (p.x + p.w / 2) * S.view.k, 40);
    S.view.y = box.height / 3 - p.y * S.view.k;
    apply();
  }
  function panZoom() {
    var svg = $("canvas"), drag = null;
    svg.addEventListener("wheel", function (ev) {
      ev.preventDefault();
      var r = svg.getBoundingClientRect(), mx = ev.clientX - r.left, my = ev.clientY - r.top;
      var k = Math.min(3, Math.max(0.1, S.view.k * (ev.deltaY < 0 ? 1.15 : 1 / 1.15)));
      S.view.x = mx - (mx - S.view.x) * k / S.view.k;
      S.view.y = my - (my - S.view.y) * k / S.view.k;
      S.view.k = k;
      apply();
    }, { passive: false });
    svg.addEventListener("mousedown", function (ev) { drag = { x: ev.clientX - S.view.x, y: ev.clientY - S.view.y }; });
    window.addEventListener("mousemove", function (ev) {
      if (!drag) return;
      S.view.x = ev.clientX - drag.x; S.view.y = ev.clientY - drag.y; apply();
    });
    window.addEventListener("mouseup", function () { drag = null; });
  }

  /* ---- panels -------------------------------------------------------------------------- */
  function panel(title) {
    var p = clear($("details"));
    p.appendChild(h("h2", null, title));
    return p;
  }
  function fact(dl, term, value) { dl.appendChild(h("dt", null, term)); dl.appendChild(h("dd", null, value)); }
  function showOperation(id, edge) {
    var got = STATIC ? Promise.resolve(S.ops[id]) : api("operation", { id: id });
    got.then(function (op) {
      if (!op) throw new Error("no details of operation " + id);
      var p = panel("Operation: " + op.type);
      p.setAttribute("data-op", op.id);
      var dl = h("dl", "facts");
      if (edge) fact(dl, "edge", fullName(edge.source) + " \u2192 " + fullName(edge.target) + " (" + edge.type
                     + (edge.indirect ? ", indirect" : "") + ")");
      fact(dl, "kind", op.type);
      fact(dl, "executions", op.executions);
      fact(dl, "first seen", when(op.first_seen) + (op.time_basis === "harvest" ? " (harvest time)" : ""));
      fact(dl, "last seen", when(op.last_seen));
      fact(dl, "namespace", op.namespace || "-");
      fact(dl, "id", op.id);
      p.appendChild(dl);
      p.appendChild(h("h3", null, "Users"));
      var users = h("table", "users");
      var head = h("tr"); head.appendChild(h("th", null, "user")); head.appendChild(h("th", null, "runs"));
      users.appendChild(head);
      (op.users || []).forEach(function (u) {
        var tr = h("tr"); tr.appendChild(h("td", null, u.name)); tr.appendChild(h("td", "num", u.executions)); users.appendChild(tr);
      });
      p.appendChild(users);
      if ((op.systems || []).length) {
        p.appendChild(h("p", "systems", "ran on: " + op.systems.map(function (x) { return x.name + " \u00d7" + x.executions; }).join(", ")));
      }
      p.appendChild(h("p", "io", "reads: " + (op.inputs || []).map(function (i) {
        return i.name + (i.type !== "DIRECT" ? " (" + i.type + ")" : "");
      }).join(", ")));
      p.appendChild(h("p", "io", "writes: " + (op.outputs || []).join(", ")));
      p.appendChild(h("h3", null, "SQL (literals redacted)"));
      p.appendChild(h("pre", "sql", op.sql || "(not stored: harvested with --no-sql-text)"));
      document.querySelectorAll("#edges .edge.selected").forEach(function (x) { x.classList.remove("selected"); });
      document.querySelectorAll('#edges .edge[data-op="' + CSS.escape(id) + '"]').forEach(function (x) { x.classList.add("selected"); });
    }).catch(function (err) { status(err.message); });
  }
  function localImpact(key) {
    var dist = new Map([[key, 0]]), frontier = [key], out = new Map();
    S.edges.forEach(function (e) {
      if (e.level !== "column" || !edgeShown(e)) return;
      if (!out.has(e.source)) out.set(e.source, []);
      out.get(e.source).push(e.target);
    });
    while (frontier.length) {
      var next = [];
      frontier.forEach(function (k) {
        (out.get(k) || []).forEach(function (t) { if (!dist.has(t)) { dist.set(t, dist.get(k) + 1); next.push(t); } });
      });
      frontier = next;
    }
    var nodes = [];
    dist.forEach(function (d, k) {
      if (d > 0) nodes.push({ key: k, name: fullName(k), distance: d, table: S.colTable.get(k) });
    });
    nodes.sort(function (a, b) { return a.distance - b.distance || (a.name < b.name ? -1 : 1); });
    return Promise.resolve({ total: nodes.length, nodes: nodes });
  }
  function showImpact(key) {
    var got = STATIC ? localImpact(key) : api("impact", Object.assign({ key: key }, common()));
    got.then(function (res) {
      S.impact = new Map([[key, 0]]);
      res.nodes.forEach(function (n) { S.impact.set(n.key, n.distance); });
      var missing = res.nodes.filter(function (n) { return n.table && !S.tables.has(n.table); }).length;
      render();
      var title = fullName(key);
      var p = panel("Impact of " + title);
      p.setAttribute("data-impact", key);
      p.appendChild(h("p", null, res.total + " columns downstream, each with its distance"
        + (missing ? "; " + missing + " of them in tables not drawn (expand to see them)" : "")
        + (res.total > res.nodes.length ? "; the nearest " + res.nodes.length + " listed" : "")
        + leftOut(res.hidden)));
      var list = h("ol", "impact");
      res.nodes.forEach(function (n) {
        var li = h("li"); li.setAttribute("data-key", n.key);
        li.appendChild(h("span", "dist", n.distance)); li.appendChild(h("span", "name", n.name));
        if (n.table && S.tables.has(n.table)) li.addEventListener("click", function () { focus(n.table); });
        list.appendChild(li);
      });
      p.appendChild(list);
      var btn = h("button", null, "clear impact");
      btn.addEventListener("click", function () { S.impact = null; render(); panel("Details"); });
      p.appendChild(btn);
    }).catch(function (err) { status(err.message); });
  }

  /* ---- served: search, open, expand ---------------------------------------------------- */
  function search(text) {
    var box = clear($("results"));
    if (!text.trim()) return;
    var got = STATIC ? Promise.resolve(localSearch(text)) : api("search", { q: text, namespace: S.namespace });
    got.then(function (res) {
      clear(box);
      if (res.note) status(res.note);  // a shard's name: its family is found, and said so
      if (!res.results.length) box.appendChild(h("li", "none", "nothing matches"));
      res.results.forEach(function (n) {
        var li = h("li", "result " + n.kind);
        li.setAttribute("data-key", n.key);
        li.appendChild(h("span", "name", n.name));
        li.appendChild(h("span", "meta", n.kind + " \u00b7 " + n.namespace));
        li.addEventListener("click", function () { STATIC ? focus(n.table || n.key) : open(n.key); });
        box.appendChild(li);
      });
      if (res.truncated) box.appendChild(h("li", "none more", res.truncated + " more\u2026 (type more of the name)"));
    }).catch(function (err) { status(err.message); });
  }
  function matcher(text) {  // contains, any case, * a wildcard: as the server searches
    var parts = text.trim().toLowerCase().split("*");
    return function (name) {
      var at = 0, low = name.toLowerCase();
      return parts.every(function (p) { var i = low.indexOf(p, at); if (i < 0) return false; at = i + p.length; return true; });
    };
  }
  function columnMatcher(text) {  // as the server's column_rule: table.column matches, the match ending in the column
    var parts = text.trim().toLowerCase().split("*").filter(Boolean);
    return function (table, column) {
      var low = (table + "." + column).toLowerCase(), at = 0, last = parts[parts.length - 1];
      if (!parts.length) return true;
      for (var i = 0; i < parts.length - 1; i++) {
        var j = low.indexOf(parts[i], at);
        if (j < 0) return false;
        at = j + parts[i].length;
      }
      var k = low.lastIndexOf(last);
      return k >= at && k + last.length > table.length + 1;
    };
  }
  function localSearch(text) {
    var out = [], hit = matcher(text), col = columnMatcher(text);
    S.tables.forEach(function (t) {
      if (S.namespace && t.namespace !== S.namespace) return;
      if (hit(t.name)) out.push({ key: t.key, name: t.name, kind: "dataset", namespace: t.namespace });
      t.columns.forEach(function (c) {
        if (col(t.name, c.name)) out.push({ key: c.key, name: t.name + "." + c.name, kind: "column", namespace: t.namespace, table: t.key });
      });
    });
    return { results: out.slice(0, 100), truncated: Math.max(0, out.length - 100) };
  }
  function open(key) {
    status("loading\u2026");
    var t0 = performance.now();
    api("graph", Object.assign({ key: key, direction: S.direction, depth: S.depth === null ? "all" : S.depth },
                                common())).then(function (data) {
      var t1 = performance.now();
      reset();
      S.root = data.root;
      S.reached = data.reached ? new Map(Object.entries(data.reached)) : null;
      load(data);
      collapseMany();
      history.replaceState(null, "", "#" + new URLSearchParams({ key: key, direction: S.direction,
                                                                  depth: S.depth === null ? "" : S.depth }).toString());
      render(); fit();
      document.body.setAttribute("data-opened", key);
      document.body.setAttribute("data-open-ms", Math.round(performance.now() - t0));  // asked, laid out, drawn
      document.body.setAttribute("data-draw-ms", Math.round(performance.now() - t1));  // laid out, drawn
      panel("Details").appendChild(h("p", null, "Click a column for its impact, an edge for its statement."));
    }).catch(function (err) { status(err.message); });
  }
  function expand(key, direction) {
    api("expand", Object.assign({ key: key, direction: direction }, common())).then(function (data) {
      var before = S.tables.size;
      load(data);
      render();
      status($("status").textContent + " (" + (S.tables.size - before) + " tables added " + direction + " of " + nameOf(key) + ")");
    }).catch(function (err) { status(err.message); });
  }

  /* ---- controls ------------------------------------------------------------------------ */
  function namespaces(list) {
    var sel = $("namespace");
    list.forEach(function (n) { var o = h("option", null, n); o.value = n; sel.appendChild(o); });
  }
  function controls() {
    var timer = null;
    $("search").addEventListener("input", function (ev) {
      clearTimeout(timer);
      timer = setTimeout(function () { search(ev.target.value); }, 150);
    });
    $("indirect").addEventListener("change", function (ev) {
      S.indirect = ev.target.checked;
      if (S.impact && S.impact.size) showImpact(Array.from(S.impact.keys())[0]); else render();
    });
    $("namespace").addEventListener("change", function (ev) {
      S.namespace = ev.target.value;
      render(); fit();
      if ($("search").value.trim()) search($("search").value);
    });
    $("depth").addEventListener("change", function (ev) {
      S.depth = ev.target.value === "" ? null : Math.max(0, parseInt(ev.target.value, 10));
      STATIC ? (render(), fit()) : reopen();
    });
    $("direction").addEventListener("change", function (ev) { S.direction = ev.target.value; reopen(); });
    $("asof").addEventListener("change", function (ev) { S.asOf = ev.target.value; STATIC ? render() : reopen(); });
    $("fit").addEventListener("click", fit);
    $("canvas").addEventListener("click", function () {
      document.querySelectorAll("#edges .edge.selected").forEach(function (x) { x.classList.remove("selected"); });
    });
  }
  function reopen() { if (S.root && S.root.key) open(S.root.key); }

  function start() {
    controls(); panZoom();
    if (STATIC) {
      var data = JSON.parse(embedded.textContent);
      document.body.classList.add("static");
      S.root = data.root;
      S.target = data.answer && data.answer.target;  // a path's end
      S.reached = data.reached ? new Map(Object.entries(data.reached)) : null;
      load(data);
      if (data.answer && data.answer.direction === "export") collapseMany();  // an answer opens with every column
      var far = 0;
      S.tables.forEach(function (t) { if (t.depth !== null) far = Math.max(far, Math.abs(t.depth)); });
      S.depth = data.answer && data.answer.direction === "export" ? null : far;
      $("depth").value = S.depth === null ? "" : S.depth;
      var seen = new Set();
      S.tables.forEach(function (t) { seen.add(t.namespace); });
      namespaces(Array.from(seen).sort());
      render(); fit();
      panel(document.title).appendChild(h("p", null, "Click a column for its impact, an edge for its statement."));
      return;
    }
    var asked = new URLSearchParams(location.hash.slice(1));  // #key=..&direction=..&depth=.. (empty: all)
    if (asked.has("direction")) S.direction = asked.get("direction");
    if (asked.has("depth")) S.depth = asked.get("depth") === "" ? null : parseInt(asked.get("depth"), 10);
    $("direction").value = S.direction;
    $("depth").value = S.depth === null ? "" : S.depth;
    if (asked.get("key")) open(asked.get("key")); else status("Search for a table or column to begin.");
    api("namespaces", {}).then(function (res) { namespaces(res.namespaces); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
