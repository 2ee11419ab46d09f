// Downloads through an <a download> click on the page: Chromium opens some
// blobs in a tab otherwise. The object URL is revoked a while later, not right
// after click(), or the download can be cut off.

export function download(name, bytes, type) {
  const blob = bytes instanceof Blob ? bytes : new Blob([bytes], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  setTimeout(() => {
    URL.revokeObjectURL(url);
    a.remove();
  }, 60_000);
}

export function baseName(session) {
  const name = (session.scenario.name || 'scenario').replace(/[^A-Za-z0-9._-]+/g, '-');
  return `${name}-seed${session.seed}`;
}

export function downloadPcap(session) {
  download(`${baseName(session)}.pcap`, session.pcap(), 'application/vnd.tcpdump.pcap');
}

export function downloadTrace(session) {
  download(`${baseName(session)}.jsonl`, session.traceJsonl(), 'application/x-ndjson');
}

export function downloadSvg(session, lanes) {
  download(`${baseName(session)}.svg`, lanes.svgText(), 'image/svg+xml');
}
