// A run as a URL: `?preset=NAME&seed=N` for a preset as it is, or
// `?scenario=<base64url of the scenario's JSON>&seed=N` for anything edited.
// The seed and scenario fully decide a run, so the link reproduces it exactly.

function toBase64Url(text) {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(s) {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

export function shareUrl(base, { preset, scenario, seed }) {
  const u = new URL(base);
  u.search = '';
  u.hash = '';
  if (preset) u.searchParams.set('preset', preset);
  else u.searchParams.set('scenario', toBase64Url(JSON.stringify(scenario)));
  u.searchParams.set('seed', String(seed));
  return u.href;
}

// What the page's own URL asks for, or null. Throws with a sentence when the
// scenario parameter is not readable.
export function fromLocation(loc) {
  const q = new URL(loc.href).searchParams;
  const seed = q.get('seed');
  if (q.has('scenario')) {
    let text;
    try {
      text = fromBase64Url(q.get('scenario'));
    } catch {
      throw new Error('The link\'s scenario= is not valid base64url.');
    }
    return { scenarioText: text, seed };
  }
  if (q.has('preset')) return { preset: q.get('preset'), seed };
  return null;
}
