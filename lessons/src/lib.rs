//! Shared pieces of the book's lesson programs (`src/bin/*.rs`).
//!
//! Each program is small enough to read in one sitting; what several of
//! them need (a hex dump) and what the testing chapters build on (a tiny
//! length-prefixed framing) lives here, tested like the rest.

pub mod frame;
pub mod solutions;

// ANCHOR: hexdump
/// Sixteen bytes a line: the offset, the bytes in hex, and the printable ones.
pub fn hexdump(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (i, line) in bytes.chunks(16).enumerate() {
        out.push_str(&format!("{:04x} ", i * 16));
        for (j, b) in line.iter().enumerate() {
            let gap = if j == 8 { "  " } else { " " };
            out.push_str(&format!("{gap}{b:02x}"));
        }
        out.push_str(&"   ".repeat(16 - line.len()));
        out.push_str(if line.len() <= 8 { "   |" } else { "  |" });
        for &b in line {
            out.push(if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            });
        }
        out.push_str("|\n");
    }
    out
}
// ANCHOR_END: hexdump

#[cfg(test)]
mod tests {
    use super::hexdump;

    #[test]
    fn a_dump_lines_up() {
        let dump = hexdump(b"0123456789abcdefXY");
        let lines: Vec<&str> = dump.lines().collect();
        assert_eq!(
            lines[0],
            "0000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  |0123456789abcdef|"
        );
        assert_eq!(lines[1].find('|'), lines[0].find('|'));
        assert!(lines[1].ends_with("|XY|"));
    }
}
