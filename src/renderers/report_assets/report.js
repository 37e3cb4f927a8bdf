/* gsmapper report: draws the embedded data (docs/report.md, "Embedded data") with no library and
 * no network. The flame graph is absolutely positioned divs (one per node wider than half a
 * pixel), so every node is in the DOM for the tests and for find-in-page. */
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('gsm-data').textContent);
  var $ = function (id) { return document.getElementById(id); };
  var METRICS = ['RSS', 'PSS', 'Swap', 'USS'];
  var KIND = { g: 'cgroup', p: 'process', c: 'class', m: 'mapping', f: 'Go frame', k: 'cgroup memory', o: 'folded by the size cap', i: 'all' };
  var CLASS_HUE = {
    'go-heap': '#3aa58b', 'go-runtime': '#7fc4a8', 'thread-stack': '#e2a23b', 'main-stack': '#f0c05a',
    'native-heap': '#e0694f', 'anon-other': '#d9896e', 'binary': '#6f8fd6', 'shared-lib': '#93aee8',
    'file-mapped': '#a9b7cf', 'shmem': '#b08ad8', 'special': '#c9c9c9', 'hugetlb': '#c46fb0', 'swap': '#8a8f99',
    'kernel': '#9b7bc4', 'page-cache': '#cdbf7a', 'unclassified': '#bbbbbb'
  };
  var ROW = 18;
  var state = { metric: 0, inverted: false, width: 1, focus: null, history: [], re: null };
  var diff = !!D.diff;

  /* ---- formatting ---- */
  function fmt(b) {
    if (b === null || b === undefined) return 'n/a';
    var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], v = Math.abs(b), i = 0;
    while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
    return (b < 0 ? '-' : '') + (i ? v.toFixed(v < 10 ? 2 : 1) : String(v)) + ' ' + u[i];
  }
  function pct(a, b) { return b > 0 ? (100 * a / b).toFixed(a / b < 0.001 ? 3 : 1) + '%' : '-'; }
  function signed(b) { return (b > 0 ? '+' : '') + fmt(b); }
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]; });
  }
  function figure(key, v) {
    if (typeof v === 'number' && /_bytes$/.test(key)) return fmt(v) + ' (' + v.toLocaleString('en') + ' B)';
    if (typeof v === 'number') return v.toLocaleString('en');
    if (v === null) return 'null';
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  function hash(s) { var h = 2166136261; for (var i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); } return h >>> 0; }
  function shade(hex, k) {   /* k in [-1, 1]: darker .. lighter */
    var n = parseInt(hex.slice(1), 16), r = n >> 16, g = (n >> 8) & 255, b = n & 255;
    var t = k < 0 ? 0 : 255, a = Math.abs(k);
    return 'rgb(' + Math.round(r + (t - r) * a) + ',' + Math.round(g + (t - g) * a) + ',' + Math.round(b + (t - b) * a) + ')';
  }
  function btn(label, on) { var b = document.createElement('button'); b.type = 'button'; b.textContent = label; b.addEventListener('click', on); return b; }
  function pressGroup(group, idx) { Array.prototype.forEach.call(group.children, function (b, i) { b.setAttribute('aria-pressed', i === idx ? 'true' : 'false'); }); }

  /* ---- the tree ---- */
  var nodes = [];
  function prepare(n, parent, cls) {
    n.id = nodes.length; nodes.push(n); n.parent = parent;
    n.depth = parent ? parent.depth + 1 : 0;
    if (n.k === 'c') cls = n.n;
    else if (n.k === 'k' && n.depth === 1) cls = /^page cache/.test(n.n) ? 'page-cache' : 'kernel';
    n.cls = cls;
    n.c = n.c || [];
    for (var i = 0; i < n.c.length; i++) prepare(n.c[i], n, cls);
  }
  prepare(D.tree, null, null);
  var mainRoot = D.tree, invRoot = null, root = mainRoot;

  /* callers-up: every leaf's path reversed, merged by name from the leaves. */
  function buildInverted() {
    var top = { n: 'all', k: 'i', v: mainRoot.v.slice(), b: mainRoot.b ? mainRoot.b.slice() : null, c: [], depth: 0, parent: null, id: -1 };
    var index = [];
    function add(leaf) {
      var cur = top, p = leaf, depth = 0;
      while (p && p !== mainRoot) {
        var key = p.k + '\u0000' + p.n, next = null;
        cur.map = cur.map || {};
        next = cur.map[key];
        if (!next) {
          next = { n: p.n, k: p.k, v: [0, 0, 0, 0, 0], b: leaf.b ? [0, 0, 0, 0, 0] : null, c: [], i: p.i, cls: p.cls, parent: cur, depth: ++depth };
          cur.map[key] = next; cur.c.push(next); index.push(next);
        } else depth++;
        for (var m = 0; m < 5; m++) { next.v[m] += leaf.v[m]; if (leaf.b) next.b[m] += leaf.b[m]; }
        cur = next; p = p.parent;
      }
    }
    nodes.forEach(function (n) { if (!n.c.length && n !== mainRoot) add(n); });
    index.forEach(function (n, i) { n.id = 'i' + i; delete n.map; });
    top.all = index;
    return top;
  }
  function val(n) { return (diff && state.width === 0 ? n.b : n.v)[state.metric]; }
  function byId(id) {
    if (typeof id === 'string' && id.charAt(0) === 'i') return invRoot.all[+id.slice(1)];
    return +id === -1 ? invRoot : nodes[+id];
  }
  function pathOf(n) { var p = []; for (; n; n = n.parent) p.unshift(n); return p; }

  /* ---- colours ---- */
  function colour(n) {
    if (diff) {
      var m = state.metric, a = n.b[m], b = n.v[m], d = b - a;
      var r = d === 0 ? 0 : d / Math.max(a, b, 1);
      if (d > 0) return shade('#d23c2a', 0.85 - 0.85 * Math.min(1, Math.sqrt(r)));
      if (d < 0) return shade('#2f6fd0', 0.85 - 0.85 * Math.min(1, Math.sqrt(-r)));
      return '#e6e8ec';
    }
    if (n.k === 'g' || n.k === 'i') return '#c7d3e6';
    if (n.k === 'p') return '#d9e2f0';
    if (n.k === 'o') return '#dddddd';
    var base = CLASS_HUE[n.cls] || '#bbbbbb';
    if (n.k === 'c' || (n.k === 'k' && n.c.length)) return base;
    return shade(base, ((hash(n.n) % 1000) / 1000) * 0.55);
  }

  /* ---- flame graph ---- */
  var flame = $('flame');
  function render() {
    var focus = state.focus || root, W = flame.clientWidth || 1000, out = [], maxDepth = 0;
    var anc = pathOf(focus), base = anc.length - 1, total = val(focus);
    for (var i = 0; i < base; i++) out.push(['anc', anc[i], 0, W, i]);
    (function lay(n, x, w, row) {
      out.push([n === focus ? 'focus' : '', n, x, w, row]);
      if (row > maxDepth) maxDepth = row;
      var kids = n.c.slice().sort(function (a, b) { return val(b) - val(a); }), s = val(n), cx = x;
      if (s <= 0) return;
      for (var k = 0; k < kids.length; k++) {
        var cw = w * val(kids[k]) / s;
        if (cw >= 0.5) lay(kids[k], cx, cw, row + 1);
        cx += cw;
      }
    })(focus, 0, total > 0 ? W : W, base);
    var html = [];
    for (var j = 0; j < out.length; j++) {
      var o = out[j], n = o[1], cl = 'node' + (o[0] === 'anc' ? ' anc' : '') + (state.re && state.re.test(n.n) ? ' match' : '');
      if (diff) { var d = n.v[state.metric] - n.b[state.metric]; if (d > 0) cl += ' grew'; else if (d < 0) cl += ' shrank'; }
      html.push('<div class="' + cl + '" data-id="' + n.id + '" data-kind="' + n.k + '" data-value="' + val(n) + '" data-name="' + esc(n.n) +
        '" style="left:' + o[2].toFixed(2) + 'px;top:' + (o[4] * ROW) + 'px;width:' + Math.max(o[3], 1).toFixed(2) +
        'px;background:' + colour(n) + '">' + (o[3] > 24 ? esc(n.n) : '') + '</div>');
    }
    if (mainRoot.v[state.metric] === 0 && !diff && !state.inverted)
      html.push('<div class="empty-note">' + esc(METRICS[state.metric]) + ' is 0 in this snapshot' +
        (D.heat ? ': explain ran after the target\'s memory was gone (the samples below were taken before)' : '') + '.</div>');
    flame.innerHTML = html.join('');
    flame.style.height = ((maxDepth + 1) * ROW + 2) + 'px';
    flame.dataset.focus = String(focus.id);
    flame.dataset.total = String(total);
    $('zoom-back').disabled = state.history.length === 0;
    $('zoom-reset').disabled = !state.focus || state.focus === root;
    var cr = $('crumbs'); cr.innerHTML = '';
    anc.forEach(function (n, i) {
      if (i) cr.appendChild(document.createTextNode(' \u203a '));
      var a = document.createElement(i === anc.length - 1 ? 'b' : 'a');
      a.textContent = n.n + ' (' + fmt(val(n)) + ')';
      if (i !== anc.length - 1) a.addEventListener('click', function () { zoom(n); });
      cr.appendChild(a);
    });
    searchStatus();
    if (diff) changes();
  }
  /* diff: the leaves that changed most in the figure shown, largest change first */
  function changes() {
    var m = state.metric, list = nodes.filter(function (n) {   /* the leaves of the tree as read */
      return !n.c.length && n.v[m] !== n.b[m];
    });
    list.sort(function (a, b) { return Math.abs(b.v[m] - b.b[m]) - Math.abs(a.v[m] - a.b[m]); });
    var rows = ['<tr><th>' + METRICS[m] + ' change</th><th>before</th><th>after</th><th>where</th></tr>'];
    list.slice(0, 15).forEach(function (n) {
      var d = n.v[m] - n.b[m], where = pathOf(n).slice(1).map(function (p) { return p.n; }).join(' \u203a ');
      rows.push('<tr data-id="' + n.id + '"><td class="num ' + (d > 0 ? 'up' : 'down') + '">' + signed(d) + '</td><td class="num">' +
        fmt(n.b[m]) + '</td><td class="num">' + fmt(n.v[m]) + '</td><td><a>' + esc(where) + '</a></td></tr>');
    });
    var t = $('changes'); t.hidden = false;
    t.innerHTML = list.length ? rows.join('') : '<tr><td class="empty">nothing changed in ' + METRICS[m] + '</td></tr>';
  }
  $('changes').addEventListener('click', function (e) {
    var tr = e.target.closest('tr[data-id]'); if (!tr) return;
    if (state.inverted) $('invert').click();
    var n = byId(tr.dataset.id); zoom(n.parent || n);
    $('flame-sec').scrollIntoView();
  });
  function zoom(n) {
    if (n === (state.focus || root)) return;
    state.history.push(state.focus || root);
    state.focus = n; hideTip(); render();
  }
  flame.addEventListener('click', function (e) {
    var t = e.target.closest('.node'); if (!t) return;
    zoom(byId(t.dataset.id));
  });
  $('zoom-back').addEventListener('click', function () {
    if (!state.history.length) return;
    state.focus = state.history.pop(); render();
  });
  $('zoom-reset').addEventListener('click', function () { state.history = []; state.focus = null; render(); });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && document.activeElement !== $('search')) $('zoom-reset').click();
  });

  /* ---- tooltip ---- */
  var tip = $('tip');
  function showTip(e, html) {
    tip.innerHTML = html; tip.hidden = false;
    var x = e.clientX + 14, y = e.clientY + 14, r = tip.getBoundingClientRect();
    if (x + r.width > window.innerWidth - 4) x = Math.max(4, e.clientX - r.width - 14);
    if (y + r.height > window.innerHeight - 4) y = Math.max(4, e.clientY - r.height - 14);
    tip.style.left = x + 'px'; tip.style.top = y + 'px';
  }
  function hideTip() { tip.hidden = true; }
  function nodeTip(n) {
    var focus = state.focus || root, parent = n.parent, h = ['<div class="name">' + esc(n.n) + '</div>'];
    h.push('<div>' + esc(KIND[n.k] || n.k) + (n.cls && n.k !== 'c' ? ' · ' + esc(n.cls) : '') + '</div><table>');
    if (diff) h.push('<tr><td></td><td class="num">before</td><td class="num">after</td><td class="num">delta</td></tr>');
    for (var m = 0; m < 4; m++) {
      if (m === 3 && !D.have_uss) { h.push('<tr><td>USS</td><td colspan="3">not in the input</td></tr>'); continue; }
      if (diff) {
        var d = n.v[m] - n.b[m];
        h.push('<tr><td>' + METRICS[m] + '</td><td class="num">' + fmt(n.b[m]) + '</td><td class="num">' + fmt(n.v[m]) +
          '</td><td class="num ' + (d > 0 ? 'up' : d < 0 ? 'down' : '') + '">' + signed(d) +
          (n.b[m] ? ' (' + (d > 0 ? '+' : '') + pct(d, n.b[m]) + ')' : '') + '</td></tr>');
      } else {
        h.push('<tr><td>' + METRICS[m] + '</td><td class="num">' + fmt(n.v[m]) + '</td><td class="num">' + pct(n.v[m], root.v[m]) +
          ' of all</td><td class="num">' + (parent ? pct(n.v[m], parent.v[m]) + ' of parent' : '') + '</td></tr>');
      }
    }
    h.push('</table>');
    var share = val(focus) ? pct(val(n), val(focus)) : '-';
    var what = D.have_mappings ? (n.k === 'f' || n.k === 'k' ? '' : ' mapping') : n.k === 'g' || n.k === 'o' ? ' process' : '';
    h.push('<div>' + share + ' of the ' + METRICS[state.metric] + ' in view' +
      (n.v[4] && what ? '; ' + n.v[4].toLocaleString('en') + what + (n.v[4] > 1 ? 's' : '') : '') + '</div>');
    if (n.i) {
      h.push('<table>');
      Object.keys(n.i).forEach(function (k) { if (k === 'class') return; h.push('<tr><td>' + esc(k) + '</td><td>' + esc(figure(k, n.i[k])) + '</td></tr>'); });
      h.push('</table>');
    }
    h.push('<div class="status">click to zoom</div>');
    return h.join('');
  }
  flame.addEventListener('mousemove', function (e) {
    var t = e.target.closest('.node'); if (!t) { hideTip(); return; }
    showTip(e, nodeTip(byId(t.dataset.id)));
  });
  flame.addEventListener('mouseleave', hideTip);

  /* ---- search ---- */
  function searchStatus() {
    var st = $('search-status');
    if (!state.re) { st.textContent = ''; st.dataset.share = ''; return; }
    var list = state.inverted ? invRoot.all : nodes, focus = state.focus || root, matched = 0, count = 0;
    var inFocus = function (n) { for (var p = n; p; p = p.parent) if (p === focus) return true; return false; };
    list.forEach(function (n) {
      if (!state.re.test(n.n) || !inFocus(n)) return;
      for (var p = n.parent; p && p !== focus.parent; p = p.parent) if (state.re.test(p.n)) return;   /* counted above */
      matched += val(n); count++;
    });
    var total = val(focus), share = total > 0 ? matched / total : 0;
    st.dataset.share = share.toFixed(6); st.dataset.count = String(count); st.dataset.bytes = String(matched);
    st.textContent = count ? 'matched ' + count + ' node' + (count > 1 ? 's' : '') + ': ' + fmt(matched) + ', ' + pct(matched, total) +
      ' of ' + METRICS[state.metric] + ' in view' : 'no match';
  }
  var searchTimer = 0;
  $('search').addEventListener('input', function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(applySearch, 120);
  });
  function applySearch() {
    var s = $('search').value, inp = $('search');
    inp.classList.remove('bad');
    if (!s) state.re = null;
    else {
      try { state.re = new RegExp(s, 'i'); } catch (err) { state.re = null; inp.classList.add('bad'); $('search-status').textContent = 'not a regular expression'; return; }
    }
    render();
  }

  /* ---- toolbar ---- */
  var mg = $('metric-group');
  METRICS.forEach(function (name, m) {
    var b = btn(name, function () { state.metric = m; pressGroup(mg, m); render(); });
    b.id = 'metric-' + name.toLowerCase();
    if (m === 3 && !D.have_uss) { b.disabled = true; b.title = 'USS is not in the input'; }
    mg.appendChild(b);
  });
  pressGroup(mg, 0);
  $('invert').addEventListener('change', function (e) {
    state.inverted = e.target.checked;
    if (state.inverted && !invRoot) invRoot = buildInverted();
    root = state.inverted ? invRoot : mainRoot;
    state.focus = null; state.history = [];
    render();
  });
  if (diff) {
    var wg = $('width-group'); wg.hidden = false;
    wg.appendChild(btn('width: before', function () { state.width = 0; pressGroup(wg, 0); render(); }));
    wg.appendChild(btn('width: after', function () { state.width = 1; pressGroup(wg, 1); render(); }));
    pressGroup(wg, 1);
  }

  /* ---- legend, header ---- */
  function legend(el, items) {
    el.innerHTML = items.map(function (it) { return '<span><span class="swatch" style="background:' + it[1] + '"></span>' + esc(it[0]) + '</span>'; }).join('');
  }
  (function header() {
    var s = [];
    if (D.source) s.push(D.source);
    if (D.taken_ms) s.push('taken ' + new Date(D.taken_ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'));
    if (diff) s.push('diff: before = ' + D.labels.before + ', after = ' + D.labels.after);
    $('subtitle').textContent = s.join(' · ');
    var t = [];
    for (var m = 0; m < 4; m++) {
      if (m === 3 && !D.have_uss) continue;
      var v = mainRoot.v[m];
      t.push('<span>' + METRICS[m] + ' <b id="total-' + METRICS[m].toLowerCase() + '" data-bytes="' + v + '">' + fmt(v) + '</b>' +
        (diff ? ' <span class="' + (v > mainRoot.b[m] ? 'up' : v < mainRoot.b[m] ? 'down' : '') + '">(' + signed(v - mainRoot.b[m]) + ')</span>' : '') + '</span>');
    }
    $('totals').innerHTML = t.join('');
    var toc = [['flame-sec', 'flame graph']];
    if (D.heat) toc.push(['heat-sec', 'over time']);
    if (D.strip) toc.push(['strip-sec', 'address space']);
    toc.push(['findings-sec', 'findings (' + (D.findings ? D.findings.length : 0) + ')']);
    $('toc').innerHTML = toc.map(function (x) { return '<a href="#' + x[0] + '">' + esc(x[1]) + '</a>'; }).join('');
    if (diff) legend($('flame-legend'), [['grew', '#d23c2a'], ['shrank', '#2f6fd0'], ['unchanged', '#e6e8ec']]);
    else {
      var seen = {};
      nodes.forEach(function (n) { if (n.cls) seen[n.cls] = 1; });
      legend($('flame-legend'), Object.keys(seen).map(function (c) { return [c, CLASS_HUE[c] || '#bbbbbb']; }));
    }
  })();

  /* ---- heat map ---- */
  function heat() {
    var H = D.heat; if (!H) return;
    $('heat-sec').hidden = false;
    var mode = 0, box = $('heat'), nc = H.t.length;
    function rates(row) {
      return row.v.map(function (v, c) {
        if (c === 0 || v === null || row.v[c - 1] === null) return null;
        var dt = (H.t[c] - H.t[c - 1]) / 1000; return dt > 0 ? (v - row.v[c - 1]) / dt : null;
      });
    }
    function draw() {
      var h = [];
      H.rows.forEach(function (row, r) {
        var vals = mode === 0 ? row.v : rates(row), lo = Infinity, hi = -Infinity, amax = 0;
        vals.forEach(function (v) { if (v === null) return; lo = Math.min(lo, v); hi = Math.max(hi, v); amax = Math.max(amax, Math.abs(v)); });
        h.push('<div class="heat-row" data-row="' + esc(row.n) + '"><div class="heat-label" title="' + esc(row.n) + '">' + esc(row.n) +
          '</div><div class="heat-cells">');
        for (var c = 0; c < nc; c++) {
          var v = vals[c], bg;
          if (v === null) { h.push('<div class="cell none" data-r="' + r + '" data-c="' + c + '"></div>'); continue; }
          if (mode === 0) { var k = hi > lo ? (v - lo) / (hi - lo) : 0; bg = 'hsl(' + (50 - 50 * k) + ',90%,' + (88 - 50 * k) + '%)'; }
          else { var q = amax > 0 ? Math.sqrt(Math.abs(v) / amax) : 0; bg = v > 0 ? shade('#d23c2a', 0.92 - 0.92 * q) : v < 0 ? shade('#2f6fd0', 0.92 - 0.92 * q) : '#f3f3f3'; }
          h.push('<div class="cell" data-r="' + r + '" data-c="' + c + '" data-v="' + v + '" style="background:' + bg + '"></div>');
        }
        h.push('</div></div>');
      });
      var t0 = H.t[0], t1 = H.t[nc - 1], span = Math.max(1, t1 - t0), ticks = [];
      for (var i = 0; i <= 4; i++) {
        var tt = t0 + span * i / 4, rel = H.event_ms ? Math.round((tt - H.event_ms) / 1000) : Math.round((tt - t0) / 1000);
        ticks.push('<span class="tick" style="left:' + (i * 25) + '%' + (i === 0 ? ';transform:none' : i === 4 ? ';transform:translateX(-100%)' : '') + '">' + (H.event_ms ? (rel > 0 ? '+' : '') + rel + ' s' : '+' + rel + ' s') + '</span>');
      }
      h.push('<div class="heat-axis"><div class="heat-label">' + (H.event_ms ? 'time from event' : 'time') + '</div><div class="ticks">' + ticks.join('') + '</div></div>');
      box.innerHTML = h.join('');
      if (H.event_ms && nc > 0) {
        var cells = box.querySelector('.heat-cells'), frac = nc > 1 ? (H.event_ms - t0) / span : 0.5;
        var at = 0; for (var c2 = 0; c2 < nc; c2++) if (H.t[c2] <= H.event_ms) at = c2;
        frac = Math.min(1, Math.max(0, frac));
        var mk = document.createElement('div'); mk.className = 'event-mark'; mk.id = 'event-mark'; mk.dataset.column = String(at);
        mk.style.left = 'calc(150px + (100% - 150px) * ' + frac.toFixed(5) + ')';
        mk.innerHTML = '<span' + (frac > 0.55 ? ' style="left:auto;right:4px"' : '') + '>' + esc(H.event || 'event') + '</span>';
        if (cells) box.appendChild(mk);
      }
      $('heat-caption').textContent = H.target + ' · ' + H.samples + ' samples' + (nc < H.samples ? ' in ' + nc + ' columns' : '') +
        ' · colour: ' + (mode === 0 ? 'bytes (each row on its own scale, light = its lowest)' : 'growth rate per second (red grows, blue shrinks)');
    }
    var g = $('heat-mode');
    g.appendChild(btn('bytes', function () { mode = 0; pressGroup(g, 0); draw(); }));
    g.appendChild(btn('growth rate', function () { mode = 1; pressGroup(g, 1); draw(); }));
    pressGroup(g, 0);
    draw();
    box.addEventListener('mousemove', function (e) {
      var t = e.target.closest('.cell'); if (!t) { hideTip(); return; }
      var r = H.rows[+t.dataset.r], c = +t.dataset.c, v = r.v[c], prev = c ? r.v[c - 1] : null;
      var when = new Date(H.t[c]).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
      var h = '<div class="name">' + esc(r.n) + '</div><table><tr><td>time</td><td>' + when +
        (H.event_ms ? ' (' + ((H.t[c] - H.event_ms) / 1000).toFixed(1) + ' s from the event)' : '') + '</td></tr>' +
        '<tr><td>value</td><td>' + (v === null ? 'not sampled' : figure('x_bytes', v)) + '</td></tr>';
      if (v !== null && prev !== null) {
        var dt = (H.t[c] - H.t[c - 1]) / 1000;
        h += '<tr><td>change</td><td>' + signed(v - prev) + (dt > 0 ? ' (' + signed(Math.round((v - prev) / dt)) + '/s)' : '') + '</td></tr>';
      }
      if (H.limit && H.limit[c] !== null) h += '<tr><td>limit</td><td>' + fmt(H.limit[c]) + (v !== null ? ' (' + pct(v, H.limit[c]) + ')' : '') + '</td></tr>';
      showTip(e, h + '</table>');
    });
    box.addEventListener('mouseleave', hideTip);
    /* start -> end: the bundle's own diff */
    var rows = ['<tr><th>row</th><th>start</th><th>peak</th><th>at</th><th>end</th><th>change</th></tr>'];
    H.rows.forEach(function (r) {
      var a = null, b = null, pk = null, pt = 0;
      r.v.forEach(function (v, c) { if (v !== null) { if (a === null) a = v; b = v; if (pk === null || v > pk) { pk = v; pt = H.t[c]; } } });
      var d = a === null ? 0 : b - a, at = H.event_ms ? ((pt - H.event_ms) / 1000).toFixed(1) + ' s' : '+' + ((pt - H.t[0]) / 1000).toFixed(1) + ' s';
      rows.push('<tr data-row="' + esc(r.n) + '"><td>' + esc(r.n) + '</td><td class="num">' + fmt(a) + '</td><td class="num">' + fmt(pk) +
        '</td><td class="num">' + (pk ? at : '') + '</td><td class="num">' + fmt(b) +
        '</td><td class="num ' + (d > 0 ? 'up' : d < 0 ? 'down' : '') + '">' + signed(d) + (a && d ? ' (' + (d > 0 ? '+' : '') + pct(d, a) + ')' : '') + '</td></tr>');
    });
    $('heat-diff').innerHTML = rows.join('');
  }

  /* ---- address-space strip ---- */
  function strip() {
    var S = D.strip; if (!S) return;
    $('strip-sec').hidden = false;
    var box = $('strip'), scale = 0, names = ['\u221asize', 'log size', 'equal'];
    function weight(z) { return scale === 0 ? Math.sqrt(z) : scale === 1 ? Math.log2(1 + z / 4096) + 1 : 1; }
    function draw() {
      var total = 0, h = [];
      S.segs.forEach(function (s) { total += weight(s[2]); });
      var W = box.clientWidth || 1000, gaps = 0;
      S.segs.forEach(function (s, i) { if (i && s[0] !== S.segs[i - 1][1]) gaps++; });
      var avail = Math.max(10, W - gaps * 3);
      S.segs.forEach(function (s, i) {
        if (i && s[0] !== S.segs[i - 1][1]) h.push('<div class="seg gap" style="width:3px"></div>');
        var cls = S.classes[s[3]], share = s[2] ? Math.min(1, s[4] / s[2]) : 0, base = CLASS_HUE[cls] || '#bbbbbb';
        h.push('<div class="seg" data-i="' + i + '" data-class="' + esc(cls) + '" style="width:' + (avail * weight(s[2]) / total).toFixed(3) +
          'px;background:' + shade(base, 0.85 - 0.85 * share) + '"></div>');
      });
      box.innerHTML = h.join('');
      $('strip-caption').textContent = S.mappings.toLocaleString('en') + ' mappings in address order' +
        (S.grouped > 1 ? ', ' + S.grouped + ' to a segment' : '') + ' · width: ' + names[scale] + ' of the virtual size · darker = more of it resident · dashed = a hole in the address space';
    }
    var g = $('strip-scale');
    names.forEach(function (n, i) { g.appendChild(btn('width: ' + n, function () { scale = i; pressGroup(g, i); draw(); })); });
    pressGroup(g, 0);
    draw();
    window.addEventListener('resize', draw);
    legend($('strip-legend'), S.classes.map(function (c) { return [c, CLASS_HUE[c] || '#bbbbbb']; }));
    box.addEventListener('mousemove', function (e) {
      var t = e.target.closest('.seg'); if (!t || t.dataset.i === undefined) { hideTip(); return; }
      var s = S.segs[+t.dataset.i];
      showTip(e, '<div class="name">' + esc(s[6]) + '</div><table><tr><td>class</td><td>' + esc(S.classes[s[3]]) + '</td></tr>' +
        '<tr><td>addresses</td><td>' + esc(s[0]) + '-' + esc(s[1]) + '</td></tr><tr><td>size</td><td>' + figure('size_bytes', s[2]) + '</td></tr>' +
        '<tr><td>resident</td><td>' + fmt(s[4]) + ' (' + pct(s[4], s[2]) + ')</td></tr><tr><td>mappings</td><td>' + s[5] + '</td></tr></table>');
    });
    box.addEventListener('mouseleave', hideTip);
  }

  /* ---- findings, notes ---- */
  function findings() {
    var box = $('findings'), F = D.findings || [];
    if (!F.length) { box.innerHTML = '<p class="empty">No rule fired on this snapshot.</p>'; return; }
    var order = { critical: 0, warn: 1, info: 2 };
    F.slice().sort(function (a, b) { return (order[a.severity] || 3) - (order[b.severity] || 3); }).forEach(function (f) {
      var ev = f.evidence && typeof f.evidence === 'object' ? Object.keys(f.evidence).map(function (k) {
        return '<tr><td>' + esc(k) + '</td><td class="num">' + esc(figure(k, f.evidence[k])) + '</td></tr>';
      }).join('') : '';
      var d = document.createElement('div');
      d.className = 'finding ' + esc(f.severity || '');
      d.innerHTML = '<span class="sev">' + esc(f.severity || '') + '</span><span class="fid">' + esc(f.id || '') + '</span>' +
        '<div class="msg">' + esc(f.message || '') + '</div>' + (ev ? '<table class="figures evidence">' + ev + '</table>' : '') +
        (f.advice ? '<div class="advice"><b>Advice:</b> ' + esc(f.advice) + '</div>' : '');
      box.appendChild(d);
    });
  }
  function notes() {
    var ul = $('notes');
    (D.notes || []).forEach(function (n) { var li = document.createElement('li'); li.textContent = n; ul.appendChild(li); });
    if (D.summary) { $('summary').hidden = false; $('summary').textContent = D.summary; }
  }

  render();
  heat();
  strip();
  findings();
  notes();
  var rt = 0;
  window.addEventListener('resize', function () { clearTimeout(rt); rt = setTimeout(render, 100); });
  document.body.dataset.ready = '1';
})();
