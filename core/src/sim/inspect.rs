//! What one simulated packet says: its headers field by field, and its
//! payload read by the core's own codecs.
//!
//! The browser lab's inspector shows this when a learner clicks an arrow.
//! Decoding lives here, beside the codecs, so that no protocol is written a
//! second time in JavaScript. Which codec reads a payload follows from the
//! scenario: every server listens on the port its workload names, and every
//! client uses the port [`client_port`] gives it, so either end of a packet
//! says which protocol it speaks and whether it is a request or a reply.
//!
//! A TCP segment is a slice of a byte stream, not a message: a WKFT/1
//! header line may start in one segment and end in the next, and most
//! segments of a download are file bytes. The decoder reads the header lines
//! that a segment holds whole and says plainly when the rest is body data.

use super::engine::{client_port, host_addr};
use super::scenario::{Scenario, Workload};
use crate::calendar::DateTime;
use crate::timestamp::Service;
use crate::wire::{tftp, timestamp, transfer};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::Write;
use nom::Err as NomErr;
use serde::{Deserialize, Serialize};

/// Payload bytes shown as hex at most.
pub const HEX_BYTES: usize = 128;
/// Payload bytes shown as text at most.
pub const TEXT_BYTES: usize = 256;
/// Messages decoded from one payload at most (a segment full of tiny
/// pipelined requests would otherwise make a long list).
const MAX_DECODED: usize = 16;

/// The application protocols the simulator runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Protocol {
    /// WKFT/1, Wirekit's file transfer over TCP.
    Transfer,
    /// TFTP over UDP.
    Tftp,
    /// RFC 868 time.
    Time,
    /// RFC 867 daytime.
    Daytime,
    /// The stamped echo: each message back behind the server's time.
    Stamp,
    /// RFC 862 echo (and its hello and ack variants).
    Echo,
}

impl Protocol {
    /// The name the inspector shows.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Transfer => "WKFT/1",
            Protocol::Tftp => "TFTP",
            Protocol::Time => "time (RFC 868)",
            Protocol::Daytime => "daytime (RFC 867)",
            Protocol::Stamp => "stamped echo",
            Protocol::Echo => "echo (RFC 862)",
        }
    }

    /// What `workload` speaks; `None` for a custom one (the inspector
    /// shows its payload as text or bytes, undecoded).
    fn of(workload: &Workload) -> Option<Protocol> {
        let by_service = |s: &Service| match s {
            Service::Time => Protocol::Time,
            Service::Daytime => Protocol::Daytime,
            Service::Stamp => Protocol::Stamp,
        };
        Some(match workload {
            Workload::TransferServer { .. }
            | Workload::TransferGet { .. }
            | Workload::TransferPut { .. } => Protocol::Transfer,
            Workload::TftpServer { .. } | Workload::TftpGet { .. } => Protocol::Tftp,
            Workload::TimeStreamServer { service, .. }
            | Workload::TimeStreamClient { service, .. }
            | Workload::TimeUdpServer { service, .. }
            | Workload::TimeUdpClient { service, .. } => by_service(service),
            Workload::EchoStreamServer { .. }
            | Workload::EchoStreamClient { .. }
            | Workload::EchoUdpServer { .. }
            | Workload::EchoUdpClient { .. } => Protocol::Echo,
            Workload::Custom { .. } => return None,
        })
    }
}

/// Which protocol each endpoint of a scenario speaks.
#[derive(Clone, Debug, Default)]
pub struct Ports {
    /// (address, port, protocol, is the server's end).
    ends: Vec<([u8; 4], u16, Protocol, bool)>,
}

impl Ports {
    /// The endpoints of every application in `scenario`.
    pub fn of(scenario: &Scenario) -> Ports {
        let mut ends = Vec::new();
        for (i, app) in scenario.apps.iter().enumerate() {
            let Some(h) = scenario.hosts.iter().position(|h| *h == app.host) else {
                continue;
            };
            let addr = host_addr(h);
            let Some(proto) = Protocol::of(&app.workload) else {
                continue;
            };
            if app.workload.is_client() {
                for k in 0..app.instances.max(1) {
                    ends.push((addr, client_port(i, k), proto, false));
                }
            } else if let Some(port) = app.workload.listen_port() {
                ends.push((addr, port, proto, true));
            }
        }
        Ports { ends }
    }

    fn find(&self, addr: [u8; 4], port: u16) -> Option<(Protocol, bool)> {
        self.ends
            .iter()
            .find(|(a, p, _, _)| *a == addr && *p == port)
            .map(|(_, _, proto, server)| (*proto, *server))
    }

    /// The protocol of a packet from `src` to `dst`, and whether it goes
    /// to the server (a request) or from it (a reply).
    fn classify(&self, src: ([u8; 4], u16), dst: ([u8; 4], u16)) -> Option<(Protocol, bool)> {
        match (self.find(src.0, src.1), self.find(dst.0, dst.1)) {
            (_, Some((p, true))) => Some((p, true)),
            (Some((p, true)), _) => Some((p, false)),
            (Some((p, false)), _) => Some((p, true)),
            (_, Some((p, false))) => Some((p, false)),
            (None, None) => None,
        }
    }
}

/// An IPv4 header, field by field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpView {
    /// 4.
    pub version: u8,
    /// Header length in bytes.
    pub ihl: u8,
    /// Type of service byte.
    pub tos: u8,
    /// Total length, as the header says.
    pub total_len: u16,
    /// Identification.
    pub id: u16,
    /// `DF`, `MF`.
    pub flags: Vec<String>,
    /// Fragment offset, in 8-byte units.
    pub frag_offset: u16,
    /// Time to live.
    pub ttl: u8,
    /// 6 TCP, 17 UDP.
    pub protocol: u8,
    /// Header checksum, hex.
    pub checksum: String,
    /// Source address, dotted.
    pub src: String,
    /// Destination address, dotted.
    pub dst: String,
}

/// A TCP header, field by field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcpView {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number (absolute, as on the wire).
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Header length in bytes.
    pub data_offset: u8,
    /// Flag names, in header order (`SYN`, `ACK`, ...).
    pub flags: Vec<String>,
    /// Advertised window (unscaled).
    pub window: u16,
    /// Checksum, hex.
    pub checksum: String,
    /// Urgent pointer.
    pub urgent: u16,
    /// The options, one phrase each (`MSS 1460`, `window scale 0`).
    pub options: Vec<String>,
}

/// A UDP header, field by field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UdpView {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Header and payload length.
    pub length: u16,
    /// Checksum, hex.
    pub checksum: String,
}

/// Everything the inspector shows about one packet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PacketView {
    /// The packet's number in the run.
    pub packet: u64,
    /// Bytes kept (at most [`super::engine::SNAP_LEN`]).
    pub len: u32,
    /// The IPv4 header.
    pub ip: Option<IpView>,
    /// The TCP header, for a segment.
    pub tcp: Option<TcpView>,
    /// The UDP header, for a datagram.
    pub udp: Option<UdpView>,
    /// Payload bytes the headers announce.
    pub payload_len: u32,
    /// The first [`HEX_BYTES`] payload bytes, lower-case hex.
    pub payload_hex: String,
    /// The first [`TEXT_BYTES`] payload bytes as text: printable ASCII as
    /// it is, `\n`, `\r`, `\t`, and `\xNN` for the rest.
    pub payload_text: String,
    /// The application protocol, by the ports.
    pub protocol: Option<String>,
    /// What the core's codecs read in the payload, a line per message.
    pub decoded: Vec<String>,
    /// The payload goes on past what was kept.
    pub truncated: bool,
}

fn be16(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(&[x, y]) => u16::from_be_bytes([x, y]),
        _ => 0,
    }
}

fn be32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(&[w, x, y, z]) => u32::from_be_bytes([w, x, y, z]),
        _ => 0,
    }
}

fn dotted(a: &[u8]) -> String {
    let mut s = String::new();
    for (i, b) in a.iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        let _ = write!(s, "{b}");
    }
    s
}

fn hex16(v: u16) -> String {
    format!("0x{v:04x}")
}

fn tcp_options(opts: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&kind) = opts.get(i) {
        match kind {
            0 => break,
            1 => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let len = usize::from(opts.get(i + 1).copied().unwrap_or(0));
        if len < 2 || i + len > opts.len() {
            out.push(format!("option {kind} (malformed)"));
            break;
        }
        let body = &opts[i + 2..i + len];
        out.push(match kind {
            2 => format!("MSS {}", be16(body, 0)),
            3 => format!("window scale {}", body.first().copied().unwrap_or(0)),
            4 => "SACK permitted".to_string(),
            5 => format!("SACK, {} blocks", body.len() / 8),
            8 => format!("timestamps {} {}", be32(body, 0), be32(body, 4)),
            k => format!("option {k}, {} bytes", body.len()),
        });
        i += len;
    }
    out
}

/// Printable ASCII as it is, the rest escaped.
fn text(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    for &c in b {
        match c {
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(char::from(c)),
            _ => {
                let _ = write!(s, "\\x{c:02x}");
            }
        }
    }
    s
}

/// Reads one packet. `bytes` are the kept start of an IPv4 packet.
pub fn inspect(packet: u64, bytes: &[u8], ports: &Ports) -> PacketView {
    let mut view = PacketView {
        packet,
        len: bytes.len() as u32,
        ip: None,
        tcp: None,
        udp: None,
        payload_len: 0,
        payload_hex: String::new(),
        payload_text: String::new(),
        protocol: None,
        decoded: Vec::new(),
        truncated: false,
    };
    let Some(&vihl) = bytes.first() else {
        return view;
    };
    let ihl = usize::from(vihl & 0x0f) * 4;
    if vihl >> 4 != 4 || ihl < 20 || bytes.len() < ihl {
        view.decoded.push("not an IPv4 packet".into());
        return view;
    }
    let total = be16(bytes, 2);
    let frag = be16(bytes, 6);
    let mut ip_flags = Vec::new();
    if frag & 0x4000 != 0 {
        ip_flags.push("DF".to_string());
    }
    if frag & 0x2000 != 0 {
        ip_flags.push("MF".to_string());
    }
    let proto = bytes[9];
    let (src, dst): ([u8; 4], [u8; 4]) = (
        bytes[12..16].try_into().unwrap_or_default(),
        bytes[16..20].try_into().unwrap_or_default(),
    );
    view.ip = Some(IpView {
        version: 4,
        ihl: ihl as u8,
        tos: bytes[1],
        total_len: total,
        id: be16(bytes, 4),
        flags: ip_flags,
        frag_offset: frag & 0x1fff,
        ttl: bytes[8],
        protocol: proto,
        checksum: hex16(be16(bytes, 10)),
        src: dotted(&src),
        dst: dotted(&dst),
    });
    let end = usize::from(total).max(ihl);
    let t = &bytes[ihl..];
    let (ports_of, payload_at) = match proto {
        6 if t.len() >= 20 => {
            let doff = usize::from(t[12] >> 4) * 4;
            let fl = t[13];
            let names = [
                (0x01, "FIN"),
                (0x02, "SYN"),
                (0x04, "RST"),
                (0x08, "PSH"),
                (0x10, "ACK"),
                (0x20, "URG"),
                (0x40, "ECE"),
                (0x80, "CWR"),
            ];
            view.tcp = Some(TcpView {
                src_port: be16(t, 0),
                dst_port: be16(t, 2),
                seq: be32(t, 4),
                ack: be32(t, 8),
                data_offset: doff as u8,
                flags: names
                    .iter()
                    .filter(|(bit, _)| fl & bit != 0)
                    .map(|(_, n)| (*n).to_string())
                    .collect(),
                window: be16(t, 14),
                checksum: hex16(be16(t, 16)),
                urgent: be16(t, 18),
                options: tcp_options(t.get(20..doff).unwrap_or_default()),
            });
            ((be16(t, 0), be16(t, 2)), ihl + doff.max(20))
        }
        17 if t.len() >= 8 => {
            view.udp = Some(UdpView {
                src_port: be16(t, 0),
                dst_port: be16(t, 2),
                length: be16(t, 4),
                checksum: hex16(be16(t, 6)),
            });
            ((be16(t, 0), be16(t, 2)), ihl + 8)
        }
        _ => return view,
    };
    view.payload_len = end.saturating_sub(payload_at) as u32;
    let payload = bytes
        .get(payload_at..end.min(bytes.len()))
        .unwrap_or_default();
    view.truncated = payload.len() < view.payload_len as usize;
    for b in payload.iter().take(HEX_BYTES) {
        let _ = write!(view.payload_hex, "{b:02x}");
    }
    view.payload_text = text(&payload[..payload.len().min(TEXT_BYTES)]);
    if let Some((protocol, to_server)) = ports.classify((src, ports_of.0), (dst, ports_of.1)) {
        view.protocol = Some(protocol.name().into());
        if !payload.is_empty() {
            view.decoded = decode(protocol, to_server, view.tcp.is_some(), payload);
        }
    }
    view
}

/// Reads a payload with the protocol's codec.
fn decode(protocol: Protocol, to_server: bool, stream: bool, p: &[u8]) -> Vec<String> {
    match protocol {
        Protocol::Transfer => decode_transfer(to_server, p),
        Protocol::Tftp => alloc::vec![decode_tftp(p)],
        Protocol::Time if !to_server && p.len() >= 4 => match timestamp::parse_time(p) {
            Ok((_, v)) => {
                let unix = timestamp::unix_from_time_value(v);
                alloc::vec![format!(
                    "time value {v}: {} UTC (seconds since 1900, mapped to {unix} Unix seconds)",
                    DateTime::from_unix(unix).ctime()
                )]
            }
            Err(_) => alloc::vec!["not a time value".into()],
        },
        Protocol::Daytime if !to_server => {
            let line = p.split(|&b| b == b'\n').next().unwrap_or(p);
            alloc::vec![match timestamp::parse_daytime(line) {
                timestamp::Daytime::Parsed { time, text } => {
                    format!("daytime \"{text}\" = {} Unix seconds", time.secs())
                }
                timestamp::Daytime::Text(t) => format!("daytime in an unknown layout: \"{t}\""),
            }]
        }
        Protocol::Stamp if !to_server => alloc::vec![match timestamp::parse_stamp(p) {
            Some((at, data)) => format!(
                "stamped at {} Unix seconds: \"{}\"",
                at.secs(),
                text(&data[..data.len().min(64)])
            ),
            None => "not a stamped reply".into(),
        }],
        Protocol::Stamp => alloc::vec![format!(
            "a message to stamp: \"{}\"",
            text(&p[..p.len().min(64)])
        )],
        Protocol::Time | Protocol::Daytime => {
            alloc::vec![format!(
                "a request ({} bytes; the server ignores them)",
                p.len()
            )]
        }
        Protocol::Echo if stream => alloc::vec![format!(
            "{} bytes of the echoed stream{}",
            p.len(),
            if to_server { "" } else { ", on their way back" }
        )],
        Protocol::Echo => match crate::wire::echo::parse_ack(p) {
            Some(n) if !to_server => alloc::vec![format!("ack: the server got {n} bytes")],
            _ => alloc::vec![format!(
                "a {}-byte datagram \"{}\"",
                p.len(),
                text(&p[..p.len().min(64)])
            )],
        },
    }
}

fn decode_tftp(p: &[u8]) -> String {
    use tftp::Packet;
    let options = |o: &[tftp::TftpOption]| {
        o.iter()
            .map(|o| format!("{}={}", o.name, o.value))
            .collect::<Vec<_>>()
            .join(" ")
    };
    // A DATA block is read without copying it (and a kept packet may end
    // before its block does, which `parse` would refuse).
    if let Some((block, data)) = tftp::peek_data(p) {
        return format!("DATA block {block}, {} bytes kept", data.len());
    }
    match tftp::parse(p) {
        Ok(Packet::Rrq(r)) => format!(
            "RRQ (read request) {} mode {} {}",
            r.filename,
            r.mode.name(),
            options(&r.options)
        ),
        Ok(Packet::Wrq(r)) => format!(
            "WRQ (write request) {} mode {} {}",
            r.filename,
            r.mode.name(),
            options(&r.options)
        ),
        Ok(Packet::Data { block, data }) => format!("DATA block {block}, {} bytes", data.len()),
        Ok(Packet::Ack { block }) => format!("ACK block {block}"),
        Ok(Packet::Error { code, message }) => {
            format!("ERROR {} ({}): {message}", code.code(), code.description())
        }
        Ok(Packet::Oack { options: o }) => format!("OACK {}", options(&o)),
        Err(e) => format!("not a TFTP packet: {e}"),
    }
}

/// Header lines held whole in one segment, read as requests (to the
/// server) or replies (from it).
fn decode_transfer(to_server: bool, mut p: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    while !p.is_empty() && out.len() < MAX_DECODED {
        if !p[0].is_ascii_uppercase() {
            out.push(format!(
                "{} bytes of a DATA body (file bytes, not a header line)",
                p.len()
            ));
            break;
        }
        let line_end = p.iter().position(|&b| b == b'\n');
        let parsed = if to_server {
            transfer::request(p).map(|(rest, r)| (rest, describe_request(&r)))
        } else {
            transfer::reply(p).map(|(rest, r)| (rest, describe_reply(&r)))
        };
        match parsed {
            Ok((rest, what)) => {
                out.push(what);
                p = rest;
            }
            Err(NomErr::Incomplete(_)) => {
                let line = &p[..line_end.unwrap_or(p.len())];
                out.push(match line_end {
                    Some(_) => format!("{}: its body goes on in later segments", text(line)),
                    None => format!("\"{}\": a header line cut by the segment's end", text(line)),
                });
                break;
            }
            Err(NomErr::Error(e) | NomErr::Failure(e)) => {
                out.push(format!("not a valid WKFT/1 line ({e})"));
                break;
            }
        }
    }
    out
}

/// `HELLO`'s revision number as the version people say.
fn version_name(v: u32) -> String {
    match v {
        transfer::VERSION => "1.0".into(),
        transfer::VERSION_1_1 => "1.1".into(),
        other => format!("revision {other}"),
    }
}

fn describe_request(r: &transfer::Request) -> String {
    use transfer::Request as R;
    match r {
        R::Hello { version } => format!(
            "HELLO {version}: the client asks for WKFT/{}",
            version_name(*version)
        ),
        R::List { path: None, .. } => "LIST: the root directory, please".into(),
        R::List {
            path: Some(p),
            after: None,
        } => format!("LIST {p}: that directory, please"),
        R::List {
            path: Some(p),
            after: Some(a),
        } => format!("LIST {p} {a}: the next page of that directory, after {a}"),
        R::Stat { path } => format!("STAT {path}: what is it, how big?"),
        R::Get {
            path,
            offset,
            version: None,
        } => format!("GET {path} from byte {offset}"),
        R::Get {
            path,
            offset,
            version: Some(v),
        } => format!("GET {path} from byte {offset}, if it is still version {v}"),
        R::Put {
            path,
            size,
            offset,
            replace,
            restart,
        } => {
            let replacing = if *replace {
                ", to replace the file"
            } else {
                ""
            };
            let restarting = if *restart {
                ", discarding an unfinished upload"
            } else {
                ""
            };
            format!("PUT {path}: {size} bytes, sending from byte {offset}{replacing}{restarting}")
        }
        R::Delete { path } => format!("DELETE {path}: remove it"),
        R::Noop => "NOOP: still here".into(),
        R::Cancel => "CANCEL: stop the download".into(),
        R::Data(b) => format!("DATA {}: a piece of the upload", b.len()),
        R::Done { digest } => format!("DONE {digest}: the whole file's BLAKE3 digest"),
        R::Quit => "QUIT".into(),
    }
}

fn describe_reply(r: &transfer::Reply) -> String {
    use transfer::Reply as R;
    match r {
        R::Hello { version, features } => format!(
            "HELLO {version}: the server speaks WKFT/{}{}",
            version_name(*version),
            if features.is_empty() {
                String::new()
            } else {
                format!(", with {}", features.join(", "))
            }
        ),
        R::Ok => "OK: done".into(),
        R::Entries { count, more } => format!(
            "ENTRIES {count}{}: that many ENTRY lines follow{}",
            if *more { " more" } else { "" },
            if *more { ", then another page" } else { "" }
        ),
        R::Entry(e) => format!("ENTRY {:?} {} {}", e.kind, e.size, e.name),
        R::Stat(s) => format!("STAT {:?} {}", s.kind, s.size),
        R::File {
            size,
            offset,
            version: None,
        } => format!("FILE {size} {offset}: a download starts"),
        R::File {
            size,
            offset,
            version: Some(v),
        } => format!("FILE {size} {offset} {v}: a download of version {v} starts"),
        R::Data(b) => format!("DATA {}: a piece of the download", b.len()),
        R::Done { digest } => format!("DONE {digest}: check the file against this digest"),
        R::Ready {
            offset,
            prefix: None,
        } => format!("READY {offset}: send from byte {offset}"),
        R::Ready {
            offset,
            prefix: Some(d),
        } => format!("READY {offset} {d}: the kept bytes hash to this; send from byte {offset}"),
        R::Stored { size, digest } => {
            format!("STORED {size} {digest}: verified and committed")
        }
        R::Error { code, message } => format!("ERR {code}: {message}"),
        R::Bye => "BYE".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{Options, Sim, TraceKind, preset};

    /// Runs a preset keeping packets and inspects every one.
    fn views(name: &str) -> Vec<PacketView> {
        let scenario = preset(name).expect("a preset");
        let mut sim = Sim::new(
            &scenario,
            7,
            Options {
                keep_trace: true,
                keep_packets: true,
                ..Options::default()
            },
        )
        .expect("valid");
        sim.run();
        let ports = Ports::of(&scenario);
        let mut out = Vec::new();
        for r in sim.trace().records() {
            if let TraceKind::Link { packet, .. } = r.kind {
                let bytes = sim.packet(packet).expect("kept");
                out.push(inspect(packet, bytes, &ports));
            }
        }
        out
    }

    fn all_decoded(v: &[PacketView]) -> Vec<String> {
        v.iter().flat_map(|p| p.decoded.iter().cloned()).collect()
    }

    #[test]
    fn a_download_shows_its_header_lines_and_tcp_handshake() {
        let v = views("tcp-transfer-clean");
        let syn = &v[0];
        let tcp = syn.tcp.as_ref().expect("tcp");
        assert_eq!(tcp.flags, ["SYN"]);
        assert_eq!(tcp.dst_port, 7021);
        assert!(tcp.options.iter().any(|o| o.starts_with("MSS")));
        assert_eq!(syn.ip.as_ref().map(|i| i.src.as_str()), Some("10.0.0.1"));
        assert_eq!(syn.protocol.as_deref(), Some("WKFT/1"));
        let lines = all_decoded(&v);
        for want in [
            "HELLO 2: the client asks for WKFT/1.1",
            "HELLO 2: the server speaks WKFT/1.1, with cancel, delete, escape, noop, pipeline, replace",
            "GET file.bin from byte 0",
            "FILE 1048576 0",
        ] {
            assert!(
                lines.iter().any(|l| l.starts_with(want)),
                "no {want:?} in {lines:?}"
            );
        }
        assert!(lines.iter().any(|l| l.contains("bytes of a DATA body")));
        assert!(v.iter().any(|p| p.truncated));
    }

    #[test]
    fn tftp_and_time_payloads_are_read_by_their_codecs() {
        let lines = all_decoded(&views("tftp-lossy"));
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("RRQ (read request) boot.img mode octet")
                    && l.contains("blksize=1468"))
        );
        assert!(lines.iter().any(|l| l.starts_with("OACK")));
        assert!(lines.iter().any(|l| l.starts_with("DATA block 1,")));
        assert!(lines.iter().any(|l| l.starts_with("ACK block")));
        let lines = all_decoded(&views("udp-time"));
        assert!(
            lines.iter().any(|l| l.contains("Sun Nov 22 10:30:4")),
            "{lines:?}"
        );
    }

    #[test]
    fn junk_is_described_not_a_panic() {
        let ports = Ports::default();
        for bytes in [&[][..], &[0x45][..], &[0x60; 40][..], &[0x4f; 30][..]] {
            let v = inspect(0, bytes, &ports);
            assert_eq!(v.tcp, None);
        }
    }
}
