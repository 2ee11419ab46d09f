//! Every packet as a classic pcap file that tcpdump, tshark and Wireshark read.
//!
//! The simulator's packets are bare IPv4 packets (smoltcp's IP medium), so
//! the link type is `LINKTYPE_RAW` (101): no link-layer header at all. The
//! format is small enough to write by hand: a 24-byte file header, then for
//! each packet a 16-byte record header and the bytes. Timestamps are virtual
//! time (µs) after the scenario's wall-clock start.

use alloc::vec::Vec;

/// `LINKTYPE_RAW`: each record is an IPv4 or IPv6 packet.
pub const LINKTYPE_RAW: u32 = 101;

/// Largest packet the simulator carries, and so the file's snap length.
pub const SNAPLEN: u32 = 65_535;

/// Largest capture kept in memory; later packets are counted, not written.
pub const MAX_PCAP_BYTES: usize = 256 * 1024 * 1024;

/// A pcap file being written into memory.
#[derive(Clone, Debug)]
pub struct Pcap {
    bytes: Vec<u8>,
    packets: u64,
    skipped: u64,
}

impl Pcap {
    /// An empty capture (just the file header).
    pub fn new() -> Self {
        let mut bytes = Vec::with_capacity(1 << 16);
        bytes.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes()); // µs timestamps
        bytes.extend_from_slice(&2u16.to_le_bytes()); // version 2.4
        bytes.extend_from_slice(&4u16.to_le_bytes());
        bytes.extend_from_slice(&0i32.to_le_bytes()); // GMT offset
        bytes.extend_from_slice(&0u32.to_le_bytes()); // accuracy
        bytes.extend_from_slice(&SNAPLEN.to_le_bytes());
        bytes.extend_from_slice(&LINKTYPE_RAW.to_le_bytes());
        Pcap {
            bytes,
            packets: 0,
            skipped: 0,
        }
    }

    /// Appends one packet seen at `unix_us` µs since 1970.
    pub fn record(&mut self, unix_us: u64, packet: &[u8]) {
        let caught = packet.len().min(SNAPLEN as usize);
        if self.bytes.len() + 16 + caught > MAX_PCAP_BYTES {
            self.skipped += 1;
            return;
        }
        let secs = u32::try_from(unix_us / 1_000_000).unwrap_or(u32::MAX);
        let micros = (unix_us % 1_000_000) as u32;
        self.bytes.extend_from_slice(&secs.to_le_bytes());
        self.bytes.extend_from_slice(&micros.to_le_bytes());
        self.bytes.extend_from_slice(&(caught as u32).to_le_bytes());
        self.bytes
            .extend_from_slice(&(packet.len() as u32).to_le_bytes());
        self.bytes
            .extend_from_slice(packet.get(..caught).unwrap_or(packet));
        self.packets += 1;
    }

    /// Packets recorded.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Packets left out because the capture reached [`MAX_PCAP_BYTES`].
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// The file so far.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The file.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

impl Default for Pcap {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_one_record() {
        let mut p = Pcap::new();
        p.record(1_500_000, &[0x45, 0, 0, 20]);
        let b = p.bytes();
        assert_eq!(b.len(), 24 + 16 + 4);
        assert_eq!(&b[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(&b[20..24], &101u32.to_le_bytes());
        assert_eq!(&b[24..28], &1u32.to_le_bytes());
        assert_eq!(&b[28..32], &500_000u32.to_le_bytes());
        assert_eq!(&b[32..36], &4u32.to_le_bytes());
    }
}
