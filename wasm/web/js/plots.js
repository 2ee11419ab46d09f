// Plots of a finished run, drawn with uPlot from the trace records: a
// tcptrace-style time-sequence graph, goodput over time, and queue depth.
// A "retransmission" here is what tcptrace draws as one: a segment that
// starts below the highest sequence number already sent on its flow.

import uPlot from '../vendor/uplot/uPlot.esm.js';

const BIN_US = 100_000;

function flowKey(info, t) {
  return `${info.src.join('.')}:${t.src_port}>${info.dst.join('.')}:${t.dst_port}`;
}

function reverseKey(info, t) {
  return `${info.dst.join('.')}:${t.dst_port}>${info.src.join('.')}:${t.src_port}`;
}

// Per TCP flow: the ISN (from its SYN) and the bytes it carried.
export function tcpFlows(records) {
  const flows = new Map();
  for (const r of records) {
    const L = r.kind.Link;
    const t = L?.info?.transport?.Tcp;
    if (!t) continue;
    const k = flowKey(L.info, t);
    let f = flows.get(k);
    if (!f) flows.set(k, (f = { key: k, isn: null, bytes: 0 }));
    if (t.flags & 2 && f.isn === null) f.isn = t.seq;
    f.bytes += t.payload;
  }
  return flows;
}

function emptyNote(box, text) {
  const p = document.createElement('p');
  p.className = 'none';
  p.textContent = text;
  box.replaceChildren(p);
}

// A red line at the playback time, like the diagram's.
function nowLine(plots) {
  return {
    hooks: {
      draw: [(u) => {
        if (plots.nowUs == null) return;
        const x = u.valToPos(plots.nowUs / 1e6, 'x', true);
        if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
        const c = u.ctx;
        c.save();
        c.strokeStyle = '#e11d48';
        c.lineWidth = 1;
        c.beginPath();
        c.moveTo(x, u.bbox.top);
        c.lineTo(x, u.bbox.top + u.bbox.height);
        c.stroke();
        c.restore();
      }],
    },
  };
}

function opts(box, title, series, extra = {}) {
  return {
    plugins: [nowLine(extra.plots)],
    width: Math.max(300, box.clientWidth || 800),
    height: 220,
    title,
    cursor: { sync: { key: 'wk-plots' } },
    scales: { x: { time: false } },
    axes: [{ label: 'time (s)', size: 36 }, { label: extra.yLabel ?? '', size: 84 }],
    legend: { live: true },
    series: [{ label: 't (s)', value: (u, v) => (v == null ? '' : v.toFixed(4)) }, ...series],
    ...extra.more,
  };
}

export class Plots {
  constructor(boxes, onSelect) {
    this.boxes = boxes;
    this.onSelect = onSelect;
    this.plots = [];
  }

  setNow(us) {
    this.nowUs = us;
    for (const p of this.plots) p.redraw(false, false);
  }

  destroy() {
    for (const p of this.plots) p.destroy();
    this.plots = [];
  }

  draw(session) {
    this.destroy();
    for (const box of Object.values(this.boxes)) box.replaceChildren();
    const recs = session.records;
    this.seq(recs);
    this.goodput(recs);
    this.queue(recs, session.ctx);
  }

  seq(recs) {
    const box = this.boxes.seq;
    const flows = tcpFlows(recs);
    let main = null;
    for (const f of flows.values()) if (f.isn !== null && (!main || f.bytes > main.bytes)) main = f;
    if (!main || main.bytes === 0) {
      emptyNote(box, 'No TCP data in this run: the time-sequence graph is for TCP flows.');
      return;
    }
    const rev = main.key.split('>').reverse().join('>');
    const xs = [], data = [], rtx = [], drop = [], ack = [], pkts = [];
    let high = 0;
    for (const r of recs) {
      const L = r.kind.Link;
      const t = L?.info?.transport?.Tcp;
      if (!t) continue;
      const k = flowKey(L.info, t);
      if (k === main.key && t.payload > 0) {
        const start = (t.seq - main.isn) >>> 0;
        const end = start + t.payload;
        const isRtx = start < high;
        high = Math.max(high, end);
        xs.push(r.at / 1e6); pkts.push(L.packet);
        const dropped = !!L.verdict.Drop;
        data.push(!isRtx && !dropped ? end : null);
        rtx.push(isRtx && !dropped ? end : null);
        drop.push(dropped ? end : null);
        ack.push(null);
      } else if (reverseKey(L.info, t) === main.key && t.flags & 16) {
        xs.push(r.at / 1e6); pkts.push(L.packet);
        data.push(null); rtx.push(null); drop.push(null);
        ack.push((t.ack - main.isn) >>> 0);
      }
    }
    const pts = (stroke, size) => ({ show: true, size, stroke, fill: stroke });
    const o = opts(box, `flow ${main.key.replace('>', ' → ')}`, [
      { label: 'data', stroke: '#2463c7', paths: () => null, points: pts('#2463c7', 3) },
      { label: 'retransmitted', stroke: '#d97706', paths: () => null, points: pts('#d97706', 6) },
      { label: 'dropped', stroke: '#c62828', paths: () => null, points: pts('#c62828', 7) },
      { label: 'ack', stroke: '#138a52', width: 1, spanGaps: true, paths: uPlot.paths.stepped({ align: 1 }), points: { show: false } },
    ], { yLabel: 'relative seq (bytes)', plots: this });
    const u = new uPlot(o, [xs, data, rtx, drop, ack], box);
    u.over.addEventListener('click', () => {
      const i = u.cursor.idx;
      if (i != null && pkts[i] !== undefined) this.onSelect(pkts[i]);
    });
    this.plots.push(u);
  }

  goodput(recs) {
    const box = this.boxes.goodput;
    const sent = new Map();
    const highest = new Map();
    const bins = new Map();
    let last = 0;
    for (const r of recs) {
      const k = r.kind;
      if (k.Link) {
        sent.set(k.Link.packet, k.Link);
        if (k.Link.duplicate != null) sent.set(k.Link.duplicate, k.Link);
      }
      if (!k.Delivered) continue;
      const L = sent.get(k.Delivered.packet);
      const tr = L?.info?.transport;
      if (!tr) continue;
      let fresh = 0;
      if (tr.Tcp && tr.Tcp.payload) {
        const key = flowKey(L.info, tr.Tcp);
        const start = tr.Tcp.seq;
        const end = start + tr.Tcp.payload;
        const hi = highest.get(key);
        // Sequence space wraps at 2^32; the first segment seen sets the base.
        const rel = (x) => (hi === undefined ? 0 : ((x - hi.base) >>> 0));
        if (hi === undefined) {
          highest.set(key, { base: start, high: tr.Tcp.payload });
          fresh = tr.Tcp.payload;
        } else {
          const e = rel(end);
          if (e > hi.high && e < 2 ** 31) {
            fresh = e - Math.max(hi.high, rel(start));
            hi.high = e;
          }
        }
      } else if (tr.Udp) {
        fresh = tr.Udp.payload;
      }
      const b = Math.floor(r.at / BIN_US);
      bins.set(b, (bins.get(b) ?? 0) + fresh);
      last = Math.max(last, b);
    }
    if (bins.size === 0) {
      emptyNote(box, 'No payload was delivered in this run.');
      return;
    }
    const peak = Math.max(...bins.values()) * 8 / (BIN_US / 1e6);
    // Datagram runs move a few hundred bit/s: say so in kbit/s, not 0.000 Mbit/s.
    const [unit, div] = peak >= 1e6 ? ['Mbit/s', 1e6] : ['kbit/s', 1e3];
    const xs = [], ys = [];
    for (let b = 0; b <= last; b++) {
      xs.push((b * BIN_US) / 1e6);
      ys.push(((bins.get(b) ?? 0) * 8) / (BIN_US / 1e6) / div);
    }
    const u = new uPlot(opts(box, '', [
      { label: `goodput (${unit})`, stroke: '#2463c7', fill: 'rgba(36,99,199,.12)', paths: uPlot.paths.stepped({ align: 1 }), value: (u2, v) => (v == null ? '' : v.toFixed(3)) },
    ], { yLabel: unit, plots: this }), [xs, ys], box);
    this.plots.push(u);
  }

  queue(recs, ctx) {
    const box = this.boxes.queue;
    const dirs = new Map(); // "link/dir" -> index
    const changes = []; // [t, dirIndex, delta]
    const open = new Map(); // packet -> dirIndex
    for (const r of recs) {
      const k = r.kind;
      if (k.Link && k.Link.verdict.Carry) {
        const dk = `${k.Link.on.link}/${k.Link.on.dir}`;
        if (!dirs.has(dk)) dirs.set(dk, dirs.size);
        const d = dirs.get(dk);
        changes.push([r.at, d, 1]);
        open.set(k.Link.packet, d);
        if (k.Link.duplicate != null && k.Link.verdict.Carry.duplicate_after_us != null) {
          changes.push([r.at, d, 1]);
          open.set(k.Link.duplicate, d);
        }
      } else if (k.Delivered && open.has(k.Delivered.packet)) {
        changes.push([r.at, open.get(k.Delivered.packet), -1]);
        open.delete(k.Delivered.packet);
      }
    }
    if (changes.length === 0) {
      emptyNote(box, 'Nothing was carried in this run.');
      return;
    }
    const n = dirs.size;
    const depth = new Array(n).fill(0);
    const xs = [];
    const ys = Array.from({ length: n }, () => []);
    for (const [t, d, delta] of changes) {
      depth[d] += delta;
      const x = t / 1e6;
      if (xs.length && xs[xs.length - 1] === x) {
        for (let i = 0; i < n; i++) ys[i][ys[i].length - 1] = depth[i];
      } else {
        xs.push(x);
        for (let i = 0; i < n; i++) ys[i].push(depth[i]);
      }
    }
    const colours = ['#2463c7', '#138a52', '#8e24aa', '#d97706'];
    const series = [...dirs.keys()].map((dk, i) => {
      const [link, dir] = dk.split('/').map(Number);
      const [s, d] = ctx.ends({ link, dir });
      return { label: `${ctx.hosts[s]} → ${ctx.hosts[d]}`, stroke: colours[i % 4], paths: uPlot.paths.stepped({ align: 1 }) };
    });
    const u = new uPlot(opts(box, '', series, { yLabel: 'packets', plots: this }), [xs, ...ys], box);
    this.plots.push(u);
  }
}
