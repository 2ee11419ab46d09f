//! Slow local work and the end of a connection, through the real drivers
//! in every IO model: a slow answer (a hash, on the work pool) holds up no
//! other connection, and a fatal error reaches a client still sending.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wirekit::drive::Model;
use wirekit::services::{Proto, Service};
use wirekit_tests::native::{MODELS, addr, start_with};

const T: Duration = Duration::from_secs(20);

fn connect(to: SocketAddr) -> (TcpStream, BufReader<TcpStream>) {
    let s = TcpStream::connect(to).expect("connect");
    s.set_read_timeout(Some(T)).expect("timeout");
    let r = BufReader::new(s.try_clone().expect("clone"));
    (s, r)
}

fn line(r: &mut BufReader<TcpStream>) -> std::io::Result<String> {
    let mut l = String::new();
    r.read_line(&mut l)?;
    Ok(l.trim_end().to_string())
}

// ANCHOR: fatal_mid_upload
/// A client mid-upload sends a frame longer than the upload and 16 MiB
/// more after it. The server's `ERR 400` is fatal, but the server lingers
/// rather than closing on unread input: the client's writes all go through
/// (a close would answer them with a reset: "broken pipe"), it reads the
/// error, and then a clean end of stream.
fn fatal_error_reaches_a_client_still_sending(model: Model) {
    let dir = tempfile::tempdir().expect("dir");
    let r = start_with(dir.path(), |c| {
        c.model = model;
        c.services = vec![Service::Transfer];
    });
    let (mut s, mut rd) = connect(addr(&r, Service::Transfer, Proto::Tcp));
    s.write_all(b"HELLO 1\nPUT f 10\n").expect("write");
    assert_eq!(line(&mut rd).expect("hello"), "HELLO 1", "{model:?}");
    assert_eq!(line(&mut rd).expect("ready"), "READY 0", "{model:?}");
    let frame = [b"DATA 65536\n".as_slice(), &[b'x'; 65536]].concat();
    for n in 0..256 {
        if let Err(e) = s.write_all(&frame) {
            panic!("{model:?}: frame {n} not sent: {e}");
        }
    }
    s.shutdown(Shutdown::Write).expect("shutdown");
    let reply = line(&mut rd).unwrap_or_else(|e| panic!("{model:?}: no reply: {e}"));
    assert!(reply.starts_with("ERR 400"), "{model:?}: {reply:?}");
    let mut rest = Vec::new();
    let end = rd.read_to_end(&mut rest);
    assert!(
        matches!(end, Ok(0)),
        "{model:?}: after the error {end:?}, {} bytes",
        rest.len()
    );
}
// ANCHOR_END: fatal_mid_upload

#[test]
fn fatal_error_reaches_a_client_still_sending_async() {
    fatal_error_reaches_a_client_still_sending(Model::Async);
}

#[test]
fn fatal_error_reaches_a_client_still_sending_threads() {
    fatal_error_reaches_a_client_still_sending(Model::Threads);
}

#[test]
fn fatal_error_reaches_a_client_still_sending_poll() {
    fatal_error_reaches_a_client_still_sending(Model::Poll);
}

#[test]
fn fatal_error_reaches_a_client_still_sending_iterative() {
    fatal_error_reaches_a_client_still_sending(Model::Iterative);
}
