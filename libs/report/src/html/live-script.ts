/**
 * The live page's script, plain ES2020 for the browser. It subscribes to the
 * aggregator's SSE stream and redraws an SVG scatter as samples arrive.
 * Data only ever reaches the DOM through textContent and setAttribute.
 * (No template literals inside: this file's text is embedded verbatim.)
 */
export const LIVE_SCRIPT = String.raw`
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('live-config').textContent);
  var SVGNS = 'http://www.w3.org/2000/svg';
  var COLORS = { cold: '#D55E00', reuse: '#0072B2' };
  var state = { attempt: null, expected: null, status: 'connecting', done: false, firstAt: null, meta: null };
  var samples = new Map();
  var pending = false;

  function $(id) { return document.getElementById(id); }
  function setText(id, v) { $(id).textContent = v; }
  function el(name, attrs, parent) {
    var e = document.createElementNS(SVGNS, name);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    if (parent) parent.appendChild(e);
    return e;
  }
  function pct(sorted, p) {
    var n = sorted.length;
    if (!n) return null;
    var h = (n - 1) * p / 100, lo = Math.floor(h), hi = Math.min(lo + 1, n - 1);
    return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
  }
  function fmtMs(s) {
    if (s === null || s === undefined || !isFinite(s)) return '-';
    var ms = s * 1000;
    return ms.toFixed(ms < 10 ? 2 : ms < 100 ? 1 : 0) + ' ms';
  }
  function ctxLabel(t) { return t >= 1024 && t % 1024 === 0 ? (t / 1024) + 'K' : String(t); }
  function niceTicks(min, max) {
    if (!(max > min)) { max = min + 1; }
    var raw = (max - min) / 5, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 5, 10].map(function (m) { return m * mag; }).find(function (s) { return s >= raw; });
    var lo = Math.floor(min / step) * step, hi = Math.ceil(max / step) * step, t = [];
    for (var v = lo; v <= hi + step / 2; v += step) t.push(Number(v.toPrecision(12)));
    return t;
  }
  function yScale(values, y0, y1) {
    var pos = values.filter(function (v) { return v > 0; });
    var min = Math.min.apply(null, pos.length ? pos : [1]), max = Math.max.apply(null, values.length ? values : [1]);
    if (pos.length > 1 && max / min > 30) {
      var lo = Math.log10(min) - 0.05, hi = Math.log10(max) + 0.05, ticks = [];
      for (var d = Math.floor(lo); d <= Math.ceil(hi); d++) [1, 2, 5].forEach(function (m) { var t = m * Math.pow(10, d); if (Math.log10(t) >= lo && Math.log10(t) <= hi) ticks.push(t); });
      return { f: function (v) { return y0 + (Math.log10(Math.max(v, 1e-9)) - lo) / (hi - lo) * (y1 - y0); }, ticks: ticks, log: true };
    }
    var t = niceTicks(0, max);
    return { f: function (v) { return y0 + (v - t[0]) / (t[t.length - 1] - t[0]) * (y1 - y0); }, ticks: t, log: false };
  }
  function fmtTick(v) { return v >= 1000 ? v.toFixed(0) : String(Number(v.toPrecision(3))); }

  // One chart: axes, grid, labels; returns the plot group and geometry.
  function frame(svg, yLabel, xLabel, y, xTicks) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var W = 600, H = 320, L = 64, R = 16, T = 14, B = 48;
    var g = { x0: L, x1: W - R, y0: H - B, y1: T };
    el('line', { x1: g.x0, y1: g.y1, x2: g.x0, y2: g.y0, stroke: '#666' }, svg);
    el('line', { x1: g.x0, y1: g.y0, x2: g.x1, y2: g.y0, stroke: '#666' }, svg);
    y.ticks.forEach(function (t) {
      var yy = y.f(t);
      if (yy < g.y1 - 0.5 || yy > g.y0 + 0.5) return;
      el('line', { x1: g.x0, y1: yy, x2: g.x1, y2: yy, stroke: '#eee' }, svg);
      el('text', { x: g.x0 - 6, y: yy + 4, 'text-anchor': 'end' }, svg).textContent = fmtTick(t);
    });
    xTicks.forEach(function (t) {
      el('line', { x1: t.x, y1: g.y0, x2: t.x, y2: g.y0 + 5, stroke: '#666' }, svg);
      el('text', { x: t.x, y: g.y0 + 18, 'text-anchor': 'middle' }, svg).textContent = t.label;
    });
    el('text', { 'class': 'axis-label', transform: 'translate(14 ' + (g.y0 + g.y1) / 2 + ') rotate(-90)', 'text-anchor': 'middle' }, svg).textContent = yLabel + (y.log ? ', log scale' : '') + ')';
    el('text', { 'class': 'axis-label', x: (g.x0 + g.x1) / 2, y: H - 6, 'text-anchor': 'middle' }, svg).textContent = xLabel;
    return g;
  }
  function dot(svg, cx, cy, s) {
    var c = el('circle', { 'class': 'mark', cx: cx.toFixed(1), cy: cy.toFixed(1), r: 3, stroke: COLORS[s.phase], 'stroke-width': 1,
      fill: s.phase === 'cold' ? '#fff' : COLORS[s.phase], 'fill-opacity': 0.7 }, svg);
    el('title', {}, c).textContent = s.request_id + ' (' + s.phase + ', ' + ctxLabel(s.context_tokens) + '): TTFT ' + fmtMs(s.ttft_s);
  }

  function render() {
    pending = false;
    var all = Array.from(samples.values());
    var ok = all.filter(function (s) { return s.ok && s.ttft_s !== null; });
    var failed = all.length - ok.length;
    var ttfts = ok.map(function (s) { return s.ttft_s; }).sort(function (a, b) { return a - b; });
    var done = all.length, total = state.expected;
    setText('status', state.status);
    setText('done', total ? done + ' of ' + total + ' requests' : done + ' requests');
    setText('p50', fmtMs(pct(ttfts, 50)));
    setText('p95', fmtMs(pct(ttfts, 95)));
    setText('failed', String(failed));
    var bar = $('progress');
    if (total) { bar.max = total; bar.value = Math.min(done, total); } else bar.removeAttribute('value');
    var eta = '-';
    if (state.firstAt !== null && total && done > 1 && done < total && !state.done) {
      var elapsed = (performance.now() - state.firstAt) / 1000;
      eta = Math.ceil(elapsed / (done - 1) * (total - done)) + ' s';
    }
    setText('eta', eta);

    // Timeline: TTFT against scheduled time.
    var ms = ok.map(function (s) { return s.ttft_s * 1000; });
    var tmax = 0; ok.forEach(function (s) { tmax = Math.max(tmax, s.scheduled_at_s); });
    var xt = niceTicks(0, tmax || 1);
    var svgA = $('timeline');
    var y = yScale(ms, 320 - 48, 14);
    var xf = function (v) { return 64 + (v - xt[0]) / (xt[xt.length - 1] - xt[0]) * (600 - 16 - 64); };
    frame(svgA, 'TTFT (ms', 'scheduled at (s since run start)', y, xt.map(function (t) { return { x: xf(t), label: fmtTick(t) }; }));
    ok.forEach(function (s) { dot(svgA, xf(s.scheduled_at_s), y.f(s.ttft_s * 1000), s); });

    // TTFT by context size: one column per context, cold left, reuse right, median as a bar.
    var ctxs = Array.from(new Set(ok.map(function (s) { return s.context_tokens; }))).sort(function (a, b) { return a - b; });
    var svgB = $('by-context');
    var band = (600 - 16 - 64) / Math.max(ctxs.length, 1);
    var cx = function (i, phase) { return 64 + band * (i + 0.5) + (phase === 'cold' ? -band / 5 : band / 5); };
    frame(svgB, 'TTFT (ms', 'context size (tokens); left: cold, right: reuse', y, ctxs.map(function (c, i) { return { x: 64 + band * (i + 0.5), label: ctxLabel(c) }; }));
    var rows = [];
    ctxs.forEach(function (c, i) {
      ['cold', 'reuse'].forEach(function (phase) {
        var group = ok.filter(function (s) { return s.context_tokens === c && s.phase === phase; });
        if (!group.length) return;
        var sorted = group.map(function (s) { return s.ttft_s; }).sort(function (a, b) { return a - b; });
        group.forEach(function (s, k) { dot(svgB, cx(i, phase) + ((k * 7919) % 17 - 8) * band / 90, y.f(s.ttft_s * 1000), s); });
        var med = pct(sorted, 50);
        el('line', { x1: cx(i, phase) - band / 8, x2: cx(i, phase) + band / 8, y1: y.f(med * 1000), y2: y.f(med * 1000), stroke: COLORS[phase], 'stroke-width': 3 }, svgB);
        rows.push([ctxLabel(c), phase, String(group.length), fmtMs(med), fmtMs(pct(sorted, 95))]);
      });
    });
    var tbody = $('stats');
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    rows.forEach(function (r) {
      var tr = document.createElement('tr');
      r.forEach(function (v) { var td = document.createElement('td'); td.textContent = v; tr.appendChild(td); });
      tbody.appendChild(tr);
    });
  }
  function schedule() {
    if (pending) return;
    pending = true;
    (window.requestAnimationFrame || setTimeout)(render);
  }
  function data(e) { return JSON.parse(e.data); }

  var es = new EventSource(cfg.eventsUrl);
  es.addEventListener('state', function (e) {
    var s = data(e);
    state.status = s.status;
    if (s.expected_samples !== null && s.expected_samples !== undefined) state.expected = s.expected_samples;
    if (state.attempt === null) state.attempt = s.current_attempt;
    var who = [s.system_label, s.workload_id ? 'workload ' + s.workload_id : null, s.model].filter(Boolean).join(' · ');
    setText('who', who);
    schedule();
  });
  es.addEventListener('started', function (e) {
    var s = data(e);
    if (state.attempt !== null && s.attempt > state.attempt) samples.clear();
    state.attempt = s.attempt;
    state.expected = s.expected_samples;
    state.status = 'running';
    if (s.run_meta && s.run_meta.simulated) $('simulated').hidden = false;
    schedule();
  });
  es.addEventListener('sample', function (e) {
    var d = data(e);
    if (state.attempt !== null && d.attempt < state.attempt) return;
    if (state.attempt !== null && d.attempt > state.attempt) samples.clear();
    state.attempt = d.attempt;
    if (state.firstAt === null) state.firstAt = performance.now();
    if (state.status === 'queued' || state.status === 'connecting') state.status = 'running';
    samples.set(d.sample.request_id, d.sample);
    schedule();
  });
  es.addEventListener('completed', function () {
    state.status = 'completed';
    state.done = true;
    es.close(); // the server ends the stream; without this EventSource would reconnect
    schedule();
  });
  es.addEventListener('failed', function (e) {
    var d = data(e);
    if (d && d.final === false) { state.status = 'attempt failed, retrying: ' + d.error; schedule(); return; }
    state.status = 'failed: ' + (d && d.error ? d.error : 'unknown error');
    state.done = true;
    es.close();
    schedule();
  });
  es.addEventListener('cancelled', function () {
    state.status = 'cancelled (samples kept with the attempt, not in results)';
    state.done = true;
    es.close();
    schedule();
  });
  es.onerror = function () {
    if (!state.done) { state.status = 'connection lost, reconnecting'; schedule(); }
  };
  schedule();
})();
`;
