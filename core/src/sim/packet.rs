//! What a packet is, read from its headers: addresses, ports, TCP sequence
//! numbers and flags, payload length.
//!
//! The trace shows this for every packet (the browser's lane diagram draws
//! it, and it goes into the trace hash, so runs that differ only in TCP's
//! initial sequence numbers still hash differently), and the simulator uses
//! it to count TCP retransmissions the way a capture would show them.

use serde::{Deserialize, Serialize};

/// TCP flag bits, as in the header.
pub mod flags {
    /// No more data from the sender.
    pub const FIN: u8 = 0x01;
    /// Synchronise sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push.
    pub const PSH: u8 = 0x08;
    /// The acknowledgment field is valid.
    pub const ACK: u8 = 0x10;
}

/// A TCP segment's header fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcpInfo {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Flags (see [`flags`]).
    pub flags: u8,
    /// Advertised window (unscaled).
    pub window: u16,
    /// Payload bytes.
    pub payload: u16,
}

/// The transport inside an IPv4 packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Transport {
    /// A TCP segment.
    Tcp(TcpInfo),
    /// A UDP datagram.
    Udp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// Payload bytes.
        payload: u16,
    },
    /// Another protocol, or a header too short to read.
    Other(u8),
}

/// An IPv4 packet's addresses and transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PacketInfo {
    /// Source address.
    pub src: [u8; 4],
    /// Destination address.
    pub dst: [u8; 4],
    /// What it carries.
    pub transport: Transport,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
        *b.get(at + 2)?,
        *b.get(at + 3)?,
    ]))
}

impl PacketInfo {
    /// Reads an IPv4 packet's headers; `None` if it is not one.
    pub fn parse(p: &[u8]) -> Option<PacketInfo> {
        let vihl = *p.first()?;
        let ihl = usize::from(vihl & 0x0f) * 4;
        if vihl >> 4 != 4 || ihl < 20 {
            return None;
        }
        let total = usize::from(be16(p, 2)?).min(p.len());
        let src = p.get(12..16)?.try_into().ok()?;
        let dst = p.get(16..20)?.try_into().ok()?;
        let proto = *p.get(9)?;
        let body = p.get(ihl..total).unwrap_or_default();
        let transport = match proto {
            6 => Self::tcp(body).unwrap_or(Transport::Other(proto)),
            17 if body.len() >= 8 => Transport::Udp {
                src_port: be16(body, 0)?,
                dst_port: be16(body, 2)?,
                payload: (body.len() - 8) as u16,
            },
            _ => Transport::Other(proto),
        };
        Some(PacketInfo {
            src,
            dst,
            transport,
        })
    }

    fn tcp(t: &[u8]) -> Option<Transport> {
        let doff = usize::from(*t.get(12)? >> 4) * 4;
        if doff < 20 || doff > t.len() {
            return None;
        }
        Some(Transport::Tcp(TcpInfo {
            src_port: be16(t, 0)?,
            dst_port: be16(t, 2)?,
            seq: be32(t, 4)?,
            ack: be32(t, 8)?,
            flags: *t.get(13)?,
            window: be16(t, 14)?,
            payload: (t.len() - doff) as u16,
        }))
    }

    /// A fixed binary form, for the trace hash.
    pub(crate) fn encode(&self, out: &mut alloc::vec::Vec<u8>) {
        out.extend_from_slice(&self.src);
        out.extend_from_slice(&self.dst);
        match self.transport {
            Transport::Tcp(t) => {
                out.push(6);
                out.extend_from_slice(&t.src_port.to_le_bytes());
                out.extend_from_slice(&t.dst_port.to_le_bytes());
                out.extend_from_slice(&t.seq.to_le_bytes());
                out.extend_from_slice(&t.ack.to_le_bytes());
                out.push(t.flags);
                out.extend_from_slice(&t.window.to_le_bytes());
                out.extend_from_slice(&t.payload.to_le_bytes());
            }
            Transport::Udp {
                src_port,
                dst_port,
                payload,
            } => {
                out.push(17);
                out.extend_from_slice(&src_port.to_le_bytes());
                out.extend_from_slice(&dst_port.to_le_bytes());
                out.extend_from_slice(&payload.to_le_bytes());
            }
            Transport::Other(p) => {
                out.push(0);
                out.push(p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_tcp_syn_and_refuses_junk() {
        let mut p = [0u8; 40];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&40u16.to_be_bytes());
        p[9] = 6;
        p[12..16].copy_from_slice(&[10, 0, 0, 1]);
        p[16..20].copy_from_slice(&[10, 0, 0, 2]);
        p[20..22].copy_from_slice(&49152u16.to_be_bytes());
        p[22..24].copy_from_slice(&7021u16.to_be_bytes());
        p[24..28].copy_from_slice(&1000u32.to_be_bytes());
        p[32] = 5 << 4;
        p[33] = flags::SYN;
        let info = PacketInfo::parse(&p).expect("a packet");
        assert_eq!(info.dst, [10, 0, 0, 2]);
        let Transport::Tcp(t) = info.transport else {
            panic!("tcp")
        };
        assert_eq!(
            (t.src_port, t.dst_port, t.seq, t.flags, t.payload),
            (49152, 7021, 1000, flags::SYN, 0)
        );
        assert_eq!(PacketInfo::parse(&p[..10]), None);
        assert_eq!(PacketInfo::parse(&[0x60; 40]), None);
        let mut short = p;
        short[32] = 15 << 4; // data offset past the end
        assert_eq!(
            PacketInfo::parse(&short).map(|i| i.transport),
            Some(Transport::Other(6))
        );
    }
}
