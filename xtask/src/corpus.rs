//! `cargo xtask corpus`: seed corpora from real traffic. The servers run
//! in this process on loopback ports, the interop tests' third-party
//! clients (curl, tftp-hpa, atftp, busybox tftp, rdate, nc, socat) talk to
//! them while `dumpcap` captures loopback, and `tshark` reads the capture
//! back. Each conversation becomes a few small inputs for the fuzz targets
//! that parse or run what it carried, written in the input type each
//! target reads (see [`arb`]) to `fuzz/seeds/TARGET/`, which is committed.
//! `cargo xtask fuzz` hands that folder to libFuzzer beside the target's
//! working corpus, so every run starts from traffic real peers send.

mod arb;

use anyhow::{Context, Result, bail};
use arb::Arb;
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use wirekit::server::{self, Config};
use wirekit::services::{Proto, Service};
use wirekit_core::tftp::Rollover;
use wirekit_core::wire::tftp::{Mode, OptionKind, Packet, Request, parse};

/// Most seed files per target, and most bytes of traffic in one: a handful
/// of small files, so the corpus stays readable and quick to load.
const MAX_FILES: usize = 12;
const MAX_TRAFFIC: usize = 1800;

/// Files the server offers: one under a block, one over a few.
const SMALL: &[u8] = b"hello, wirekit\n";
const BLOCK_LEN: usize = 1200;
/// What clients upload.
const UPLOAD_LEN: usize = 700;

#[derive(clap::Args, Clone, Debug)]
pub struct CorpusArgs {
    /// Keep the capture (pcapng) here too, for Wireshark.
    #[arg(long)]
    pub pcap: Option<PathBuf>,
}

/// Where a target's committed seeds live.
pub fn seeds(target: &str) -> PathBuf {
    crate::root().join("fuzz/seeds").join(target)
}

fn tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .map(PathBuf::from)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn pattern(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(seed) ^ (i >> 7)) as u8)
        .collect()
}

pub fn run(args: &CorpusArgs) -> Result<()> {
    let (Some(dumpcap), Some(tshark)) = (tool("dumpcap"), tool("tshark")) else {
        bail!("dumpcap and tshark are needed: apt-get install -y tshark");
    };
    let work = crate::root().join("target/corpus");
    let _ = std::fs::remove_dir_all(&work);
    let (root, local) = (work.join("root"), work.join("local"));
    std::fs::create_dir_all(&root).context("create target/corpus/root")?;
    std::fs::create_dir_all(&local).context("create target/corpus/local")?;
    std::fs::write(root.join("small.txt"), SMALL)?;
    std::fs::write(root.join("block.bin"), pattern(BLOCK_LEN, 31))?;
    std::fs::write(local.join("up.bin"), pattern(UPLOAD_LEN, 17))?;

    let mut config = Config::ephemeral(root.clone());
    config.tftp_write = true;
    let running = server::start(&config).context("start the servers")?;
    let port = |s, p| running.addr(s, p).map_or(0, |a| a.port());
    let ports = Ports {
        echo: port(Service::Echo, Proto::Tcp),
        echo_u: port(Service::Echo, Proto::Udp),
        daytime: port(Service::Daytime, Proto::Tcp),
        daytime_u: port(Service::Daytime, Proto::Udp),
        time: port(Service::Time, Proto::Tcp),
        time_u: port(Service::Time, Proto::Udp),
        stamp: port(Service::Stamp, Proto::Tcp),
        stamp_u: port(Service::Stamp, Proto::Udp),
        wkft: port(Service::Transfer, Proto::Tcp),
        tftp: port(Service::Tftp, Proto::Udp),
    };

    let pcap = work.join("capture.pcapng");
    let capture = Capture::start(&dumpcap, &ports, &pcap)?;
    let sessions = sessions(&ports, &local);
    let mut ran = 0;
    for s in &sessions {
        match s.run() {
            Ok(()) => ran += 1,
            Err(e) => eprintln!("    {}: {e:#}", s.label),
        }
    }
    // The last packets reach dumpcap a moment after the peers exit.
    std::thread::sleep(Duration::from_millis(500));
    capture.stop()?;
    running.stop();
    if let Some(to) = &args.pcap {
        std::fs::copy(&pcap, to)
            .with_context(|| format!("copy the capture to {}", to.display()))?;
    }
    let packets = read_capture(&tshark, &pcap)?;
    eprintln!(
        "==> {ran} of {} sessions ran; {} packets with payload captured",
        sessions.len(),
        packets.len()
    );
    let files: BTreeMap<&str, usize> = [("small.txt", SMALL.len()), ("block.bin", BLOCK_LEN)]
        .into_iter()
        .collect();
    let mut by_target: BTreeMap<&'static str, Vec<Vec<u8>>> = BTreeMap::new();
    for (target, input) in seed_inputs(&packets, &ports, &files) {
        let list = by_target.entry(target).or_default();
        if !list.contains(&input) && list.len() < MAX_FILES {
            list.push(input);
        }
    }
    for (target, inputs) in &by_target {
        let dir = seeds(target);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
        let mut bytes = 0;
        for input in inputs {
            // Named by content, as libFuzzer names what it keeps.
            let name: String = Sha256::digest(input)
                .iter()
                .take(10)
                .map(|b| format!("{b:02x}"))
                .collect();
            std::fs::write(dir.join(name), input)?;
            bytes += input.len();
        }
        eprintln!("    {target}: {} seeds, {bytes} bytes", inputs.len());
    }
    Ok(())
}

/// The server's ports.
#[derive(Debug)]
struct Ports {
    echo: u16,
    echo_u: u16,
    daytime: u16,
    daytime_u: u16,
    time: u16,
    time_u: u16,
    stamp: u16,
    stamp_u: u16,
    wkft: u16,
    tftp: u16,
}

/// dumpcap on loopback, stopped by its own PID.
struct Capture(Child);

impl Capture {
    fn start(dumpcap: &Path, p: &Ports, out: &Path) -> Result<Self> {
        // Other programs use loopback too: only our TCP ports, and UDP
        // (TFTP answers from ports of its own; the flows are picked out by
        // the client ports that sent requests).
        let tcp: Vec<String> = [p.echo, p.daytime, p.time, p.stamp, p.wkft]
            .iter()
            .map(|port| format!("tcp port {port}"))
            .collect();
        let filter = format!("{} or udp", tcp.join(" or "));
        let mut child = Command::new(dumpcap)
            .args(["-q", "-i", "lo", "-f", &filter, "-w"])
            .arg(out)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("start dumpcap")?;
        // It says so on stderr once it captures.
        let mut stderr = child.stderr.take().context("dumpcap's stderr")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 256];
            let mut seen = Vec::new();
            while let Ok(n) = std::io::Read::read(&mut stderr, &mut buf) {
                if n == 0 {
                    break;
                }
                seen.extend_from_slice(&buf[..n]);
                if seen.windows(9).any(|w| w == b"Capturing") {
                    let _ = tx.send(());
                }
            }
        });
        if rx.recv_timeout(Duration::from_secs(10)).is_err() {
            let _ = child.kill();
            let _ = child.wait();
            bail!("dumpcap did not start capturing on lo (is it allowed to capture?)");
        }
        Ok(Capture(child))
    }

    fn stop(mut self) -> Result<()> {
        // SIGINT: dumpcap finishes the file. Only our child's PID.
        let pid = self.0.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if self.0.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.0.kill()?;
        self.0.wait()?;
        Ok(())
    }
}

/// One run of a third-party client, its standard input written a piece
/// at a time so that each piece is a segment of its own.
struct Session {
    label: String,
    tool: &'static str,
    args: Vec<String>,
    script: Vec<Vec<u8>>,
}

impl Session {
    fn typing(mut self, pieces: &[&[u8]]) -> Self {
        self.script = pieces.iter().map(|p| p.to_vec()).collect();
        self
    }

    fn run(&self) -> Result<()> {
        let Some(path) = tool(self.tool) else {
            bail!("not installed; its traffic is left out (see shared/PEERS.md)");
        };
        let mut child = Command::new(path)
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("start {}", self.tool))?;
        if let Some(mut stdin) = child.stdin.take() {
            for piece in &self.script {
                std::thread::sleep(Duration::from_millis(150));
                let _ = stdin.write_all(piece);
                let _ = stdin.flush();
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait()? {
                if !status.success() {
                    eprintln!("    {}: exited {status}", self.label);
                }
                return Ok(());
            }
            if start.elapsed() > Duration::from_secs(15) {
                child.kill()?;
                child.wait()?;
                bail!("no end after 15 s; stopped");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The interop tests' peers, each doing what the interop tests have it do.
/// Arguments are written `", "`-separated (an option's value may hold a
/// space), and `{t}`, `{out}`, `{up}` stand for the TFTP port and the
/// client's files.
fn sessions(p: &Ports, local: &Path) -> Vec<Session> {
    let t = p.tftp.to_string();
    let out = local.join("out").display().to_string();
    let up = local.join("up.bin").display().to_string();
    let vars = [("{t}", t.as_str()), ("{out}", &out), ("{up}", &up)];
    let peer = |tool: &'static str, args: &str| {
        let args: Vec<String> = args
            .split(", ")
            .map(|a| a.replace("{url}", &format!("tftp://127.0.0.1:{t}/")))
            .map(|a| vars.iter().fold(a, |a, (k, v)| a.replace(k, v)))
            .collect();
        Session {
            label: format!("{tool} {}", args.join(" ")),
            tool,
            args,
            script: Vec::new(),
        }
    };
    let typed = |port: u16, pieces: &[&[u8]]| {
        peer("nc", &format!("-N, -w3, 127.0.0.1, {port}")).typing(pieces)
    };
    let udp = |port: u16, what: &[u8]| {
        peer("socat", &format!("-t1, -, UDP:127.0.0.1:{port}")).typing(&[what])
    };
    let upload = b"hello, wkft!";
    let done = format!(
        "DONE {}\r\n",
        wirekit_core::wire::transfer::Digest::of(upload)
    );
    vec![
        peer("curl", "-sS, -o, {out}, {url}block.bin"),
        peer(
            "curl",
            "-sS, --tftp-blksize, 1468, -o, {out}, {url}block.bin",
        ),
        peer("curl", "-sS, -T, {up}, {url}up-curl.bin"),
        peer("curl", "-sS, -o, {out}, {url}missing.txt"),
        peer(
            "tftp",
            "127.0.0.1, {t}, -m, binary, -c, get, block.bin, {out}",
        ),
        peer(
            "tftp",
            "127.0.0.1, {t}, -m, netascii, -c, get, small.txt, {out}",
        ),
        peer(
            "tftp",
            "127.0.0.1, {t}, -m, binary, -c, put, {up}, up-hpa.bin",
        ),
        peer(
            "atftp",
            "--option, blksize 1468, --option, windowsize 16, --option, tsize 0, \
             -g, -r, block.bin, -l, {out}, 127.0.0.1, {t}",
        ),
        peer("atftp", "-p, -l, {up}, -r, up-atftp.bin, 127.0.0.1, {t}"),
        peer(
            "busybox",
            "tftp, -b, 1468, -g, -r, block.bin, -l, {out}, 127.0.0.1, {t}",
        ),
        peer("rdate", &format!("-p, -o, {}, 127.0.0.1", p.time)),
        peer("rdate", &format!("-p, -u, -o, {}, 127.0.0.1", p.time_u)),
        typed(p.echo, &[b"hello\n", b"wirekit\r\n", b"no line end"]),
        typed(p.daytime, &[]),
        typed(p.stamp, &[b"hello\n", b"stamped echo\n"]),
        udp(p.echo_u, b"a datagram"),
        udp(p.daytime_u, b"\n"),
        udp(p.time_u, b"\n"),
        udp(p.stamp_u, b"stamp me"),
        // WKFT/1 typed with nc, as the book's examples do.
        typed(
            p.wkft,
            &[
                b"HELLO 1\r\n",
                b"LIST\r\n",
                b"STAT small.txt\r\n",
                b"GET small.txt\r\n",
                b"GET block.bin 1100\r\n",
                b"QUIT\r\n",
            ],
        ),
        typed(
            p.wkft,
            &[
                b"HELLO 2\r\n",
                b"NOOP\r\n",
                b"PUT nc-up.txt 12\r\n",
                b"DATA 12\r\nhello, wkft!\n",
                done.as_bytes(),
                b"STAT nc-up.txt\r\n",
                b"LIST . a\r\n",
                b"DELETE nc-up.txt\r\n",
                b"QUIT\r\n",
            ],
        ),
        typed(
            p.wkft,
            &[
                b"HELLO 1\r\n",
                b"GET ../etc/passwd\r\n",
                b"STAT missing\r\n",
                b"GET small.txt 99\r\n",
                b"FETCH x\r\n",
            ],
        ),
    ]
}

/// A captured packet with a payload.
#[derive(Debug)]
struct Captured {
    udp: bool,
    src: u16,
    dst: u16,
    payload: Vec<u8>,
}

fn read_capture(tshark: &Path, pcap: &Path) -> Result<Vec<Captured>> {
    let out = Command::new(tshark)
        .arg("-r")
        .arg(pcap)
        .args(["-T", "fields", "-E", "separator=/t"])
        .args([
            "-e",
            "tcp.srcport",
            "-e",
            "tcp.dstport",
            "-e",
            "tcp.payload",
        ])
        .args([
            "-e",
            "udp.srcport",
            "-e",
            "udp.dstport",
            "-e",
            "udp.payload",
        ])
        .stderr(Stdio::null())
        .output()
        .context("run tshark")?;
    if !out.status.success() {
        bail!("tshark could not read {}", pcap.display());
    }
    let hex = |s: &str| -> Option<Vec<u8>> {
        let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
            .collect()
    };
    let mut packets = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let field = |i: usize| f.get(i).copied().unwrap_or_default();
        let (udp, src, dst, payload) = if field(3).is_empty() {
            (false, field(0), field(1), field(2))
        } else {
            (true, field(3), field(4), field(5))
        };
        let (Ok(src), Ok(dst), Some(payload)) = (src.parse(), dst.parse(), hex(payload)) else {
            continue;
        };
        if !payload.is_empty() {
            packets.push(Captured {
                udp,
                src,
                dst,
                payload,
            });
        }
    }
    Ok(packets)
}

/// Pieces in order until `MAX_TRAFFIC` bytes; the piece that passes it is
/// cut to fit.
fn budget<'a>(pieces: impl IntoIterator<Item = &'a [u8]>) -> Vec<&'a [u8]> {
    let mut left = MAX_TRAFFIC;
    let mut out = Vec::new();
    for p in pieces {
        if left == 0 {
            break;
        }
        let take = p.len().min(left);
        out.push(&p[..take]);
        left -= take;
    }
    out
}

/// The contract checker's ops: each piece as data from peer `from`.
fn ops(a: &mut Arb, from: u8, pieces: &[&[u8]]) {
    for p in pieces {
        a.more().variant(0, 4).u8(from).bytes(p);
    }
    a.end();
}

/// An input written by `f`.
fn made(f: impl FnOnce(&mut Arb)) -> Vec<u8> {
    let mut a = Arb::new();
    f(&mut a);
    a.into_bytes()
}

/// One conversation over TCP: what each side sent, in segments.
#[derive(Debug, Default)]
struct Stream<'a> {
    server_port: u16,
    client: Vec<&'a [u8]>,
    server: Vec<&'a [u8]>,
}

/// One TFTP transfer: its request, then what each side sent.
#[derive(Debug)]
struct Tftp<'a> {
    request: &'a [u8],
    client: Vec<&'a [u8]>,
    server: Vec<&'a [u8]>,
}

fn streams<'a>(packets: &'a [Captured], servers: &[u16]) -> Vec<Stream<'a>> {
    let mut by_conn: BTreeMap<(u16, u16), Stream<'a>> = BTreeMap::new();
    for p in packets.iter().filter(|p| !p.udp) {
        if servers.contains(&p.dst) {
            let s = by_conn.entry((p.src, p.dst)).or_default();
            s.server_port = p.dst;
            s.client.push(&p.payload);
        } else if servers.contains(&p.src) {
            let s = by_conn.entry((p.dst, p.src)).or_default();
            s.server_port = p.src;
            s.server.push(&p.payload);
        }
    }
    by_conn.into_values().collect()
}

fn tftp_flows<'a>(packets: &'a [Captured], port: u16) -> Vec<Tftp<'a>> {
    let mut flows: Vec<(u16, Option<u16>, Tftp<'a>)> = Vec::new();
    for p in packets.iter().filter(|p| p.udp) {
        if p.dst == port {
            if !flows.iter().any(|f| f.0 == p.src) {
                let t = Tftp {
                    request: &p.payload,
                    client: Vec::new(),
                    server: Vec::new(),
                };
                flows.push((p.src, None, t));
            }
            continue;
        }
        for (client, transfer, t) in &mut flows {
            if p.dst == *client && transfer.is_none_or(|x| x == p.src) {
                *transfer = Some(p.src);
                t.server.push(&p.payload);
            } else if p.src == *client && *transfer == Some(p.dst) {
                t.client.push(&p.payload);
            }
        }
    }
    flows.into_iter().map(|f| f.2).collect()
}

/// Datagrams to and from a UDP service.
fn datagrams(packets: &[Captured], port: u16) -> (Vec<&[u8]>, Vec<&[u8]>) {
    let to = packets.iter().filter(|p| p.udp && p.dst == port);
    let from = packets.iter().filter(|p| p.udp && p.src == port);
    (
        to.map(|p| &p.payload[..]).collect(),
        from.map(|p| &p.payload[..]).collect(),
    )
}

/// Every seed, as (target, input in the target's input type).
fn seed_inputs(
    packets: &[Captured],
    p: &Ports,
    files: &BTreeMap<&str, usize>,
) -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();
    let wall = 1_800_000_000;
    let tcp = streams(packets, &[p.echo, p.daytime, p.time, p.stamp, p.wkft]);
    for s in &tcp {
        let (c, sv) = (
            budget(s.client.iter().copied()),
            budget(s.server.iter().copied()),
        );
        if s.server_port == p.wkft {
            for side in [&c, &sv] {
                out.push((
                    "transfer_wire",
                    made(|a| {
                        for piece in side.iter() {
                            a.more().bytes(piece);
                        }
                        a.end();
                    }),
                ));
            }
            out.push(("transfer_server", made(|a| ops(a, 0, &c))));
            out.push(("transfer_client", made(|a| ops(a, 0, &sv))));
            continue;
        }
        // Echo and the timestamp services: raw replies and requests, lines,
        // and the machines that read them.
        for piece in c.iter().chain(&sv) {
            out.push(("echo_time_wire", piece.to_vec()));
        }
        let (server, client) = match s.server_port {
            x if x == p.echo => (0, 5),
            x if x == p.stamp => (8, 11),
            _ => (8, 9),
        };
        out.push((
            "echo_time_machines",
            made(|a| {
                a.u8(server).i64(wall);
                ops(a, 0, &c);
            }),
        ));
        out.push((
            "echo_time_machines",
            made(|a| {
                a.u8(client).i64(wall);
                ops(a, 0, &sv);
            }),
        ));
        for side in [&c, &sv] {
            out.push((
                "line",
                made(|a| {
                    a.u8(255);
                    for piece in side.iter() {
                        a.more().bytes(piece);
                    }
                    a.end();
                }),
            ));
        }
    }
    for (port, server) in [
        (p.echo_u, 2),
        (p.daytime_u, 8),
        (p.time_u, 8),
        (p.stamp_u, 8),
    ] {
        let (to, from) = datagrams(packets, port);
        for d in to.iter().chain(&from) {
            out.push(("echo_time_wire", d.to_vec()));
        }
        out.push((
            "echo_time_machines",
            made(|a| {
                a.u8(server).i64(wall);
                ops(a, 0, &budget(to.iter().copied()));
            }),
        ));
        out.push((
            "echo_time_machines",
            made(|a| {
                a.u8(if port == p.echo_u { 7 } else { 10 }).i64(wall);
                ops(a, 0, &budget(from.iter().copied()));
            }),
        ));
    }
    for flow in tftp_flows(packets, p.tftp) {
        let Ok(Packet::Rrq(req) | Packet::Wrq(req)) = parse(flow.request) else {
            continue;
        };
        let write = flow.request.get(1) == Some(&2);
        out.push((
            "tftp_listener",
            made(|a| {
                a.bytes(flow.request).u8(0).bool(true).u8(8).bool(true);
            }),
        ));
        // The datagrams of each kind that open the transfer, with cuts for
        // the netascii check.
        let mut kinds = Vec::new();
        for d in std::iter::once(flow.request)
            .chain(flow.server.iter().copied())
            .chain(flow.client.iter().copied())
        {
            let kind = (d.get(1).copied(), d.len() < 516);
            if !kinds.contains(&kind) {
                kinds.push(kind);
                let d = &d[..d.len().min(MAX_TRAFFIC)];
                out.push((
                    "tftp_wire",
                    made(|a| {
                        a.bytes(d).bytes(&[1, 5, 3]);
                    }),
                ));
            }
        }
        let len = files
            .get(req.filename.as_str())
            .copied()
            .unwrap_or(UPLOAD_LEN);
        let len = u16::try_from(len).unwrap_or(u16::MAX);
        let raw = |a: &mut Arb, stranger: bool, pieces: &[&[u8]]| {
            for d in pieces {
                a.more().variant(0, 3);
                if stranger {
                    a.some().u8(0);
                } else {
                    a.none();
                }
                a.variant(7, 8).bytes(d);
            }
            a.end();
        };
        out.push((
            "tftp_transfer",
            made(|a| {
                start(a, &req, write, false);
                a.u16(len);
                raw(a, false, &budget(flow.client.iter().copied()));
            }),
        ));
        out.push((
            "tftp_request",
            made(|a| {
                start(a, &req, write, true);
                a.u16(len);
                // The server answers from a port of its own: peer 1.
                raw(a, true, &budget(flow.server.iter().copied()));
            }),
        ));
    }
    out
}

/// The fields both TFTP targets' `Start` open with, from a real request:
/// direction, mode, then the options it asked for. `client`: the
/// `tftp_request` shape (tsize a flag, rollover a choice).
fn start(a: &mut Arb, req: &Request, write: bool, client: bool) {
    let opt = |k| {
        req.options
            .iter()
            .find(|o| o.kind() == Some(k))
            .and_then(|o| o.value_u64())
    };
    let small = |k| opt(k).and_then(|v| u16::try_from(v).ok());
    a.bool(write).bool(req.mode == Mode::Netascii);
    a.option(small(OptionKind::Blksize), |a, v| {
        a.u16(v);
    });
    a.option(small(OptionKind::Windowsize), |a, v| {
        a.u16(v);
    });
    a.option(
        opt(OptionKind::Timeout).and_then(|v| u8::try_from(v).ok()),
        |a, v| {
            a.u8(v);
        },
    );
    let rollover = opt(OptionKind::Rollover).and_then(Rollover::from_value);
    if client {
        a.bool(opt(OptionKind::Tsize).is_some());
        a.option(rollover, |a, r| {
            a.bool(r == Rollover::One);
        });
    } else {
        a.option(
            opt(OptionKind::Tsize).and_then(|v| u32::try_from(v).ok()),
            |a, v| {
                a.u32(v);
            },
        );
        a.option(rollover.map(|r| r.value() as u8), |a, v| {
            a.u8(v);
        });
    }
}
