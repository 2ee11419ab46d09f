//! Hex dumps printed in the book's protocol chapters are real: each is
//! rebuilt here, checked against Wirekit's own parser, and found verbatim in
//! the chapter.

use wirekit_core::wire::tftp::{Packet, parse};
use wirekit_lessons::hexdump;

fn chapter(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../book/src")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_tftp_chapter_shows_curls_request_byte_for_byte() {
    let mut rrq = vec![0x00, 0x01];
    for field in [
        "file.bin", "octet", "tsize", "0", "blksize", "512", "timeout", "6",
    ] {
        rrq.extend(field.as_bytes());
        rrq.push(0);
    }
    assert_eq!(rrq.len(), 47, "the chapter says 47 bytes");
    let Ok(Packet::Rrq(request)) = parse(&rrq) else {
        panic!("not an RRQ: {:?}", parse(&rrq))
    };
    assert_eq!(request.filename, "file.bin");
    assert_eq!(request.options.len(), 3);
    let text = chapter("tftp.md");
    for line in hexdump(&rrq).lines() {
        assert!(text.contains(line), "tftp.md lacks the dump line {line:?}");
    }
}
