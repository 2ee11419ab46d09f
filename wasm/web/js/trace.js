// Reading the core's trace records for display. Nothing here decides what a
// packet means to a protocol: it only names what the record already says.

export const DROP_REASONS = {
  Loss: 'lost',
  QueueFull: 'queue overflow',
  Mtu: 'too big for the MTU',
  Partition: 'partition',
  NoRoute: 'no route',
};

const FLAG_NAMES = [[2, 'SYN'], [1, 'FIN'], [4, 'RST'], [8, 'PSH'], [16, 'ACK']];

export function kindOf(rec) {
  return Object.keys(rec.kind)[0] ?? String(rec.kind);
}

export function tcpFlags(bits) {
  return FLAG_NAMES.filter(([b]) => bits & b).map(([, n]) => n);
}

// The context a record needs to name hosts: the scenario's host names and
// links, and the apps list (app index -> host name).
export class TraceContext {
  constructor(scenario, apps) {
    this.hosts = scenario.hosts.slice();
    this.links = scenario.links.map((l) => ({
      a: this.hosts.indexOf(l.a),
      b: this.hosts.indexOf(l.b),
    }));
    this.apps = apps;
  }

  // Sender and receiver host indexes of a Link record; dir 0 is a -> b.
  ends(on) {
    const l = this.links[on.link];
    if (!l) return [0, 0];
    return on.dir === 0 ? [l.a, l.b] : [l.b, l.a];
  }

  appHost(app) {
    const a = this.apps.find((x) => x.index === app);
    return a ? this.hosts.indexOf(a.host) : -1;
  }

  // The host a record happens on, for the log's filter.
  hostOf(rec) {
    const k = rec.kind;
    if (k.Link) return this.ends(k.Link.on)[0];
    if (k.Delivered) return k.Delivered.host;
    if (k.Started) return k.Started.host;
    if (k.NoRoute) return k.NoRoute.host;
    if (k.App) return this.appHost(k.App.app);
    return -1;
  }
}

// "SYN ACK" / "ACK 1460 B" / "UDP 24 B": what the arrow is labelled with.
export function packetLabel(link) {
  const t = link.info && link.info.transport;
  if (!t) return `${link.len} B`;
  if (t.Tcp) {
    const f = tcpFlags(t.Tcp.flags).filter((n) => n !== 'PSH');
    const parts = f.length ? [f.join(' ')] : [];
    if (t.Tcp.payload) parts.push(`${t.Tcp.payload} B`);
    return parts.join(' ');
  }
  if (t.Udp) return `UDP ${t.Udp.payload} B`;
  if (t.Other !== undefined) return `proto ${t.Other}`;
  return `${link.len} B`;
}

// One short sentence on what the link did with the packet.
export function verdictText(v) {
  if (v === 'Hold') return 'held by the link (hold)';
  if (v.Drop) return `dropped: ${DROP_REASONS[v.Drop] ?? v.Drop}`;
  const c = v.Carry;
  if (!c) return JSON.stringify(v);
  const bits = [`carried, arrives after ${fmtUs(c.after_us)}`];
  if (c.queued_us) bits.push(`${fmtUs(c.queued_us)} of it queued`);
  if (c.reordered) bits.push('reordered');
  if (c.corrupted) bits.push(`corrupted (byte ${c.corrupted[0]}, bit ${c.corrupted[1]})`);
  if (c.duplicate_after_us !== null && c.duplicate_after_us !== undefined) {
    bits.push(`duplicated (copy after ${fmtUs(c.duplicate_after_us)})`);
  }
  return bits.join(', ');
}

export function fmtUs(us) {
  if (us >= 1e6) return `${(us / 1e6).toFixed(3)} s`;
  if (us >= 1e3) return `${(us / 1e3).toFixed(us % 1000 ? 1 : 0)} ms`;
  return `${us} µs`;
}

export function fmtTime(us) {
  return `${(us / 1e6).toFixed(6)} s`;
}

// The event log's text for a record.
export function describe(rec, ctx) {
  const k = rec.kind;
  const name = (h) => ctx.hosts[h] ?? `host ${h}`;
  if (k.Begin) return `simulation begins, seed ${k.Begin.seed}`;
  if (k.Started) return `app ${k.Started.app} starts on ${name(k.Started.host)}`;
  if (k.Link) {
    const L = k.Link;
    const [s, d] = ctx.ends(L.on);
    const dup = L.duplicate !== null && L.duplicate !== undefined ? ` (copy #${L.duplicate})` : '';
    return `#${L.packet} ${name(s)} → ${name(d)} ${packetLabel(L)}: ${verdictText(L.verdict)}${dup}`;
  }
  if (k.Delivered) return `#${k.Delivered.packet} delivered to ${name(k.Delivered.host)}`;
  if (k.NoRoute) return `#${k.NoRoute.packet} has no route from ${name(k.NoRoute.host)}`;
  if (k.App) return `app ${k.App.app}: ${k.App.note}`;
  if (k.Changed) return `link ${k.Changed.on.link} dir ${k.Changed.on.dir} gets a new profile`;
  return JSON.stringify(k);
}

// A verdict's category, which the diagram and the log colour alike.
export function verdictClass(v) {
  if (v === 'Hold') return 'hold';
  if (v.Drop) return v.Drop === 'QueueFull' ? 'overflow' : 'drop';
  const c = v.Carry;
  if (c.corrupted) return 'corrupt';
  if (c.reordered) return 'reorder';
  return 'carry';
}

export function outcomeText(o) {
  if (o === 'Completed') return 'completed';
  if (o === 'DidNotFinish') return 'did not finish';
  if (o && o.Failed !== undefined) return `failed: ${o.Failed}`;
  return JSON.stringify(o);
}

export function statusText(s) {
  if (typeof s === 'string') return s;
  if (s && s.Failed !== undefined) return `Failed: ${s.Failed}`;
  return JSON.stringify(s);
}
