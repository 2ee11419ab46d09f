//! Bytes that `arbitrary` 1.5 (the fuzz crate's pin) decodes into a chosen
//! value: the inverse of its reading, for the shapes the seeds need. A
//! structured target reads its input through `arbitrary`, so a captured
//! datagram is a seed for it only once it is written this way.
//!
//! What 1.5 reads, and so what this writes: integers little-endian in
//! their own width; `bool` and `Option`'s tag from one byte's low bit; an
//! enum variant from a `u32` scaled by the variant count; each element of a
//! `Vec` after a byte with the low bit set, the end as a byte without it.
//! (Slices and strings take their lengths from the end of the input: no
//! seed here uses them.) The tests decode what this writes with the crate.

/// An input being written, front to back.
#[derive(Debug, Default)]
pub struct Arb(Vec<u8>);

impl Arb {
    pub fn new() -> Self {
        Arb::default()
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }

    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.u8(u8::from(v))
    }

    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }

    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }

    pub fn i64(&mut self, v: i64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// Variant `index` of an enum of `count` (the derive picks
    /// `(u32 * count) >> 32`).
    pub fn variant(&mut self, index: u32, count: u32) -> &mut Self {
        let v = (u64::from(index) << 32).div_ceil(u64::from(count));
        self.u32(u32::try_from(v).unwrap_or(u32::MAX))
    }

    /// `Option`: `Some`, whose value the caller writes next.
    pub fn some(&mut self) -> &mut Self {
        self.bool(true)
    }

    pub fn none(&mut self) -> &mut Self {
        self.bool(false)
    }

    /// Before each element of a `Vec`.
    pub fn more(&mut self) -> &mut Self {
        self.bool(true)
    }

    /// After the last element of a `Vec`.
    pub fn end(&mut self) -> &mut Self {
        self.bool(false)
    }

    /// A `Vec<u8>`.
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        for &x in b {
            self.more().u8(x);
        }
        self.end()
    }

    /// `Option<u16>` and friends, written by `f` when present.
    pub fn option<T: Copy>(&mut self, v: Option<T>, f: impl FnOnce(&mut Self, T)) -> &mut Self {
        match v {
            Some(x) => {
                self.some();
                f(self, x);
            }
            None => {
                self.none();
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arbitrary::{Arbitrary, Unstructured};

    fn decode<'a, T: Arbitrary<'a>>(bytes: &'a [u8]) -> T {
        T::arbitrary_take_rest(Unstructured::new(bytes)).expect("decodes")
    }

    #[derive(Arbitrary, Debug, PartialEq)]
    enum Five {
        A,
        B(u8),
        C { x: u16 },
        D,
        E(Vec<u8>),
    }

    #[test]
    fn every_variant_of_an_enum_is_chosen_by_its_index() {
        for (i, want) in [
            Five::A,
            Five::B(7),
            Five::C { x: 513 },
            Five::D,
            Five::E(vec![0, 1, 255]),
        ]
        .into_iter()
        .enumerate()
        {
            let mut a = Arb::new();
            a.variant(i as u32, 5);
            match &want {
                Five::B(v) => {
                    a.u8(*v);
                }
                Five::C { x } => {
                    a.u16(*x);
                }
                Five::E(b) => {
                    a.bytes(b);
                }
                _ => {}
            }
            let bytes = a.into_bytes();
            assert_eq!(decode::<Five>(&bytes), want);
        }
    }

    #[test]
    fn tuples_vecs_and_options_decode_to_what_was_written() {
        let mut a = Arb::new();
        a.bytes(b"\x00\x01rrq\x00octet\x00")
            .u8(3)
            .bool(true)
            .option(Some(1468u16), |a, v| {
                a.u16(v);
            })
            .option(None::<u32>, |a, v| {
                a.u32(v);
            })
            .i64(-5);
        for piece in [&b"HELLO 1\r\n"[..], b"", b"LIST\r\n"] {
            a.more().bytes(piece);
        }
        a.end();
        let bytes = a.into_bytes();
        type T = (
            Vec<u8>,
            u8,
            bool,
            Option<u16>,
            Option<u32>,
            i64,
            Vec<Vec<u8>>,
        );
        let got: T = decode(&bytes);
        assert_eq!(
            got,
            (
                b"\x00\x01rrq\x00octet\x00".to_vec(),
                3,
                true,
                Some(1468),
                None,
                -5,
                vec![b"HELLO 1\r\n".to_vec(), vec![], b"LIST\r\n".to_vec()]
            )
        );
    }

    #[test]
    fn the_contract_checkers_ops_decode_as_written() {
        use wirekit_core::testing::contract::Op;
        let mut a = Arb::new();
        a.more().variant(0, 4).u8(0).bytes(b"HELLO 1\r\n");
        a.more().variant(2, 4).u16(250);
        a.more().variant(0, 4).u8(1).bytes(b"\x00\x04\x00\x01");
        a.end();
        let bytes = a.into_bytes();
        let ops: Vec<Op> = decode(&bytes);
        assert_eq!(
            format!("{ops:?}"),
            format!(
                "{:?}",
                [
                    Op::Data {
                        from: 0,
                        bytes: b"HELLO 1\r\n".to_vec()
                    },
                    Op::Advance { ms: 250 },
                    Op::Data {
                        from: 1,
                        bytes: b"\x00\x04\x00\x01".to_vec()
                    },
                ]
            )
        );
    }
}
