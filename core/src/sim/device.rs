//! The virtual network card under a host's smoltcp interface.
//!
//! smoltcp talks to hardware through `phy::Device`. Here the "hardware" is
//! two queues: packets the simulator delivered wait in `rx` until the
//! interface polls them; packets the interface sends pile up in `tx` until
//! the simulator collects them and hands them to a link. Buffers are reused
//! through a small free list, so a busy run allocates little per packet.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use smoltcp::phy::{self, ChecksumCapabilities, DeviceCapabilities, Medium};
use smoltcp::time::Instant as SmolInstant;

/// Buffers kept for reuse at most.
const MAX_FREE_BUFFERS: usize = 256;

/// A device whose wire is the simulator.
#[derive(Debug)]
pub struct SimDevice {
    /// Delivered packets, oldest first.
    pub rx: VecDeque<Vec<u8>>,
    /// Sent packets, oldest first.
    pub tx: Vec<Vec<u8>>,
    free: Vec<Vec<u8>>,
    mtu: usize,
}

impl SimDevice {
    /// A device carrying IP packets of at most `mtu` bytes.
    pub fn new(mtu: usize) -> Self {
        SimDevice {
            rx: VecDeque::new(),
            tx: Vec::new(),
            free: Vec::new(),
            mtu,
        }
    }

    /// A buffer for a new packet, reused if one is free.
    pub fn buffer(&mut self) -> Vec<u8> {
        self.free.pop().unwrap_or_default()
    }

    /// Gives a buffer back for reuse.
    pub fn recycle(&mut self, mut buf: Vec<u8>) {
        if self.free.len() < MAX_FREE_BUFFERS {
            buf.clear();
            self.free.push(buf);
        }
    }
}

/// A delivered packet, handed to smoltcp.
#[derive(Debug)]
pub struct RxToken<'a> {
    buf: Vec<u8>,
    free: &'a mut Vec<Vec<u8>>,
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        let r = f(&self.buf);
        if self.free.len() < MAX_FREE_BUFFERS {
            let mut buf = self.buf;
            buf.clear();
            self.free.push(buf);
        }
        r
    }
}

/// Room for one packet smoltcp sends.
#[derive(Debug)]
pub struct TxToken<'a> {
    tx: &'a mut Vec<Vec<u8>>,
    buf: Vec<u8>,
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = self.buf;
        buf.resize(len, 0);
        let r = f(&mut buf);
        self.tx.push(buf);
        r
    }
}

impl phy::Device for SimDevice {
    type RxToken<'a> = RxToken<'a>;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _now: SmolInstant) -> Option<(RxToken<'_>, TxToken<'_>)> {
        let buf = self.rx.pop_front()?;
        // The reply buffer is taken before the free list is lent to the rx token.
        let reply = self.free.pop().unwrap_or_default();
        Some((
            RxToken {
                buf,
                free: &mut self.free,
            },
            TxToken {
                tx: &mut self.tx,
                buf: reply,
            },
        ))
    }

    fn transmit(&mut self, _now: SmolInstant) -> Option<TxToken<'_>> {
        let buf = self.free.pop().unwrap_or_default();
        Some(TxToken {
            tx: &mut self.tx,
            buf,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ip;
        caps.max_transmission_unit = self.mtu;
        // Real checksums: corrupted packets must be caught by the receiver,
        // and the pcap must look like a real capture.
        caps.checksum = ChecksumCapabilities::default();
        caps
    }
}
