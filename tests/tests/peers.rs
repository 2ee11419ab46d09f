//! The reference peers themselves behave as the interop tests assume.

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::time::Duration;
use wirekit_tests::peers::Xinetd;

#[test]
fn xinetd_reference_services_answer() {
    let x = Xinetd::start();
    let mut s = TcpStream::connect(("127.0.0.1", x.echo)).unwrap();
    s.write_all(b"ping\n").unwrap();
    let mut buf = [0u8; 5];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping\n");

    let mut t = TcpStream::connect(("127.0.0.1", x.time)).unwrap();
    let mut secs = Vec::new();
    t.read_to_end(&mut secs).unwrap();
    assert_eq!(secs.len(), 4, "RFC 868 sends exactly four bytes");

    let u = UdpSocket::bind("127.0.0.1:0").unwrap();
    u.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    u.send_to(b"x", ("127.0.0.1", x.daytime)).unwrap();
    let mut line = [0u8; 256];
    let n = u.recv(&mut line).unwrap();
    assert!(
        n > 10 && line[..n].ends_with(b"\n"),
        "a daytime line: {:?}",
        &line[..n]
    );
}
