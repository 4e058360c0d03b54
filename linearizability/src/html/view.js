(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('data').textContent);
  var SVGNS = 'http://www.w3.org/2000/svg';
  var ROW = 30, BAR = 20, LANE = 24, GUTTER = 96, AXIS = 26, PAD = 24, GAP = 16, CHAR = 6.7;
  var scale = 'order';
  var zoom = 1;
  var rendered = [];

  function h(tag, attrs, children) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'class') e.className = attrs[k];
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function s(tag, attrs, parent) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs || {}) {
      if (k === 'text') e.textContent = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    if (parent) parent.appendChild(e);
    return e;
  }
  function verdictClass(v) {
    return v === 'linearizable' ? 'ok' : v === 'not linearizable' ? 'bad' : 'unk';
  }

  // Times: nanoseconds, shown relative to the earliest event.
  var t0 = Infinity, tMax = -Infinity;
  data.ops.forEach(function (o) {
    t0 = Math.min(t0, o.call); tMax = Math.max(tMax, o.call, o.ret === null ? o.call : o.ret);
  });
  data.annotations.forEach(function (a) {
    t0 = Math.min(t0, a.start); tMax = Math.max(tMax, a.end === null ? a.start : a.end);
  });
  if (!isFinite(t0)) { t0 = 0; tMax = 1; }
  if (tMax <= t0) tMax = t0 + 1;
  function fmt(t) {
    var d = t - t0, a = Math.abs(d);
    if (a < 1e3) return d + ' ns';
    if (a < 1e6) return +(d / 1e3).toPrecision(4) + ' µs';
    if (a < 1e9) return +(d / 1e6).toPrecision(4) + ' ms';
    return +(d / 1e9).toPrecision(5) + ' s';
  }

  // Tooltip.
  var tip = h('div', { id: 'tip' });
  document.body.appendChild(tip);
  function showTip(ev, lines) {
    tip.textContent = '';
    lines.forEach(function (l) {
      var div = h('div');
      if (l[0]) div.appendChild(h('b', { text: l[0] + ' ' }));
      div.appendChild(h('span', { class: l[2] ? 'mono' : '', text: l[1] }));
      tip.appendChild(div);
    });
    tip.style.display = 'block';
    moveTip(ev);
  }
  function moveTip(ev) {
    var x = ev.clientX + 14, y = ev.clientY + 14;
    var r = tip.getBoundingClientRect();
    if (x + r.width > window.innerWidth - 8) x = ev.clientX - r.width - 14;
    if (y + r.height > window.innerHeight - 8) y = ev.clientY - r.height - 14;
    tip.style.left = x + 'px'; tip.style.top = y + 'px';
  }
  function hideTip() { tip.style.display = 'none'; }

  // Header.
  var app = document.getElementById('app');
  var nParts = data.partitions.length;
  var nBad = data.partitions.filter(function (p) { return p.verdict === 'not linearizable'; }).length;
  var nPending = data.ops.filter(function (o) { return o.ret === null; }).length;
  app.appendChild(h('header', {}, [
    h('h1', {}, [h('span', { text: 'Linearizability check' }),
      h('span', { class: 'badge ' + verdictClass(data.verdict), text: data.verdict })]),
    h('div', { class: 'meta', text: data.ops.length + ' operations (' + nPending + ' never returned), ' +
      nParts + ' partition' + (nParts === 1 ? '' : 's') + (nBad ? ', ' + nBad + ' not linearizable' : '') +
      ', checked in ' + data.elapsedMs.toFixed(1) + ' ms; times relative to the first event' }),
    data.verdict === 'linearizable' ? null : h('pre', { class: 'explain', text: data.explanation })
  ]));

  // Controls.
  var scaleButtons = {};
  function setScale(v) {
    scale = v;
    Object.keys(scaleButtons).forEach(function (k) { scaleButtons[k].className = k === v ? 'on' : ''; });
    rerender();
  }
  scaleButtons.order = h('button', { text: 'event order', onclick: function () { setScale('order'); } });
  scaleButtons.real = h('button', { text: 'real time', onclick: function () { setScale('real'); } });
  scaleButtons.order.className = 'on';
  var zoomLabel = h('span', { class: 'meta', text: '100%' });
  function setZoom(z) { zoom = Math.max(0.1, Math.min(40, z)); zoomLabel.textContent = Math.round(zoom * 100) + '%'; rerender(); }
  app.appendChild(h('div', { class: 'controls' }, [
    h('span', { class: 'meta', text: 'scale' }), scaleButtons.order, scaleButtons.real,
    h('span', { class: 'meta', text: 'zoom' }),
    h('button', { text: '−', onclick: function () { setZoom(zoom / 1.5); } }),
    zoomLabel,
    h('button', { text: '+', onclick: function () { setZoom(zoom * 1.5); } }),
    h('button', { text: 'open all', onclick: function () { toggleAll(true); } }),
    h('button', { text: 'close all', onclick: function () { toggleAll(false); } }),
    h('span', { class: 'legend' }, [
      h('span', {}, [h('span', { class: 'sw placed' }), document.createTextNode('linearized (dot: its point)')]),
      h('span', {}, [h('span', { class: 'sw stuck' }), document.createTextNode('cannot go next')]),
      h('span', {}, [h('span', { class: 'sw idle' }), document.createTextNode('not placed')]),
      h('span', {}, [h('span', { class: 'sw pend' }), document.createTextNode('never returned')])
    ])
  ]));

  var main = h('main');
  app.appendChild(main);
  var order = data.partitions.map(function (p, i) { return i; });
  var rank = { 'not linearizable': 0, 'unknown (timed out)': 1, 'linearizable': 2 };
  order.sort(function (a, b) { return rank[data.partitions[a].verdict] - rank[data.partitions[b].verdict] || a - b; });
  var details = [];
  order.forEach(function (pi) {
    var p = data.partitions[pi];
    var body = h('div', { class: 'body' });
    var d = h('details', { class: 'part' }, [
      h('summary', {}, [
        h('span', { class: 'label', text: p.label }),
        h('span', { class: 'badge ' + verdictClass(p.verdict), text: p.verdict }),
        h('span', { class: 'meta', text: p.ops.length + ' operations' })
      ]), body]);
    var state = { part: p, body: body, choice: 0 };
    d.addEventListener('toggle', function () { if (d.open && !state.drawn) draw(state); });
    details.push({ el: d, state: state });
    if (p.verdict !== 'linearizable' || nParts <= 3) d.open = true;
    main.appendChild(d);
  });
  function toggleAll(open) { details.forEach(function (x) { x.el.open = open; }); }
  function rerender() { details.forEach(function (x) { if (x.state.drawn) draw(x.state); }); }

  function draw(st) {
    st.drawn = true;
    var p = st.part, body = st.body;
    body.textContent = '';
    var lin = p.linearizations[st.choice];
    if (p.linearizations.length > 1) {
      var choices = h('div', { class: 'choices', text: 'longest partial linearizations: ' });
      p.linearizations.forEach(function (l, i) {
        choices.appendChild(h('button', { class: i === st.choice ? 'on' : '', text: '#' + (i + 1) + ' (' + l.order.length + ' ops)',
          onclick: function () { st.choice = i; draw(st); } }));
      });
      body.appendChild(choices);
    }
    var placed = {}, stuck = {};
    if (lin) {
      lin.order.forEach(function (op, k) { placed[op] = k; });
      lin.stuck.forEach(function (op) { stuck[op] = true; });
    }
    if (p.complete) {
      body.appendChild(h('div', { class: 'note', text: 'A linearization: every completed operation has a point between its call and return; ' +
        'the blue line joins the points in order. Operations that never returned and are not placed never took effect.' }));
    } else if (lin) {
      body.appendChild(h('div', { class: 'note bad', text: 'No linearization exists' +
        (p.verdict === 'unknown (timed out)' ? ' was found before the timeout' : '') + '. The longest linearizable prefix places ' +
        lin.order.length + ' of ' + p.ops.length + ' operations; in the state it leads to (' +
        (lin.order.length ? lin.states[lin.order.length - 1] : data.initial) + '), none of the red operations can go next.' }));
    } else {
      body.appendChild(h('div', { class: 'note', text: 'The search was stopped before it found anything to show.' }));
    }

    // Rows: annotation tags, then clients.
    var clients = [];
    p.ops.forEach(function (i) { var c = data.ops[i].client; if (clients.indexOf(c) < 0) clients.push(c); });
    clients.sort(function (a, b) { return a - b; });
    var tags = [];
    data.annotations.forEach(function (a) { if (tags.indexOf(a.tag) < 0) tags.push(a.tag); });

    // The x scale.
    var stamps = [];
    p.ops.forEach(function (i) { var o = data.ops[i]; stamps.push(o.call); if (o.ret !== null) stamps.push(o.ret); });
    data.annotations.forEach(function (a) { stamps.push(a.start); if (a.end !== null) stamps.push(a.end); });
    stamps.sort(function (a, b) { return a - b; });
    var uniq = stamps.filter(function (t, i) { return i === 0 || t !== stamps[i - 1]; });
    if (!uniq.length) uniq = [t0];
    var x, width;
    if (scale === 'real') {
      var lo = uniq[0], hi = Math.max(uniq[uniq.length - 1], lo + 1);
      width = Math.max(600, Math.round(Math.min(1200, uniq.length * GAP) * zoom));
      x = function (t) { return GUTTER + PAD + (t - lo) / (hi - lo) * width; };
    } else {
      // Few events: spread them over about 1000 px so labels fit.
      var gap = Math.max(GAP, Math.min(90, 1000 / Math.max(1, uniq.length - 1))) * zoom;
      width = Math.max(1, (uniq.length - 1) * gap);
      x = function (t) {
        var a = 0, b = uniq.length - 1;
        if (t <= uniq[0]) return GUTTER + PAD;
        if (t >= uniq[b]) return GUTTER + PAD + b * gap;
        while (b - a > 1) { var m = (a + b) >> 1; if (uniq[m] <= t) a = m; else b = m; }
        return GUTTER + PAD + (a + (t - uniq[a]) / (uniq[b] - uniq[a])) * gap;
      };
    }
    var xEnd = GUTTER + PAD + width + 40;
    var W = xEnd + PAD;
    var top = AXIS + tags.length * LANE + 6;
    var H = top + clients.length * ROW + 8;
    var svg = s('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H });

    // Rows and axis.
    clients.forEach(function (c, r) {
      var y = top + r * ROW;
      if (r % 2 === 0) s('rect', { x: 0, y: y, width: W, height: ROW, fill: '#f7f8fa' }, svg);
      s('text', { x: 8, y: y + ROW / 2 + 4, class: 'client', text: 'client ' + c }, svg);
    });
    tags.forEach(function (t, r) {
      s('text', { x: 8, y: AXIS + r * LANE + LANE / 2 + 4, class: 'client', text: t }, svg);
    });
    s('line', { x1: GUTTER, y1: AXIS - 6, x2: xEnd, y2: AXIS - 6, stroke: '#d0d5dd' }, svg);
    var lastTick = -Infinity;
    var ticks = scale === 'real' ? niceTicks(uniq[0], Math.max(uniq[uniq.length - 1], uniq[0] + 1), Math.max(2, Math.floor(width / 110))) : uniq;
    ticks.forEach(function (t) {
      var tx = x(t);
      if (tx - lastTick < 90) return;
      lastTick = tx;
      s('line', { x1: tx, y1: AXIS - 10, x2: tx, y2: AXIS - 6, stroke: '#98a2b3' }, svg);
      s('text', { x: tx, y: AXIS - 13, class: 'tick', 'text-anchor': 'middle', text: fmt(t) }, svg);
    });

    // Annotations: a band over the clients' rows and a bar (or a dashed line) in their own row.
    data.annotations.forEach(function (a) {
      var r = tags.indexOf(a.tag), y = AXIS + r * LANE + 3;
      var g = s('g', { class: 'ann' }, svg);
      var x1 = x(a.start);
      if (a.end !== null) {
        var x2 = Math.max(x(a.end), x1 + 3);
        s('rect', { x: x1, y: top, width: x2 - x1, height: H - top, class: 'band' }, svg);
        s('rect', { x: x1, y: y, width: x2 - x1, height: LANE - 6 }, g);
        s('text', { x: x1 + 4, y: y + LANE / 2 + 1, text: clip(a.text, x2 - x1 - 8) }, g);
      } else {
        s('line', { x1: x1, y1: y, x2: x1, y2: H }, g);
        s('circle', { cx: x1, cy: y + (LANE - 6) / 2, r: 4 }, g);
        s('text', { x: x1 + 7, y: y + LANE / 2 + 1, text: a.text }, g);
      }
      g.addEventListener('mousemove', function (ev) {
        showTip(ev, [[a.tag + ':', a.text], ['at', fmt(a.start) + (a.end !== null ? ' .. ' + fmt(a.end) : '')]]);
      });
      g.addEventListener('mouseleave', hideTip);
    });

    // Operations.
    var opEls = {}, rowEls = {};
    function highlight(i, on) {
      if (opEls[i]) opEls[i].classList.toggle('hl', on);
      if (rowEls[i]) rowEls[i].classList.toggle('hl', on);
    }
    p.ops.forEach(function (i) {
      var o = data.ops[i];
      var r = clients.indexOf(o.client), y = top + r * ROW + (ROW - BAR) / 2;
      var x1 = x(o.call), x2 = o.ret === null ? xEnd : Math.max(x(o.ret), x1 + 3);
      var cls = stuck[i] ? 'stuck' : placed[i] !== undefined ? 'placed' : 'idle';
      if (o.ret === null) cls += ' pending';
      var g = s('g', { class: 'op ' + cls }, svg);
      s('rect', { x: x1, y: y, width: x2 - x1, height: BAR }, g);
      if (x2 - x1 > 24) s('text', { x: x1 + 4, y: y + BAR / 2 + 4, text: clip(o.desc, x2 - x1 - 8) }, g);
      opEls[i] = g;
      g.addEventListener('mousemove', function (ev) { showTip(ev, opTip(i)); });
      g.addEventListener('mouseenter', function () { highlight(i, true); });
      g.addEventListener('mouseleave', function () { hideTip(); highlight(i, false); });
    });

    // Linearization points: each at or after its call and the previous point.
    if (lin && lin.order.length) {
      var pts = [], px = -Infinity;
      lin.order.forEach(function (i) {
        var o = data.ops[i];
        var hi = o.ret === null ? xEnd : x(o.ret);
        px = Math.min(Math.max(px + 3, x(o.call)), hi);
        pts.push([px, top + clients.indexOf(o.client) * ROW + ROW / 2]);
      });
      s('polyline', { class: 'lin', points: pts.map(function (q) { return q[0] + ',' + q[1]; }).join(' ') }, svg);
      pts.forEach(function (q) { s('circle', { cx: q[0], cy: q[1], r: 3, class: 'pt' }, svg); });
    }

    var scroller = h('div', { class: 'scroll' });
    scroller.appendChild(svg);
    body.appendChild(scroller);

    // The steps, in order, then the operations that cannot go next.
    var rows = [];
    var tbody = h('tbody');
    if (lin) {
      lin.order.forEach(function (i, k) {
        var o = data.ops[i];
        rows.push([i, h('tr', {}, [h('td', { text: String(k + 1) }), h('td', { text: 'client ' + o.client }),
          h('td', { class: 'mono', text: o.desc }), h('td', { class: 'mono', text: lin.states[k] })])]);
      });
      lin.stuck.forEach(function (i) {
        var o = data.ops[i];
        rows.push([i, h('tr', { class: 'stuck' }, [h('td', { text: '✗' }), h('td', { text: 'client ' + o.client }),
          h('td', { class: 'mono', text: o.desc }), h('td', { text: 'cannot go next' })])]);
      });
    }
    rows.forEach(function (pair) {
      var i = pair[0], tr = pair[1];
      rowEls[i] = tr;
      tr.addEventListener('mouseenter', function () { highlight(i, true); });
      tr.addEventListener('mouseleave', function () { highlight(i, false); });
      tbody.appendChild(tr);
    });
    if (rows.length) {
      var initialRow = h('tr', {}, [h('td', { text: '0' }), h('td', { text: '' }), h('td', { class: 'meta', text: '(initial state)' }),
        h('td', { class: 'mono', text: data.initial })]);
      tbody.insertBefore(initialRow, tbody.firstChild);
      var table = h('table', { class: 'steps' }, [
        h('thead', {}, [h('tr', {}, [h('th', { text: '#' }), h('th', { text: 'client' }), h('th', { text: 'operation' }),
          h('th', { text: 'state after' })])]), tbody]);
      body.appendChild(h('div', { class: 'steps-wrap' }, [table]));
    }

    function opTip(i) {
      var o = data.ops[i];
      var lines = [['', o.desc, true], ['client', String(o.client)],
        ['call', fmt(o.call) + ' (t=' + o.call + ')'],
        ['return', o.ret === null ? 'never (may take effect at any later time, or never)' : fmt(o.ret) + ' (t=' + o.ret + ')']];
      if (placed[i] !== undefined) {
        var k = placed[i];
        lines.push(['step', '#' + (k + 1) + ' of ' + lin.order.length]);
        lines.push(['state before', k === 0 ? data.initial : lin.states[k - 1], true]);
        lines.push(['state after', lin.states[k], true]);
      } else if (stuck[i]) {
        var last = lin.order.length ? lin.states[lin.order.length - 1] : data.initial;
        lines.push(['cannot go next:', 'the model rejects it in state ' + last, true]);
      } else if (o.ret === null && p.complete) {
        lines.push(['', 'not placed: it never took effect in this linearization']);
      } else {
        lines.push(['', 'not placed by the longest prefix']);
      }
      return lines;
    }
  }

  function clip(text, px) {
    var n = Math.floor(px / CHAR);
    if (n <= 1) return '';
    return text.length <= n ? text : text.slice(0, n - 1) + '…';
  }
  function niceTicks(lo, hi, count) {
    var span = hi - lo, step = Math.pow(10, Math.floor(Math.log10(span / count)));
    [1, 2, 5, 10].some(function (m) { if (span / (step * m) <= count) { step *= m; return true; } return false; });
    var out = [];
    for (var t = Math.ceil((lo - t0) / step) * step + t0; t <= hi; t += step) out.push(t);
    return out;
  }
})();
