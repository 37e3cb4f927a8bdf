/* gsmapper report -o FILE.svg: click-zoom and regex search inside the standalone flame graph
 * (each node is a <g class="n"> with data-x, data-w: its place as fractions of the root's width,
 * data-d: its depth). No network, no library. */
(function () {
  'use strict';
  var svg = document.documentElement, W = +svg.getAttribute('data-width'), PAD = 10;
  var nodes = Array.prototype.slice.call(document.querySelectorAll('g.n'));
  var info = document.getElementById('info');
  nodes.forEach(function (g) {
    g.x = +g.getAttribute('data-x'); g.w = +g.getAttribute('data-w'); g.d = +g.getAttribute('data-d');
    g.label = g.getAttribute('data-name');
  });
  function fit(g, px) {
    var t = g.querySelector('text'), n = Math.floor((px - 8) / 7.4);
    t.textContent = n < 3 ? '' : g.label.length <= n ? g.label : g.label.slice(0, n - 2) + '..';
  }
  function place(g, x, w, show) {
    var r = g.querySelector('rect'), t = g.querySelector('text'), px = (W - 2 * PAD) * w;
    g.style.display = show ? '' : 'none';
    if (!show) return;
    r.setAttribute('x', (PAD + (W - 2 * PAD) * x).toFixed(2)); r.setAttribute('width', Math.max(px, 0.1).toFixed(2));
    t.setAttribute('x', (PAD + (W - 2 * PAD) * x + 3).toFixed(2));
    fit(g, px);
  }
  var eps = 1e-9;
  function zoom(z) {
    nodes.forEach(function (g) {
      var inside = g.d >= z.d && g.x >= z.x - eps && g.x + g.w <= z.x + z.w + eps;
      var above = g.d < z.d && g.x <= z.x + eps && g.x + g.w >= z.x + z.w - eps;
      if (inside) place(g, (g.x - z.x) / z.w, g.w / z.w, true);
      else if (above) place(g, 0, 1, true);
      else place(g, 0, 0, false);
      g.setAttribute('opacity', above ? '0.55' : '1');
    });
    document.getElementById('unzoom').style.display = z.d > 0 ? '' : 'none';
  }
  document.getElementById('frames').addEventListener('click', function (e) {
    var g = e.target.closest('g.n'); if (g) zoom(g);
  });
  document.getElementById('unzoom').addEventListener('click', function () { zoom(nodes[0]); });
  document.getElementById('search').addEventListener('click', function () {
    var s = window.prompt('Search (regular expression, case-insensitive); empty to clear', '');
    if (s === null) return;
    var re = null;
    try { re = s ? new RegExp(s, 'i') : null; } catch (err) { info.textContent = 'not a regular expression'; return; }
    var kept = [];
    nodes.forEach(function (g) {
      var m = re && re.test(g.label);
      g.setAttribute('class', m ? 'n m' : 'n');
      if (m && !kept.some(function (k) { return k.d < g.d && g.x >= k.x - eps && g.x + g.w <= k.x + k.w + eps; })) kept.push(g);
    });
    var share = kept.reduce(function (a, g) { return a + g.w; }, 0);
    info.textContent = re ? 'matched ' + kept.length + ': ' + (100 * share).toFixed(1) + '% of the RSS' : '';
  });
  zoom(nodes[0]);
})();
