#!/usr/bin/env python3
"""Checks of a `gsmapper report` page in headless Chromium, against figures this script works
out itself from the explain JSON / samples the page was made from (never from the page's own
data). Prints PASS/FAIL lines (tests/lib.sh style); screenshots go to SHOTS.

usage:
  check_report.py single PAGE EXPLAIN.json SHOTS [REGEX [TAG]]
  check_report.py diff PAGE BEFORE.json AFTER.json SHOTS
  check_report.py bundle PAGE SAMPLES.jsonl EVENT.json SHOTS
  check_report.py nonet PAGE
  check_report.py svg FILE.svg EXPLAIN.json SHOTS REGEX
"""
import json
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp import Browser, CDPError  # noqa: E402

failed = 0


def result(name, ok, why=''):
    global failed
    if ok:
        print('PASS ' + name)
    else:
        failed += 1
        print('FAIL %s: %s' % (name, why))


def load_page(b, path):
    p = b.open('file://' + os.path.abspath(path))
    p.wait_for('document.body.dataset.ready === "1"')
    return p


def no_errors_no_requests(p, tag):
    p.drain()
    result(tag + '_no_console_errors', not p.errors, '; '.join(p.errors)[:400])
    others = [u for u, _ in p.requests if not u.startswith('file://')]
    docs = [u for u, t in p.requests if u.startswith('file://')]
    result(tag + '_no_network_request', not others and len(docs) == 1, 'requests: %s' % p.requests[:5])


def node_js(sel):
    return ('Array.prototype.map.call(document.querySelectorAll(%s), function(e){return {id:e.dataset.id,'
            'kind:e.dataset.kind, v:+e.dataset.value, name:e.dataset.name, text:e.textContent, cls:e.className, bg:e.style.background,'
            'w:e.getBoundingClientRect().width}})' % json.dumps(sel))


def expected_tree(doc):
    """The classes and mappings by name, summed, from the explain document itself."""
    classes, maps = {}, {}
    for m in doc.get('mappings', []):
        sm = m['smaps']
        name = m['path'] or 'anon@' + m['start']
        for key, f in (('rss', 'rss_bytes'), ('pss', 'pss_bytes'), ('swap', 'swap_bytes')):
            classes.setdefault(m['class'], {}).setdefault(key, 0)
            classes[m['class']][key] += sm.get(f, 0)
            maps.setdefault((m['class'], name), {}).setdefault(key, 0)
            maps[(m['class'], name)][key] += sm.get(f, 0)
    return classes, maps


def single(page, explain, shots, regex=None, tag=''):
    global result
    plain = result
    if tag:
        result = lambda name, ok, why='': plain(tag + '_' + name, ok, why)
    try:
        single_checks(page, explain, shots, regex)
    finally:
        result = plain


def single_checks(page, explain, shots, regex):
    doc = json.load(open(explain))
    classes, maps = expected_tree(doc)
    with Browser() as b:
        p = load_page(b, page)
        p.screenshot(os.path.join(shots, 'flame.png'))
        no_errors_no_requests(p, 'single')
        nodes = p.eval(node_js('#flame .node'))
        root = nodes[0]
        tot = doc['totals']['rss_bytes']
        result('root_total_is_json_total', root['v'] == tot, 'root %s, totals.rss_bytes %s' % (root['v'], tot))
        by_name = {n['name']: n for n in nodes if n['kind'] == 'c'}
        width = p.eval('document.getElementById("flame").clientWidth')
        # every class the page can draw (half a pixel or more) is there with the JSON's figure
        bad = ['%s: page %s, json %s' % (c, by_name.get(c, {}).get('v'), v['rss'])
               for c, v in classes.items() if v['rss'] * width / tot >= 0.5 and (c not in by_name or by_name[c]['v'] != v['rss'])]
        bad += ['%s: page %s, json %s' % (c, n['v'], classes.get(c, {}).get('rss')) for c, n in by_name.items()
                if classes.get(c, {}).get('rss') != n['v']]
        result('class_nodes_match_json', not bad and by_name, '; '.join(bad) or 'no class nodes')
        # the largest mapping node of the largest class (a name the page shows in full)
        big = max(maps.items(), key=lambda kv: kv[1]['rss'])
        found = p.eval('(function(){var n=document.querySelectorAll("#flame .node[data-kind=m]");'
                       'for (var i=0;i<n.length;i++) if (n[i].dataset.name===%s) return +n[i].dataset.value; return null})()'
                       % json.dumps(big[0][1]))
        result('largest_mapping_node', found == big[1]['rss'], '%s: page %s, json %s' % (big[0][1], found, big[1]['rss']))
        total_text = p.eval('document.getElementById("total-rss").dataset.bytes')
        result('header_total', int(total_text) == tot, '%s != %s' % (total_text, tot))

        # metric switch
        p.click('#metric-pss')
        v = p.eval('+document.querySelector("#flame .node").dataset.value')
        result('pss_switch_total', v == doc['totals']['pss_bytes'], '%s != %s' % (v, doc['totals']['pss_bytes']))
        p.click('#metric-rss')

        # tooltip
        p.hover('#flame .node[data-kind=c]')
        tip = p.eval('(function(){var t=document.getElementById("tip"); return t.hidden ? null : t.textContent})()')
        result('tooltip_has_figures', bool(tip) and 'RSS' in tip and 'PSS' in tip and 'Swap' in tip, repr(tip)[:200])

        # search: share of RSS held by the mappings whose name matches, by this script's own sum
        if regex:
            rx = re.compile(regex, re.I)
            want = 0
            for (cls, name), v in maps.items():
                if rx.search(name) and not rx.search(cls):
                    want += v['rss']
            p.type_text('#search', regex)
            p.wait_for('document.getElementById("search-status").dataset.share !== ""')
            got = float(p.eval('document.getElementById("search-status").dataset.share'))
            matched = p.eval(node_js('#flame .node.match'))
            text = p.eval('document.getElementById("search-status").textContent')
            result('search_share', abs(got - want / tot) < 1e-5, 'page %.6f, json %.6f (%s)' % (got, want / tot, text))
            names = p.eval('Array.prototype.map.call(document.querySelectorAll("#flame .node.match"), function(e){return e.dataset.name})')
            result('search_highlights', names and all(rx.search(n) for n in names) and '%' in text,
                   '%d highlighted (%s): %s' % (len(matched), names[:3], text))
            p.screenshot(os.path.join(shots, 'search.png'))
            p.eval('(function(){var s=document.getElementById("search"); s.value=""; s.dispatchEvent(new Event("input"))})()')
            p.wait_for('document.getElementById("search-status").textContent === ""')

        # click-zoom with a real click on the largest class node, then back
        cls = max((n for n in p.eval(node_js('#flame .node[data-kind=c]'))), key=lambda n: n['v'])
        p.click('#flame .node[data-id="%s"]' % cls['id'])
        focus = p.eval('document.getElementById("flame").dataset.focus')
        width = p.eval('document.querySelector(\'#flame .node[data-id="%s"]\').getBoundingClientRect().width /'
                       'document.getElementById("flame").clientWidth' % cls['id'])
        result('click_zooms', focus == cls['id'] and width > 0.99, 'focus %s (want %s), width share %.3f' % (focus, cls['id'], width))
        p.screenshot(os.path.join(shots, 'zoomed.png'))
        result('way_back_visible', p.eval('!document.getElementById("zoom-back").disabled && '
                                          '!document.getElementById("zoom-reset").disabled'), 'back/reset disabled')
        p.click('#zoom-back')
        focus = p.eval('document.getElementById("flame").dataset.focus')
        n_after = len(p.eval(node_js('#flame .node')))
        result('back_restores', focus == root['id'] and n_after == len(nodes), 'focus %s, %d nodes (was %d)' % (focus, n_after, len(nodes)))

        # inverted view: leaves first, same total
        p.click('#invert')
        inv = p.eval(node_js('#flame .node'))
        result('inverted_view', inv and inv[0]['name'] == 'all' and inv[0]['v'] == tot and len(inv) > 1,
               'first %s' % (inv[0] if inv else None))
        p.screenshot(os.path.join(shots, 'inverted.png'))
        p.click('#invert')
        no_errors_no_requests(p, 'single_after_clicks')


def diff(page, before, after, shots):
    a, b = json.load(open(before)), json.load(open(after))
    ca, _ = expected_tree(a)
    cb, _ = expected_tree(b)
    grew = max(cb, key=lambda c: cb[c]['rss'] - ca.get(c, {'rss': 0})['rss'])
    shrank = min(cb, key=lambda c: cb[c]['rss'] - ca.get(c, {'rss': 0})['rss'])
    with Browser() as br:
        p = load_page(br, page)
        p.screenshot(os.path.join(shots, 'diff.png'))
        no_errors_no_requests(p, 'diff')
        nodes = {n['name']: n for n in p.eval(node_js('#flame .node[data-kind=c]'))}
        g = nodes.get(grew)
        d_g = cb[grew]['rss'] - ca.get(grew, {'rss': 0})['rss']
        result('diff_grew_is_red', d_g > 0 and g and 'grew' in g['cls'] and red(g['bg']),
               '%s grew %d: %s' % (grew, d_g, g))
        s = nodes.get(shrank)
        d_s = cb[shrank]['rss'] - ca.get(shrank, {'rss': 0})['rss']
        if d_s < 0:
            result('diff_shrank_is_blue', s and 'shrank' in s['cls'] and blue(s['bg']), '%s shrank %d: %s' % (shrank, d_s, s))
        first = p.eval('(function(){var r=document.querySelector("#changes tr[data-id]"); return r ? r.textContent : null})()')
        result('diff_changes_table', first and ('+' + fmt(d_g)) in first, 'first row %r, want %r' % (first, '+' + fmt(d_g)))
        p.hover('#flame .node[data-id="%s"]' % g['id'])
        tip = p.eval('document.getElementById("tip").textContent')
        want = '+' + fmt(d_g)
        result('diff_tooltip_delta', want in tip, 'want %r in %r' % (want, tip[:300]))


def rgb(bg):
    m = re.match(r'rgb\((\d+), (\d+), (\d+)\)', bg)
    return tuple(int(x) for x in m.groups()) if m else (0, 0, 0)


def red(bg):
    r, g, b = rgb(bg)
    return r > g + 20 and r > b + 20


def blue(bg):
    r, g, b = rgb(bg)
    return b > r + 20


def fmt(v):
    u, i, x = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], 0, abs(v)
    while x >= 1024 and i < 4:
        x /= 1024
        i += 1
    s = ('%.2f' if x < 10 else '%.1f') % x if i else str(int(x))
    return ('-' if v < 0 else '') + s + ' ' + u[i]


def bundle(page, samples, event, shots):
    rows = {}
    lines = [json.loads(l) for l in open(samples) if l.strip()]
    keys = ['anon_bytes', 'file_bytes', 'swap_bytes', 'others_bytes', 'go_heap_goal_bytes', 'pss_bytes',
            'unreclaimable_bytes', 'working_set_bytes', 'usage_bytes']
    for k in keys:
        if any(isinstance(s.get(k), (int, float)) for s in lines):
            rows[k[:-6]] = [s.get(k) for s in sorted(lines, key=lambda s: s['time_ms'])]
    ev = json.load(open(event))
    times = sorted(s['time_ms'] for s in lines)
    want_col = max(i for i, t in enumerate(times) if t <= ev['time_ms'])
    with Browser() as b:
        p = load_page(b, page)
        p.eval('document.getElementById("heat-sec").scrollIntoView()')
        p.screenshot(os.path.join(shots, 'heat.png'))
        no_errors_no_requests(p, 'bundle')
        got = p.eval('Array.prototype.map.call(document.querySelectorAll("#heat .heat-row"), function(r){return [r.dataset.row,'
                     'Array.prototype.map.call(r.querySelectorAll(".cell"), function(c){return c.dataset.v===undefined?null:+c.dataset.v})]})')
        got = dict((r[0], r[1]) for r in got)
        result('heat_one_row_per_class', sorted(got) == sorted(rows), 'page %s, samples %s' % (sorted(got), sorted(rows)))
        bad = [k for k in rows if got.get(k) != rows[k]]
        result('heat_values_match_samples', not bad, 'rows differ: %s' % bad)
        col = p.eval('(function(){var m=document.getElementById("event-mark"); return m ? +m.dataset.column : null})()')
        result('heat_event_marked', col == want_col, 'page column %s, want %s' % (col, want_col))
        p.hover('#heat .heat-row .cell[data-c="%d"]' % want_col)
        tip = p.eval('document.getElementById("tip").textContent')
        result('heat_hover_values', 'from the event' in tip and 'value' in tip, repr(tip)[:200])
        p.click('#heat-mode button:nth-child(2)')
        cells = p.eval('document.querySelectorAll("#heat .cell[data-v]").length')
        p.screenshot(os.path.join(shots, 'heat-rate.png'))
        result('heat_growth_rate_mode', cells > 0, 'no cells with a rate')
        first = {k: next(x for x in v if x is not None) for k, v in rows.items()}
        last = {k: [x for x in v if x is not None][-1] for k, v in rows.items()}
        up = [k for k in rows if last[k] > first[k]]
        tds = p.eval('Array.prototype.map.call(document.querySelectorAll("#heat-diff tr[data-row]"), function(r){'
                     'return [r.dataset.row, r.lastChild.className]})')
        red_rows = [r for r, c in tds if 'up' in c]
        result('bundle_start_end_diff', sorted(red_rows) == sorted(up), 'page %s, samples %s' % (red_rows, up))


def svg(page, explain, shots, regex):
    """The standalone SVG: nodes, a real click that zooms, reset, search through its own prompt."""
    doc = json.load(open(explain))
    classes, maps = expected_tree(doc)
    tot = doc['totals']['rss_bytes']
    with Browser() as b:
        p = b.open('file://' + os.path.abspath(page))
        p.wait_for('document.querySelectorAll("g.n").length > 0')
        p.screenshot(os.path.join(shots, 'svg.png'), full=False)
        no_errors_no_requests(p, 'svg')
        names = p.eval('Array.prototype.map.call(document.querySelectorAll("g.n"), function(g){return g.getAttribute("data-name")})')
        want = [c for c, v in classes.items() if v['rss'] > 0]
        result('svg_class_nodes', all(c in names for c in want), 'missing %s' % [c for c in want if c not in names])
        big = max(want, key=lambda c: classes[c]['rss'])
        share = p.eval('+document.querySelector(\'g.n[data-name="%s"]\').getAttribute("data-w")' % big)
        result('svg_class_width_is_share', abs(share - classes[big]['rss'] / tot) < 1e-6, '%s %.6f vs %.6f' % (big, share, classes[big]['rss'] / tot))
        p.click('g.n[data-name="%s"] rect' % big)
        w = p.eval('+document.querySelector(\'g.n[data-name="%s"] rect\').getAttribute("width")' % big)
        result('svg_click_zooms', w > 1170, 'width after click %s' % w)
        p.screenshot(os.path.join(shots, 'svg-zoomed.png'), full=False)
        p.click('#unzoom')
        w = p.eval('+document.querySelector(\'g.n[data-name="%s"] rect\').getAttribute("width")' % big)
        result('svg_reset_restores', abs(w - 1180 * classes[big]['rss'] / tot) < 1, 'width after reset %s' % w)
        rx = re.compile(regex, re.I)
        want_share = sum(v['rss'] for (c, n), v in maps.items() if rx.search(n) and not rx.search(c)) / tot
        p.eval('window.prompt = function () { return %s; }' % json.dumps(regex))
        p.click('#search')
        info = p.eval('document.getElementById("info").textContent')
        m = re.search(r'([0-9.]+)%', info or '')
        result('svg_search_share', m and abs(float(m.group(1)) - 100 * want_share) < 0.06 and
               p.eval('document.querySelectorAll("g.m").length') > 0, '%r vs %.2f%%' % (info, 100 * want_share))
        no_errors_no_requests(p, 'svg_after_clicks')


def nonet(page):
    """The page's own CSP stops a request (no request is seen); the positive control shows that a
    request, when one is made, is seen: the same page without its CSP line."""
    html = open(page).read()
    with Browser() as b:
        p = load_page(b, page)
        p.eval('fetch("http://127.0.0.1:9/probe").catch(function(){})')
        p.eval('new Promise(function(r){setTimeout(r,300)})')
        p.drain()
        seen = [u for u, _ in p.requests if '127.0.0.1:9' in u]
        result('csp_blocks_fetch', not seen, 'requests %s' % p.requests)
        tmp = tempfile.NamedTemporaryFile('w', suffix='.html', delete=False)
        tmp.write(re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', '', html, count=1))
        tmp.close()
        try:
            q = load_page(b, tmp.name)
            q.eval('fetch("http://127.0.0.1:9/probe").catch(function(){})')
            q.eval('new Promise(function(r){setTimeout(r,300)})')
            q.drain()
            seen = [u for u, _ in q.requests if '127.0.0.1:9' in u]
            result('request_detector_positive_control', seen, 'no request seen without the CSP: %s' % q.requests)
        finally:
            os.unlink(tmp.name)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    try:
        {'single': single, 'diff': diff, 'bundle': bundle, 'nonet': nonet, 'svg': svg}[cmd](*args)
    except CDPError as e:
        result('browser_' + cmd, False, str(e))
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
