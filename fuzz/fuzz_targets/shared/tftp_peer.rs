//! A hostile TFTP peer for the machine targets. A raw byte string would
//! spend its time failing opcode and block checks; these packets are
//! well-formed and shaped after what the machine last sent (the block it
//! is at, the options it asked or granted), moved by a fuzzed amount, so
//! the search reaches windows, retransmissions, rollover and negotiation.

use arbitrary::Arbitrary;
use wirekit_core::testing::contract::Op;
use wirekit_core::wire::tftp::{
    ErrorCode, MAX_PACKET, Mode, OptionKind, Packet, Request, TftpOption, parse,
};

/// A packet the peer sends.
#[derive(Arbitrary, Debug)]
pub enum Pkt {
    /// ACK of the last DATA block the machine sent, moved by `delta`.
    AckSeen {
        delta: i8,
    },
    /// DATA for the block after the last one the machine acknowledged,
    /// moved by `delta`: a full block, or a short (last) one.
    DataNext {
        delta: i8,
        full: bool,
        len: u16,
        fill: u8,
    },
    Ack(u16),
    Data {
        block: u16,
        data: Vec<u8>,
    },
    Error {
        code: u16,
        message: String,
    },
    Oack(Vec<Opt>),
    Request {
        write: bool,
        netascii: bool,
        name: String,
        options: Vec<Opt>,
    },
    Raw(Vec<u8>),
}

/// An option in an OACK or a request.
#[derive(Arbitrary, Debug)]
pub enum Opt {
    Known { kind: u8, value: Value },
    Unknown { name: String, value: String },
}

/// A known option's value.
#[derive(Arbitrary, Debug)]
pub enum Value {
    /// What the request asked for (or 0 if it did not ask).
    Asked,
    Num(u64),
    Text(String),
}

/// One step of the peer.
#[derive(Arbitrary, Debug)]
pub enum Step {
    /// From the machine's peer, or from a stranger (another port).
    Send {
        stranger: Option<u8>,
        pkt: Pkt,
    },
    Advance {
        ms: u16,
    },
    EarlyTimeout,
}

/// What the machine has shown of its state.
#[derive(Debug)]
pub struct Seen {
    /// The last DATA block it sent.
    pub data: u16,
    /// The last ACK it sent.
    pub ack: u16,
    /// The block size a DATA of the peer's uses when full.
    pub blksize: u16,
    /// The options of the request that started the transfer.
    pub asked: Vec<TftpOption>,
}

impl Seen {
    pub fn new(asked: Vec<TftpOption>) -> Self {
        Seen {
            data: 0,
            ack: 0,
            blksize: 512,
            asked,
        }
    }

    /// Takes note of a datagram the machine sent to its peer, and returns
    /// it parsed. Every datagram is within the largest TFTP packet.
    pub fn learn(&mut self, payload: &[u8]) -> Option<Packet> {
        assert!(
            payload.len() <= MAX_PACKET,
            "a {}-byte datagram",
            payload.len()
        );
        let p = parse(payload).ok()?;
        match &p {
            Packet::Data { block, .. } => self.data = *block,
            Packet::Ack { block } => self.ack = *block,
            Packet::Oack { options } => {
                if let Some(b) = find(options, OptionKind::Blksize) {
                    self.blksize = u16::try_from(b).unwrap_or(u16::MAX).max(1);
                }
            }
            _ => {}
        }
        Some(p)
    }

    fn options(&self, opts: &[Opt]) -> Vec<TftpOption> {
        opts.iter()
            .map(|o| match o {
                Opt::Known { kind, value } => {
                    let kind = OptionKind::ALL[usize::from(*kind) % OptionKind::ALL.len()];
                    let text = match value {
                        Value::Asked => find(&self.asked, kind).unwrap_or(0).to_string(),
                        Value::Num(n) => n.to_string(),
                        Value::Text(t) => t.clone(),
                    };
                    TftpOption::new(kind.name(), text)
                }
                Opt::Unknown { name, value } => TftpOption::new(name.clone(), value.clone()),
            })
            .collect()
    }

    /// The step as the contract checker's input.
    pub fn op(&self, step: &Step) -> Op {
        match step {
            Step::Advance { ms } => Op::Advance { ms: *ms },
            Step::EarlyTimeout => Op::EarlyTimeout,
            Step::Send { stranger, pkt } => Op::Data {
                // Peer 0 is the machine's own; 1 to 3 are strangers.
                from: stranger.map_or(0, |s| 1 + s % 3),
                bytes: self.bytes(pkt),
            },
        }
    }

    fn bytes(&self, pkt: &Pkt) -> Vec<u8> {
        let moved = |base: u16, delta: i8| base.wrapping_add(delta as i16 as u16);
        let packet = match pkt {
            Pkt::Raw(bytes) => return bytes.clone(),
            Pkt::AckSeen { delta } => Packet::Ack {
                block: moved(self.data, *delta),
            },
            Pkt::DataNext {
                delta,
                full,
                len,
                fill,
            } => {
                let len = if *full {
                    self.blksize
                } else {
                    len % self.blksize
                };
                Packet::Data {
                    block: moved(self.ack.wrapping_add(1), *delta),
                    data: vec![*fill; usize::from(len)].into(),
                }
            }
            Pkt::Ack(block) => Packet::Ack { block: *block },
            Pkt::Data { block, data } => Packet::Data {
                block: *block,
                data: data.clone().into(),
            },
            Pkt::Error { code, message } => Packet::Error {
                code: ErrorCode::from_code(*code),
                message: message.clone(),
            },
            Pkt::Oack(opts) => Packet::Oack {
                options: self.options(opts),
            },
            Pkt::Request {
                write,
                netascii,
                name,
                options,
            } => {
                let r = Request {
                    filename: name.clone(),
                    mode: if *netascii {
                        Mode::Netascii
                    } else {
                        Mode::Octet
                    },
                    options: self.options(options),
                };
                if *write {
                    Packet::Wrq(r)
                } else {
                    Packet::Rrq(r)
                }
            }
        };
        packet.to_bytes().map(|b| b.to_vec()).unwrap_or_default()
    }
}

/// A known option's numeric value in a list.
pub fn find(options: &[TftpOption], kind: OptionKind) -> Option<u64> {
    options
        .iter()
        .find(|o| o.kind() == Some(kind))
        .and_then(TftpOption::value_u64)
}

/// A datagram to a stranger is only ever ERROR 5 (RFC 1350's unknown
/// transfer ID): nothing of the transfer leaks to another port.
pub fn check_stranger(payload: &[u8]) {
    assert!(
        matches!(
            parse(payload),
            Ok(Packet::Error {
                code: ErrorCode::UnknownTid,
                ..
            })
        ),
        "a stranger got {payload:?}"
    );
}
