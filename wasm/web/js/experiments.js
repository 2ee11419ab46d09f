// Guided experiments: a question, a button that sets the scenario up, and
// what to look for. Each starts from a preset and changes what the question
// is about; the runs are the simulator's, nothing is staged.

const $ = (id) => document.getElementById(id);

const EXPERIMENTS = [
  {
    id: 'udp-gives-up',
    question: 'Why does the UDP client give up?',
    preset: 'udp-echo-backoff',
    seed: '7',
    setup: (s) => s,
    asIs: true,
    look: 'Each request the client sends waits for its echo; half of the datagrams are lost each way, so it retries, waiting 100 ms, then 200, 400… (the compressed gaps are labelled). Follow the client lane\'s notes: after the fifth attempt of one request it reports the server as down, and the outcome turns to failed. Lower the loss in the link controls to 10% and run again: the same client now finishes.',
  },
  {
    id: 'tftp-lockstep',
    question: 'Make TFTP lock-step crawl',
    preset: 'tftp-lossy',
    seed: '7',
    setup: (s) => {
      const get = s.apps.find((a) => a.workload.kind === 'tftp-get');
      if (get) { get.workload.windowsize = null; get.workload.blksize = null; }
      for (const l of s.links) { l.a_to_b = 'delay 50ms'; l.b_to_a = 'delay 50ms'; }
      return s;
    },
    look: 'Without a windowsize, RFC 1350 TFTP sends one 512-byte block and waits for its ACK: one round trip (100 ms here) per block, 512 blocks for 256 KiB. The diagram is a zig-zag, the goodput plot a flat line near 0.04 Mbit/s. Now set windowsize to 8 and blksize to 1468 in the workload and run again: count how many blocks fly per round trip.',
  },
  {
    id: 'loss-threshold',
    question: 'At what loss rate does the 1 MiB transfer stop finishing in 10 s?',
    preset: 'tcp-transfer-lossy',
    seed: '7',
    setup: (s) => {
      s.time_limit_ms = 10000;
      for (const l of s.links) { l.a_to_b = 'delay 20ms loss random 0.5%'; l.b_to_a = 'delay 20ms loss random 0.5%'; }
      return s;
    },
    after: () => document.getElementById('sweep').scrollIntoView({ block: 'start' }),
    look: 'The time limit is now 10 s and the loss 0.5% each way. Run the seed sweep below, note how many seeds complete, then raise the loss in the link controls (0.75%, 1%, 1.5%…) and sweep again. Where does "completed" stop being the common case? Open a seed that did not finish and watch the retransmissions in the time-sequence plot.',
  },
  {
    id: 'partition-heals',
    question: 'What does TCP do while the link is cut?',
    preset: 'tcp-transfer-clean',
    seed: '7',
    setup: (s) => {
      s.changes = [
        { at_ms: 500, link: 0, direction: 'both', profile: 'delay 20ms partition' },
        { at_ms: 4000, link: 0, direction: 'both', profile: 'delay 20ms' },
      ];
      return s;
    },
    look: 'From 0.5 s to 4 s every packet is dropped with the reason "partition". Watch the server\'s retransmissions: each waits twice as long as the one before (TCP\'s exponential backoff). When the link heals, the next retransmission gets through, and slow start begins again: see the time-sequence plot.',
  },
];

export function setupExperiments(api, presets) {
  const box = $('experiment-list');
  box.replaceChildren();
  for (const ex of EXPERIMENTS) {
    const p = presets.find((x) => x.name === ex.preset);
    if (!p) continue;
    const card = document.createElement('article');
    card.className = 'experiment';
    card.id = `experiment-${ex.id}`;
    const h = document.createElement('h3');
    h.textContent = ex.question;
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'primary';
    b.textContent = 'Set it up and run';
    b.addEventListener('click', () => {
      const s = ex.setup(structuredClone(p.scenario));
      if (!ex.asIs) {
        s.name = `${ex.preset}-${ex.id}`;
        s.description = `experiment: ${ex.question}`;
      }
      api.open(s, ex.seed);
      ex.after?.();
    });
    const d = document.createElement('details');
    const s = document.createElement('summary');
    s.textContent = 'What to look for';
    const t = document.createElement('p');
    t.textContent = ex.look;
    d.append(s, t);
    const from = document.createElement('p');
    from.className = 'hint';
    from.textContent = `starts from the preset ${ex.preset}, seed ${ex.seed}`;
    card.append(h, from, b, d);
    box.append(card);
  }
}
