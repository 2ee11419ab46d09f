// The event log: every trace record as a line, filterable by host and kind;
// clicking a packet's line selects it in the diagram, and selecting a packet
// anywhere highlights its lines here.

import { kindOf, describe, verdictClass, fmtTime } from './trace.js';

const MAX_ROWS = 20000;

export class EventLog {
  constructor({ box, hostSelect, kindSelect, count, onSelect, onRecord }) {
    this.box = box;
    this.hostSelect = hostSelect;
    this.kindSelect = kindSelect;
    this.count = count;
    this.onSelect = onSelect;
    this.onRecord = onRecord;
    this.rows = [];
    hostSelect.addEventListener('change', () => this.filter());
    kindSelect.addEventListener('change', () => this.filter());
    box.addEventListener('click', (e) => {
      const tr = e.target.closest('tr');
      if (!tr) return;
      for (const x of this.box.querySelectorAll('tr.sel')) x.classList.remove('sel');
      tr.classList.add('sel');
      if (tr.dataset.packet !== undefined) this.onSelect(Number(tr.dataset.packet));
      else this.onRecord(Number(tr.dataset.i));
    });
  }

  show(session) {
    const ctx = session.ctx;
    this.hostSelect.replaceChildren(new Option('all', ''), ...ctx.hosts.map((n, i) => new Option(n, String(i))));
    const table = document.createElement('table');
    const body = document.createElement('tbody');
    table.append(body);
    this.rows = [];
    const recs = session.records.slice(0, MAX_ROWS);
    recs.forEach((r, i) => {
      const kind = kindOf(r);
      const host = ctx.hostOf(r);
      const tr = document.createElement('tr');
      tr.dataset.kind = kind;
      tr.dataset.i = String(i);
      tr.dataset.host = String(host);
      const k = r.kind;
      const packet = k.Link?.packet ?? k.Delivered?.packet ?? k.NoRoute?.packet;
      if (packet !== undefined) tr.dataset.packet = String(packet);
      if (k.Link) {
        tr.classList.add(verdictClass(k.Link.verdict));
        if (k.Link.duplicate != null) tr.dataset.dup = String(k.Link.duplicate);
      }
      if (k.NoRoute) tr.classList.add('drop');
      if (k.App) tr.classList.add('app');
      for (const text of [fmtTime(r.at), ctx.hosts[host] ?? '', kind, describe(r, ctx)]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      body.append(tr);
      this.rows.push(tr);
    });
    this.box.replaceChildren(table);
    this.total = session.records.length;
    this.filter();
  }

  filter() {
    const host = this.hostSelect.value;
    const kind = this.kindSelect.value;
    let shown = 0;
    for (const tr of this.rows) {
      const ok = (host === '' || tr.dataset.host === host) &&
        (kind === '' || (kind === 'drops' ? tr.classList.contains('drop') || tr.classList.contains('overflow') : tr.dataset.kind === kind));
      tr.hidden = !ok;
      if (ok) shown++;
    }
    const cut = this.total > MAX_ROWS ? ` (the first ${MAX_ROWS} of ${this.total})` : '';
    this.count.textContent = `${shown} of ${this.rows.length} events${cut}`;
  }

  select(packet) {
    let first = null;
    for (const tr of this.box.querySelectorAll('tr.sel')) tr.classList.remove('sel');
    for (const tr of this.rows) {
      if (tr.dataset.packet === String(packet) || tr.dataset.dup === String(packet)) {
        tr.classList.add('sel');
        if (!first && !tr.hidden) first = tr;
      }
    }
    if (first) {
      const top = first.offsetTop - this.box.clientHeight / 3;
      this.box.scrollTop = Math.max(0, top);
    }
  }
}
