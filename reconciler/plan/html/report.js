/* The report page: draws the JSON in #report-data (see reconciler/plan/html_shell.py).
   Every live name is written with textContent, never as markup. Lists and tree levels are
   drawn a page at a time, and a change's detail only when it is opened, so 100,000 changes
   open as fast as ten. */
(function () {
  "use strict";
  var PAGE = 200;
  performance.mark("report-start");
  var data = JSON.parse(document.getElementById("report-data").textContent);
  performance.mark("report-parsed");
  var entries = data.entries;
  var cats = {};
  data.categories.forEach(function (c) { cats[c.key] = c; });
  var app = document.getElementById("app");
  var words = data.words;
  var listState = { indices: [], shown: 0 };

  /* Control characters, bidi overrides and zero-width characters are shown as ⟨U+XXXX⟩
     so that a name can neither hide text nor reorder what the reviewer reads. */
  var HIDDEN = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
  function vis(text) {
    return String(text).replace(HIDDEN, function (c) {
      var hex = c.charCodeAt(0).toString(16).toUpperCase();
      return "\u27e8U+" + "0000".slice(hex.length) + hex + "\u27e9";
    });
  }

  /* Pretty-printed JSON: its own line breaks stay; JSON already escapes control characters
     inside strings, and vis() shows what it does not (bidi, zero-width). */
  function pre(value) {
    var node = el("pre");
    node.textContent = value === undefined || value === null ? "(none)"
      : JSON.stringify(value, null, 2).split("\n").map(vis).join("\n");
    return node;
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = vis(text);
    return node;
  }

  function add(parent) {
    for (var i = 1; i < arguments.length; i++) if (arguments[i]) parent.appendChild(arguments[i]);
    return parent;
  }

  function link(index, text, cls) {
    var a = el("a", cls, text);
    a.href = "#c-" + index;
    return a;
  }

  /* Append rows a page at a time: a "Show more" button, also pressed by scrolling near it. */
  function paged(container, count, render, size) {
    var done = 0;
    var more = el("button", "more");
    more.type = "button";
    function step() {
      var end = Math.min(count, done + (size || PAGE));
      var frag = document.createDocumentFragment();
      for (; done < end; done++) frag.appendChild(render(done));
      container.appendChild(frag);
      if (done < count) {
        more.textContent = "Show more (" + (count - done).toLocaleString("en") + " left)";
        container.appendChild(more);
      } else if (more.parentNode) {
        more.parentNode.removeChild(more);
      }
    }
    more.addEventListener("click", step);
    step();
  }

  /* ---- header, verdict and summary bar ---- */

  function header() {
    var head = add(el("header", "head"), el("h1", null, data.title));
    head.appendChild(el("p", "verdict " + data.verdict.level, data.verdict.text));
    var about = add(el("details", "about"), el("summary", null, "About this " + data.report));
    var dl = el("dl");
    data.meta.forEach(function (row) { add(dl, el("dt", null, row[0]), el("dd", null, row[1])); });
    about.appendChild(dl);
    head.appendChild(about);
    return head;
  }

  function counts() {
    var out = {};
    data.categories.forEach(function (c) { out[c.key] = 0; });
    for (var i = 0; i < entries.length; i++) out[entries[i].c] += 1;
    return out;
  }

  function pill(c, n) {
    var b = el("button", "pill cat-" + c.key + (n ? "" : " zero"));
    b.type = "button";
    b.setAttribute("data-cat", c.key);
    add(b, el("span", "count", n.toLocaleString("en")), el("span", "label", c.label));
    b.addEventListener("click", function () {
      document.getElementById("filter-action").value = c.key;
      applyFilter();
      document.getElementById("changes").scrollIntoView();
    });
    return b;
  }

  function summaryBar() {
    var n = counts();
    var bar = el("section", "summary");
    bar.id = "summary";
    var danger = add(el("div", "zone danger"), el("h2", null, "Destructive"));
    var safe = add(el("div", "zone safe"), el("h2", null, words.other));
    data.categories.forEach(function (c) { (c.danger ? danger : safe).appendChild(pill(c, n[c.key])); });
    return add(bar, danger, safe);
  }

  /* ---- refusals, destructive changes, notes ---- */

  function refusals() {
    if (!data.refusals.length) return null;
    var sec = add(el("section", "refusals"), el("h2", null, "Refusals (" + data.refusals.length + ")"));
    sec.id = "refusals";
    data.refusals.forEach(function (r) {
      var box = add(el("div", "refusal"),
        el("p", "code", r.code + (r.withheld ? " \u2014 withheld: not in this plan" : " \u2014 in the plan, applies only with --force")),
        el("p", "message", r.message));
      if (r.todo) add(box, add(el("p", "todo"), el("strong", null, "What to do: "), document.createTextNode(r.todo)));
      if (r.addresses.length) {
        var ul = el("ul", "addresses");
        paged(ul, r.addresses.length, function (i) { return el("li", "address", r.addresses[i]); }, 20);
        box.appendChild(ul);
      }
      sec.appendChild(box);
    });
    return sec;
  }

  function destructive() {
    var picked = [];
    for (var i = 0; i < entries.length; i++) if (entries[i].d) picked.push(i);
    if (!picked.length) return null;
    var sec = add(el("section", "destructive"),
      el("h2", null, words.danger_title + " (" + picked.length.toLocaleString("en") + ")"),
      el("p", "hint", words.danger_hint));
    sec.id = "destructive";
    var ul = el("ul", "rows");
    paged(ul, picked.length, function (k) { return destructiveRow(picked[k]); });
    return add(sec, ul);
  }

  function destructiveRow(i) {
    var e = entries[i];
    var li = el("li", "row cat-" + e.c);
    add(li, el("span", "sym", cats[e.c].symbol), link(i, e.a, "address"));
    if (e.p) li.appendChild(el("span", "from", " (" + words.from + " " + e.p + ")"));
    if (e.s) li.appendChild(el("span", "source", e.s));
    if (e.r) li.appendChild(el("div", "reason", e.r));
    return li;
  }

  function notes() {
    var frag = document.createDocumentFragment();
    data.notes.forEach(function (note) {
      var sec = add(el("details", "note"), el("summary", null, note.title + " (" + note.lines.length.toLocaleString("en") + ")"));
      var ul = el("ul");
      paged(ul, note.lines.length, function (i) { return el("li", null, note.lines[i]); });
      frag.appendChild(add(sec, ul));
    });
    return frag;
  }

  /* ---- the tree ---- */

  function node(name) {
    return { name: name, kids: {}, order: [], own: [], access: [], item: {}, link: {}, total: 0, danger: 0 };
  }

  function buildTree() {
    var root = node("");
    for (var i = 0; i < entries.length; i++) {
      var e = entries[i], at = root, place = data.nodes[e.n], names = place[0], how = place[1];
      for (var k = 0; k < names.length; k++) {
        var name = names[k];
        if (!Object.prototype.hasOwnProperty.call(at.kids, name)) { at.kids[name] = node(name); at.order.push(name); }
        at = at.kids[name];
        at.total += 1;
        at.danger += e.d ? 1 : 0;
      }
      if (how === "self") at.own.push(i);
      else if (how === "access") at.access.push(i);
      else at[how][e.c] = (at[how][e.c] || 0) + 1;
    }
    return root;
  }

  function rollup(tally, noun) {
    var parts = [], total = 0;
    data.categories.forEach(function (c) {
      if (tally[c.key]) { total += tally[c.key]; parts.push({ c: c, n: tally[c.key] }); }
    });
    if (!total) return null;
    var span = el("span", "roll", total.toLocaleString("en") + " " + noun + (total === 1 ? "" : "s") + ": ");
    parts.forEach(function (p, k) {
      span.appendChild(el("span", p.c.danger ? "danger-text" : null, (k ? ", " : "") + p.n.toLocaleString("en") + " " + p.c.marker));
    });
    return span;
  }

  function markers(n, line) {
    n.own.forEach(function (i) {
      var e = entries[i];
      var text = cats[e.c].marker + (e.p ? " " + words.from + " " + e.p : "");
      line.appendChild(link(i, text, "mark cat-" + e.c));
    });
    if (n.access.length) {
      var danger = n.access.some(function (i) { return entries[i].d; });
      line.appendChild(link(n.access[0], "access changed (" + n.access.length + ")", "mark access" + (danger ? " cat-revoke" : "")));
    }
    add(line, rollup(n.item, "item"), rollup(n.link, "link"));
  }

  function treeNode(n, depth) {
    var li = el("li", "node" + (n.danger ? " has-danger" : ""));
    var line = add(el("span", "line"), el("span", "name", n.name));
    markers(n, line);
    var badge = el("span", "badge", n.total.toLocaleString("en") + " " + (n.total === 1 ? words.one : words.many));
    if (n.danger) badge.appendChild(el("span", "danger-text", ", " + n.danger.toLocaleString("en") + " destructive"));
    line.appendChild(badge);
    if (!n.order.length) return add(li, line);
    var box = add(el("details"), add(el("summary"), line));
    var drawn = false;
    function draw() {
      if (drawn || !box.open) return;
      drawn = true;
      box.appendChild(treeLevel(n, depth + 1));
    }
    box.addEventListener("toggle", draw);
    box.open = depth < 3;
    draw();
    return add(li, box);
  }

  function treeLevel(n, depth) {
    var ul = el("ul", "tree");
    paged(ul, n.order.length, function (k) { return treeNode(n.kids[n.order[k]], depth); });
    return ul;
  }

  function tree() {
    var sec = add(el("section", "tree-section"), el("h2", null, words.tree));
    sec.id = "tree";
    return add(sec, treeLevel(buildTree(), 0));
  }

  /* ---- one change in full ---- */

  function json(value) { return JSON.stringify(value); }

  function kindOf(e) { return e.a.slice(0, e.a.indexOf(":")); }

  function diffTable(rows) {
    var table = el("table", "diff");
    var head = add(el("tr"), el("th", null, "Field"), el("th", null, data.columns[0]), el("th", null, data.columns[1]));
    table.appendChild(add(el("thead"), head));
    var body = el("tbody");
    rows.forEach(function (r) {
      add(body, add(el("tr", "op-" + r[1]), el("td", "field", r[0]),
        el("td", "before", r[1] === "add" ? "(absent)" : json(r[2])),
        el("td", "after", r[1] === "remove" ? "(absent)" : json(r[3]))));
    });
    return add(table, body);
  }

  function detail(i) {
    var e = entries[i], box = el("div", "detail");
    if (e.r) box.appendChild(add(el("p", "reason"), el("strong", null, "Why: "), document.createTextNode(vis(e.r))));
    (e.w || []).forEach(function (w) { box.appendChild(el("p", "warning", w)); });
    add(box, el("p", "source", e.s ? "Declared at " + e.s : "Not declared in the configuration (the prune policy in reconciler.yaml)"));
    if (e.x) box.appendChild(el("p", "actions", "Apply will: " + e.x.join(", ")));
    (e.e || []).forEach(function (line) { box.appendChild(el("p", "extra", line)); });
    if (e.f) box.appendChild(diffTable(e.f));
    if (e.b || e.af) {
      var sides = el("div", "sides");
      add(sides, add(el("div"), el("h4", null, data.columns[0]), pre(e.b)),
        add(el("div"), el("h4", null, data.columns[1]), pre(e.af)));
      box.appendChild(sides);
    }
    return box;
  }

  function changeRow(i, id) {
    var e = entries[i];
    var li = el("li", "change cat-" + e.c + (e.d ? " danger" : ""));
    li.id = id;
    li.setAttribute("data-i", String(i));
    var head = add(el("summary"), el("span", "sym", cats[e.c].symbol), el("span", "kindtag cat-" + e.c, cats[e.c].marker),
      el("span", "address", e.a));
    if (e.p) head.appendChild(el("span", "from", words.from + " " + e.p));
    if (e.s) head.appendChild(el("span", "source", e.s));
    var self = link(i, "\u00b6 link", "permalink");
    self.title = "Link to this change";
    head.appendChild(self);
    var box = add(el("details"), head);
    box.addEventListener("toggle", function () {
      if (box.open && box.childNodes.length === 1) box.appendChild(detail(i));
    });
    return add(li, box);
  }

  /* ---- the filterable list ---- */

  /* The glob dialect of --only: "**" crosses "/", "*" and "?" stay in one segment, and
     "/a/**" also matches "/a" itself and what it owns ("/a#group"). */
  function globRegex(pattern) {
    var out = "", i = 0;
    while (i < pattern.length) {
      if (pattern.substr(i, 3) === "/**" && (i + 3 === pattern.length || pattern[i + 3] === "/")) { out += "(?:[/#].*)?"; i += 3; }
      else if (pattern.substr(i, 2) === "**") { out += ".*"; i += 2; }
      else if (pattern[i] === "*") { out += "[^/]*"; i += 1; }
      else if (pattern[i] === "?") { out += "[^/]"; i += 1; }
      else { out += pattern[i].replace(/[.*+?^${}()|[\]\\\/]/g, "\\$&"); i += 1; }
    }
    return new RegExp("^" + out + "$");
  }

  function matcher(text) {
    text = text.trim();
    if (!text) return function () { return true; };
    if (/[*?]/.test(text)) {
      var re = globRegex(text);
      return function (a) { return re.test(a) || re.test(a.slice(a.indexOf(":") + 1)); };
    }
    var low = text.toLowerCase();
    return function (a) { return a.toLowerCase().indexOf(low) >= 0; };
  }

  function select(id, label, options) {
    var s = el("select");
    s.id = id;
    s.setAttribute("aria-label", label);
    options.forEach(function (o) { var opt = el("option", null, o[1]); opt.value = o[0]; s.appendChild(opt); });
    s.addEventListener("change", applyFilter);
    return s;
  }

  function filterBar() {
    var form = el("div", "filters");
    var input = el("input");
    input.id = "filter-address";
    input.type = "search";
    input.placeholder = "Filter by address: text, or a glob like item:/curated/**";
    input.setAttribute("aria-label", "Filter by address");
    var timer = null;
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(applyFilter, 150); });
    var actions = [["", "All actions"]].concat(data.categories.map(function (c) { return [c.key, c.marker]; }));
    var kinds = [["", "All kinds"]].concat(data.kinds.map(function (k) { return [k, k]; }));
    var shown = el("span", "shown");
    shown.id = "shown";
    return add(form, input, select("filter-action", "Filter by action", actions), select("filter-kind", "Filter by kind", kinds), shown);
  }

  function applyFilter() {
    var match = matcher(document.getElementById("filter-address").value);
    var cat = document.getElementById("filter-action").value;
    var kind = document.getElementById("filter-kind").value;
    var picked = [];
    for (var i = 0; i < entries.length; i++) {
      var e = entries[i];
      if ((!cat || e.c === cat) && (!kind || kindOf(e) === kind) && match(e.a)) picked.push(i);
    }
    listState.indices = picked;
    var list = document.getElementById("change-list");
    list.textContent = "";
    document.getElementById("shown").textContent =
      "Showing " + picked.length.toLocaleString("en") + " of " + entries.length.toLocaleString("en");
    paged(list, picked.length, function (k) { return changeRow(picked[k], "c-" + picked[k]); });
  }

  function changes() {
    var sec = add(el("section", "changes"), el("h2", null, words.all), filterBar());
    sec.id = "changes";
    var pinned = el("div", "pinned");
    pinned.id = "linked";
    var list = el("ol", "change-list");
    list.id = "change-list";
    return add(sec, pinned, list);
  }

  /* A link to a change that the list has not drawn yet is shown pinned above the list. */
  function follow() {
    var m = /^#c-(\d+)$/.exec(location.hash);
    if (!m || +m[1] >= entries.length) return;
    var i = +m[1], row = document.getElementById("c-" + i);
    var pinned = document.getElementById("linked");
    pinned.textContent = "";
    if (!row) {
      pinned.appendChild(el("h3", null, "Linked change"));
      row = pinned.appendChild(add(el("ol", "change-list"), changeRow(i, "linked-" + i))).firstChild;
    }
    var box = row.querySelector("details");
    box.open = true;
    if (box.childNodes.length === 1) box.appendChild(detail(i));
    row.scrollIntoView();
  }

  /* Scrolling near a "Show more" button presses it. */
  function autoMore() {
    if (!("IntersectionObserver" in window)) return;
    var seen = new IntersectionObserver(function (hits) {
      hits.forEach(function (h) { if (h.isIntersecting && h.target.closest("#change-list")) h.target.click(); });
    }, { rootMargin: "600px" });
    new MutationObserver(function () {
      var more = document.querySelector("#change-list > button.more");
      if (more && !more.dataset.watched) { more.dataset.watched = "1"; seen.observe(more); }
    }).observe(document.getElementById("change-list"), { childList: true });
  }

  add(app, header(), summaryBar(), refusals(), destructive(), tree(), changes(), notes());
  autoMore();
  applyFilter();
  window.addEventListener("hashchange", follow);
  follow();
  var early = document.getElementById("first-paint");
  if (early) early.parentNode.removeChild(early);
  performance.mark("report-drawn");
  document.documentElement.setAttribute("data-ready", "1");
})();
