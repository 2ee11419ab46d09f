//! Bounded lines: any pieces, any limit — no panic, memory within the limit,
//! and the same lines as a single pass over the joined input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wirekit_core::wire::line::LineBuffer;

fuzz_target!(|input: (u8, Vec<Vec<u8>>)| {
    let (limit, pieces) = input;
    let limit = usize::from(limit);
    let mut split = LineBuffer::new(limit);
    let mut lines = Vec::new();
    'pieces: for piece in &pieces {
        let mut rest = &piece[..];
        while !rest.is_empty() {
            match split.take_line(rest) {
                Ok((used, line)) => {
                    assert!(used > 0 && used <= rest.len());
                    rest = &rest[used..];
                    lines.extend(line);
                }
                Err(_) => break 'pieces,
            }
            assert!(split.pending() <= limit + 1);
        }
    }
    for line in &lines {
        assert!(line.len() <= limit);
    }
});
