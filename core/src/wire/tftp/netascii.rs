//! Netascii: TFTP's text mode (RFC 1350, after Telnet's NVT ASCII).
//!
//! On the wire a line ends in CR LF and a carriage return that does not end
//! a line is sent as CR NUL. Locally (Unix) a line ends in LF. So:
//!
//! | local | wire |
//! |---|---|
//! | LF | CR LF |
//! | CR | CR NUL |
//! | any other byte | itself |
//!
//! Encoding needs no memory: every local byte becomes one or two wire
//! bytes, and the sender cuts the wire bytes into blocks wherever the block
//! size falls, even between a CR and its LF. That is why decoding does need
//! memory: a block may end in a CR whose meaning only the next block tells.
//! [`Decoder`] keeps that CR across calls, so any split of the wire bytes
//! decodes the same.

use bytes::{BufMut, BytesMut};

/// Appends the wire form of the local bytes `local` to `out`.
pub fn encode(local: &[u8], out: &mut BytesMut) {
    out.reserve(local.len() + local.len() / 8);
    let mut start = 0;
    for (i, b) in local.iter().enumerate() {
        let pair: &[u8] = match b {
            b'\n' => b"\r\n",
            b'\r' => b"\r\0",
            _ => continue,
        };
        out.put_slice(local.get(start..i).unwrap_or_default());
        out.put_slice(pair);
        start = i + 1;
    }
    out.put_slice(local.get(start..).unwrap_or_default());
}

/// Turns netascii wire bytes back into local bytes, piece by piece.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Decoder {
    /// The last piece ended in a CR not yet decided.
    carriage_return: bool,
}

impl Decoder {
    /// A decoder at the start of a file.
    pub fn new() -> Self {
        Decoder::default()
    }

    /// Appends the local form of the next wire bytes to `out`.
    ///
    /// A CR followed by anything but LF or NUL is not netascii; it is kept
    /// as a CR, and the byte after it is decoded normally.
    pub fn decode(&mut self, wire: &[u8], out: &mut BytesMut) {
        out.reserve(wire.len() + 1);
        for &b in wire {
            if self.carriage_return {
                self.carriage_return = false;
                match b {
                    b'\n' => {
                        out.put_u8(b'\n');
                        continue;
                    }
                    0 => {
                        out.put_u8(b'\r');
                        continue;
                    }
                    _ => out.put_u8(b'\r'),
                }
            }
            if b == b'\r' {
                self.carriage_return = true;
            } else {
                out.put_u8(b);
            }
        }
    }

    /// The file ended: a CR still waiting is kept as a CR.
    pub fn finish(&mut self, out: &mut BytesMut) {
        if core::mem::take(&mut self.carriage_return) {
            out.put_u8(b'\r');
        }
    }
}

/// Decodes a whole wire text at once.
pub fn decode_all(wire: &[u8]) -> BytesMut {
    let mut out = BytesMut::new();
    let mut d = Decoder::new();
    d.decode(wire, &mut out);
    d.finish(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn enc(local: &[u8]) -> Vec<u8> {
        let mut out = BytesMut::new();
        encode(local, &mut out);
        out.to_vec()
    }

    #[test]
    fn the_table() {
        assert_eq!(enc(b"a\nb\rc"), b"a\r\nb\r\0c");
        assert_eq!(enc(b"\r\n"), b"\r\0\r\n");
        assert_eq!(&decode_all(b"a\r\nb\r\0c")[..], b"a\nb\rc");
        assert_eq!(
            &decode_all(b"x\r")[..],
            b"x\r",
            "a CR at the very end stays"
        );
        assert_eq!(
            &decode_all(b"\rx\r\r\n")[..],
            b"\rx\r\n",
            "a stray CR stays"
        );
    }

    #[test]
    fn a_cr_split_from_its_lf() {
        let mut d = Decoder::new();
        let mut out = BytesMut::new();
        d.decode(b"line\r", &mut out);
        assert_eq!(&out[..], b"line");
        d.decode(b"\nnext\r", &mut out);
        d.decode(b"\0", &mut out);
        d.finish(&mut out);
        assert_eq!(&out[..], b"line\nnext\r");
    }

    proptest! {
        #[test]
        fn round_trip_under_any_split(
            local in proptest::collection::vec(prop_oneof![Just(b'\r'), Just(b'\n'), Just(0u8), any::<u8>()], 0..300),
            cuts in proptest::collection::vec(0usize..400, 0..6),
        ) {
            let wire = enc(&local);
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (wire.len() + 1)).collect();
            cuts.sort_unstable();
            let mut d = Decoder::new();
            let mut out = BytesMut::new();
            let mut start = 0;
            for c in cuts.into_iter().chain([wire.len()]) {
                d.decode(&wire[start..c], &mut out);
                start = c;
            }
            d.finish(&mut out);
            prop_assert_eq!(&out[..], &local[..]);
        }

        #[test]
        fn decoding_any_bytes_never_panics_and_never_grows(wire in proptest::collection::vec(any::<u8>(), 0..300)) {
            let out = decode_all(&wire);
            prop_assert!(out.len() <= wire.len());
        }
    }
}
