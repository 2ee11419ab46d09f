//! Properties of the netstring framing in `src/frame.rs`: the three kinds
//! the book's property-testing chapter names, and the one it asks the
//! learner to write (the last).

use proptest::prelude::*;
use wirekit_lessons::frame::{Decoder, FrameError, MAX_PAYLOAD, encode};

// ANCHOR: round_trip
proptest! {
    /// Whatever is encoded decodes to itself.
    #[test]
    fn a_payload_round_trips(payload in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let decoded = Decoder::default().push(&encode(&payload)).unwrap();
        prop_assert_eq!(decoded, vec![payload]);
    }
}
// ANCHOR_END: round_trip

// ANCHOR: chunk_split
proptest! {
    /// Cutting the stream anywhere changes nothing: TCP may cut it anywhere.
    #[test]
    fn cuts_do_not_matter(
        payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..8),
        cuts in proptest::collection::vec(1usize..64, 0..40),
    ) {
        let stream: Vec<u8> = payloads.iter().flat_map(|p| encode(p)).collect();
        let (mut decoder, mut got, mut rest) = (Decoder::default(), Vec::new(), &stream[..]);
        for cut in cuts.into_iter().chain(std::iter::once(usize::MAX)) {
            let (piece, tail) = rest.split_at(cut.min(rest.len()));
            got.extend(decoder.push(piece).unwrap());
            rest = tail;
        }
        prop_assert_eq!(got, payloads);
    }
}
// ANCHOR_END: chunk_split

// ANCHOR: learner
proptest! {
    /// The learner's property: garbage never panics, and a stream that is
    /// refused once stays refused whatever follows (no silent resync).
    #[test]
    fn garbage_is_refused_not_a_panic(
        garbage in proptest::collection::vec(any::<u8>(), 0..200),
        more in proptest::collection::vec(any::<u8>(), 0..50),
    ) {
        let mut decoder = Decoder::default();
        if let Err(e) = decoder.push(&garbage) {
            prop_assert!(matches!(e, FrameError::BadLength | FrameError::MissingComma));
            prop_assert!(decoder.push(&more).is_err());
        }
    }
}
// ANCHOR_END: learner

// ANCHOR: exercises
proptest! {
    /// Exercise 1: the encoded size is the payload, its decimal length, `:` and `,`.
    #[test]
    fn the_encoded_size_is_exact(payload in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let digits = payload.len().to_string().len();
        prop_assert_eq!(encode(&payload).len(), payload.len() + digits + 2);
    }

    /// Exercise 2: two encodings back to back decode to both payloads, in order.
    #[test]
    fn concatenations_decode_in_order(
        a in proptest::collection::vec(any::<u8>(), 0..300),
        b in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let stream = [encode(&a), encode(&b)].concat();
        prop_assert_eq!(Decoder::default().push(&stream).unwrap(), vec![a, b]);
    }
}
// ANCHOR_END: exercises

#[test]
fn the_largest_payload_is_accepted_and_one_more_is_not() {
    let max = vec![7; MAX_PAYLOAD];
    assert_eq!(Decoder::default().push(&encode(&max)), Ok(vec![max]));
    let over = encode(&vec![7; MAX_PAYLOAD + 1]);
    assert_eq!(Decoder::default().push(&over), Err(FrameError::BadLength));
}
