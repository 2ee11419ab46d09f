// The inspector: one packet as the core sees it (run.packet), what the link
// did with it (its trace records), and every endpoint's state at that moment
// (run.states_at).

import { verdictText, verdictClass, fmtTime, fmtUs, statusText } from './trace.js';

function h(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k);
  return e;
}

function table(rows) {
  return h('table', {}, ...rows.filter(Boolean).map(([k, v]) => h('tr', {}, h('td', { text: k }), h('td', { text: String(v) }))));
}

function hexDump(hex, max = 128) {
  const bytes = hex.slice(0, max * 2).match(/../g) ?? [];
  const lines = [];
  for (let i = 0; i < bytes.length; i += 16) {
    lines.push(`${i.toString(16).padStart(4, '0')}  ${bytes.slice(i, i + 16).join(' ')}`);
  }
  if (hex.length > max * 2) lines.push(`… ${hex.length / 2 - max} more bytes`);
  return lines.join('\n');
}

export class Inspector {
  constructor(box) {
    this.box = box;
  }

  clear(message) {
    this.box.replaceChildren(h('p', { class: 'hint', text: message }));
  }

  // session: the Session; packet: its number.
  show(session, packet) {
    const view = session.packet(packet);
    const recs = session.records.filter((r) => {
      const k = r.kind;
      return (k.Link && (k.Link.packet === packet || k.Link.duplicate === packet)) ||
        (k.Delivered && k.Delivered.packet === packet) || (k.NoRoute && k.NoRoute.packet === packet);
    });
    const send = recs.find((r) => r.kind.Link);
    const out = [];
    out.push(h('h4', { text: `Packet #${packet}` }));
    if (send) {
      const L = send.kind.Link;
      const ends = session.ctx.ends(L.on);
      const copyOf = L.packet !== packet ? ` (a duplicate of #${L.packet})` : '';
      out.push(table([
        ['sent', `${fmtTime(send.at)} by ${session.ctx.hosts[ends[0]]}${copyOf}`],
        ['to', session.ctx.hosts[ends[1]]],
        ['link', `${L.on.link}, ${L.on.dir === 0 ? 'a → b' : 'b → a'}`],
        ['length', `${L.len} bytes`],
      ]));
      out.push(h('h4', { text: 'What the link did' }));
      for (const r of recs) {
        const k = r.kind;
        if (k.Link) {
          const cls = verdictClass(k.Link.verdict);
          out.push(h('p', { class: `verdict ${cls}`, text: `${fmtTime(r.at)}: ${verdictText(k.Link.verdict)}` }));
        } else if (k.Delivered) {
          out.push(h('p', { text: `${fmtTime(r.at)}: delivered to ${session.ctx.hosts[k.Delivered.host]} (${fmtUs(r.at - send.at)} after sending)` }));
        } else if (k.NoRoute) {
          out.push(h('p', { class: 'verdict drop', text: `${fmtTime(r.at)}: no route from ${session.ctx.hosts[k.NoRoute.host]}` }));
        }
      }
    }
    if (view) {
      const ip = view.ip;
      out.push(h('h4', { text: 'IPv4' }));
      out.push(table([
        ['src → dst', `${ip.src} → ${ip.dst}`],
        ['version / ihl', `${ip.version} / ${ip.ihl} bytes`],
        ['tos', ip.tos], ['total length', ip.total_len], ['id', ip.id], ['ttl', ip.ttl],
        ['protocol', ip.protocol], ['checksum', ip.checksum],
      ]));
      if (view.tcp) {
        const t = view.tcp;
        const isn = session.isn(ip.src, t.src_port, ip.dst, t.dst_port);
        const peer = session.isn(ip.dst, t.dst_port, ip.src, t.src_port);
        out.push(h('h4', { text: 'TCP' }));
        out.push(table([
          ['ports', `${t.src_port} → ${t.dst_port}`],
          ['flags', t.flags.join(' ') || '(none)'],
          ['seq', isn === null ? t.seq : `${t.seq} (relative ${(t.seq - isn) >>> 0})`],
          ['ack', peer === null || !t.flags.includes('ACK') ? t.ack : `${t.ack} (relative ${(t.ack - peer) >>> 0})`],
          ['window', t.window], ['data offset', `${t.data_offset} bytes`],
          ['checksum', t.checksum], ['urgent', t.urgent],
        ]));
      }
      if (view.udp) {
        const u = view.udp;
        out.push(h('h4', { text: 'UDP' }));
        out.push(table([['ports', `${u.src_port} → ${u.dst_port}`], ['length', u.length], ['checksum', u.checksum]]));
      }
      out.push(h('h4', { text: `Payload: ${view.payload_len} bytes${view.protocol ? ` · ${view.protocol}` : ''}${view.truncated ? ' · first 512 kept' : ''}` }));
      if (view.decoded?.length) {
        out.push(h('p', { class: 'hint', text: 'decoded by the core:' }));
        out.push(h('pre', { class: 'decoded', text: view.decoded.join('\n') }));
      }
      if (view.payload_len) {
        if (view.payload_text) out.push(h('pre', { text: view.payload_text }));
        out.push(h('pre', { text: hexDump(view.payload_hex) }));
      }
    } else {
      out.push(h('p', { class: 'hint', text: 'The core kept no bytes of this packet.' }));
    }
    if (send) {
      out.push(h('h4', { text: `Endpoints at ${fmtTime(send.at)}` }));
      try {
        const states = session.statesAt(send.at);
        out.push(h('table', {}, ...states.map((s) => h('tr', {},
          h('td', { text: `${s.host}: ${s.kind}` }),
          h('td', { text: [statusText(s.status), s.socket, s.phase, `${s.delivered} B`, s.retries ? `${s.retries} retries` : '', s.last_note ? `“${s.last_note}”` : ''].filter(Boolean).join(' · ') }),
        ))));
      } catch (e) {
        out.push(h('p', { class: 'error', text: e.message }));
      }
    }
    this.box.replaceChildren(...out);
  }
}
