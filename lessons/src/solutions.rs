//! Worked solutions of the book's exercises that are code; the appendix
//! "Solutions" includes them from here, and the tests below run them.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs, UdpSocket};
use std::process::Child;
use std::time::Duration;

use bytes::Bytes;
use std::convert::Infallible;
use wirekit_core::outbox::{MAX_QUEUED, Outbox};
use wirekit_core::{Input, Instant, Machine, Now, Transmit};

// ANCHOR: checksum
/// The IPv4 header checksum (RFC 791, computed as RFC 1071 explains): the
/// ones'-complement sum of the header's 16-bit words, with the checksum
/// field itself counted as zero, complemented.
pub fn ipv4_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for (i, pair) in header.chunks(2).enumerate() {
        if i == 5 {
            continue; // bytes 10 and 11 are the checksum field
        }
        let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
        sum += u32::from(word);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16); // fold the carries back in
    }
    !(sum as u16)
}
// ANCHOR_END: checksum

// ANCHOR: rfc868
/// Four bytes of an RFC 868 answer as Unix seconds (before the 2036 wrap).
pub fn rfc868_to_unix(wire: [u8; 4]) -> i64 {
    i64::from(u32::from_be_bytes(wire)) - 2_208_988_800
}
// ANCHOR_END: rfc868

// ANCHOR: backoff
/// Sends `request` on a connected socket and waits for one reply, doubling
/// the wait after each silence; `None` once the next wait would pass `max`.
pub fn ask_with_backoff(
    socket: &UdpSocket,
    request: &[u8],
    first: Duration,
    max: Duration,
) -> io::Result<Option<Vec<u8>>> {
    let mut wait = first;
    let mut buf = [0; 1500];
    while wait <= max {
        socket.send(request)?;
        socket.set_read_timeout(Some(wait))?;
        match socket.recv(&mut buf) {
            Ok(n) => return Ok(Some(buf[..n].to_vec())),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                wait *= 2;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}
// ANCHOR_END: backoff

// ANCHOR: content_length
/// The `Content-Length` of an HTTP response head, if it has a valid one.
/// Header names are case-insensitive (RFC 9110, 5.1).
pub fn content_length(head: &str) -> Option<usize> {
    head.lines().skip(1).find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())?
    })
}
// ANCHOR_END: content_length

// ANCHOR: connect_any
/// Resolves `name` and tries each address in turn, each for at most
/// `timeout`; the last error if none answers.
pub fn connect_any(name: &str, timeout: Duration) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the name has no address");
    for addr in name.to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e,
        }
    }
    Err(last)
}
// ANCHOR_END: connect_any

// ANCHOR: answer_lines
/// Answers each line as it arrives, in capitals, until the client closes:
/// many requests on one connection. Returns how many lines it answered.
pub fn answer_lines(stream: TcpStream) -> io::Result<usize> {
    let mut writer = &stream;
    let mut answered = 0;
    for line in BufReader::new(&stream).lines() {
        writeln!(writer, "{}", line?.to_uppercase())?;
        answered += 1;
    }
    Ok(answered)
}
// ANCHOR_END: answer_lines

// ANCHOR: reap_all
/// Waits for every child, reaping each as soon as it exits, in the order
/// they finish; returns their process ids in that order.
pub fn reap_all(mut children: Vec<Child>) -> io::Result<Vec<u32>> {
    let mut finished = Vec::new();
    while !children.is_empty() {
        let mut i = 0;
        while i < children.len() {
            if children[i].try_wait()?.is_some() {
                finished.push(children.swap_remove(i).id());
            } else {
                i += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(finished)
}
// ANCHOR_END: reap_all

// ANCHOR: read_or_timeout
/// Reads once from an async stream, or gives up after `limit`: `None` means
/// the peer said nothing in time (a per-connection idle timeout).
pub async fn read_or_timeout(
    stream: &mut smol::net::TcpStream,
    buf: &mut [u8],
    limit: Duration,
) -> Option<io::Result<usize>> {
    use smol::io::AsyncReadExt;
    let read = async { Some(stream.read(buf).await) };
    let timer = async {
        smol::Timer::after(limit).await;
        None
    };
    smol::future::or(read, timer).await
}
// ANCHOR_END: read_or_timeout

// ANCHOR: lengths
/// The smallest honest machine: answers every datagram with its length as
/// text. A flood of datagrams that nobody drains is dropped past
/// `MAX_QUEUED` instead of growing the queue.
#[derive(Debug, Default)]
pub struct Lengths {
    out: Outbox,
}

impl Machine for Lengths {
    type Command = Infallible;
    type Event = Infallible;
    type Error = Infallible;

    fn handle_input(&mut self, _now: Now, input: Input<'_>) -> Result<(), Infallible> {
        if let Input::Data { from, bytes } = input
            && self.out.len() < MAX_QUEUED
        {
            let answer = format!("{} bytes", bytes.len());
            self.out.push(from, Bytes::from(answer));
        }
        Ok(())
    }

    fn handle_command(&mut self, _now: Now, cmd: Infallible) -> Result<(), Infallible> {
        match cmd {}
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop()
    }

    fn poll_event(&mut self) -> Option<Infallible> {
        None
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    fn is_done(&self) -> bool {
        false // a datagram server serves until its driver stops
    }
}
// ANCHOR_END: lengths

// ANCHOR: give_up
/// Runs the UDP echo client against silence, on virtual time: how many
/// sends it makes and how much time passes before it says the server is
/// down. Takes microseconds of real time.
pub fn time_to_give_up() -> (u32, Duration) {
    use wirekit_core::echo::{Echoed, UdpClient};
    use wirekit_core::request::RequestEvent;
    use wirekit_core::retry::BackoffConfig;
    let start = Now::default();
    let mut client = UdpClient::new(Echoed, BackoffConfig::default(), 1).expect("a schedule");
    client
        .handle_command(start, Bytes::from_static(b"hi"))
        .expect("idle");
    let mut now = start;
    loop {
        while client.poll_transmit().is_some() {} // the network loses them all
        while let Some(event) = client.poll_event() {
            if let RequestEvent::ServerDown { attempts } = event {
                return (attempts, now.mono - start.mono);
            }
        }
        let Some(at) = client.poll_timeout() else {
            return (0, now.mono - start.mono);
        };
        now = now.advanced(at - now.mono); // no sleep: time is an argument
        client.handle_input(now, Input::Timeout).expect("a timeout");
    }
}
// ANCHOR_END: give_up

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    #[test]
    fn lengths_answers_each_sender_and_stays_bounded() {
        use wirekit_core::{PeerId, drain};
        let mut m = Lengths::default();
        let now = Now::default();
        for (peer, msg) in [(1, &b"hello"[..]), (2, b"")] {
            let input = Input::Data {
                from: PeerId(peer),
                bytes: msg,
            };
            m.handle_input(now, input).unwrap_or_else(|e| match e {});
        }
        let mut sent = Vec::new();
        drain(&mut m, |t| sent.push((t.to, t.payload)), |e| match e {});
        assert_eq!(
            sent,
            [
                (PeerId(1), Bytes::from_static(b"5 bytes")),
                (PeerId(2), Bytes::from_static(b"0 bytes"))
            ]
        );
        for _ in 0..10 * MAX_QUEUED {
            let input = Input::Data {
                from: PeerId(3),
                bytes: b"x",
            };
            m.handle_input(now, input).unwrap_or_else(|e| match e {});
        }
        assert_eq!(m.out.len(), MAX_QUEUED);
    }

    #[test]
    fn the_echo_client_gives_up_after_five_sends_and_3_1_virtual_seconds() {
        let real = std::time::Instant::now();
        let (attempts, waited) = time_to_give_up();
        assert_eq!(attempts, 5);
        assert_eq!(waited, Duration::from_millis(100 + 200 + 400 + 800 + 1600));
        assert!(real.elapsed() < Duration::from_secs(1), "no real waiting");
    }

    #[test]
    fn the_checksum_of_a_known_header() {
        // A header from a capture, checksum b861 in its bytes 10 and 11.
        let header = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(ipv4_checksum(&header), 0xb861);
    }

    #[test]
    fn rfc868_fixed_points() {
        assert_eq!(rfc868_to_unix(2_208_988_800u32.to_be_bytes()), 0);
        assert_eq!(rfc868_to_unix([0xee, 0xad, 0x42, 0xd3]), 1_795_343_443);
    }

    #[test]
    fn backoff_survives_two_lost_requests() -> io::Result<()> {
        let server = UdpSocket::bind("127.0.0.1:0")?;
        let client = UdpSocket::bind("127.0.0.1:0")?;
        client.connect(server.local_addr()?)?;
        let t = thread::spawn(move || -> io::Result<()> {
            let mut buf = [0; 64];
            for _ in 0..2 {
                server.recv_from(&mut buf)?; // lost, as far as the client can tell
            }
            let (n, from) = server.recv_from(&mut buf)?;
            server.send_to(&buf[..n], from)?;
            Ok(())
        });
        let ms = Duration::from_millis;
        let reply = ask_with_backoff(&client, b"ping", ms(50), ms(1000))?;
        assert_eq!(reply.as_deref(), Some(&b"ping"[..]));
        t.join().expect("server thread")?;
        // Nobody answers at all: None after 50 + 100 + 200 ms.
        let silent = UdpSocket::bind("127.0.0.1:0")?;
        client.connect(silent.local_addr()?)?;
        assert_eq!(ask_with_backoff(&client, b"ping", ms(50), ms(200))?, None);
        Ok(())
    }

    #[test]
    fn content_length_is_found_in_any_case() {
        let head = "HTTP/1.1 200 OK\r\ncontent-LENGTH: 12\r\nServer: x";
        assert_eq!(content_length(head), Some(12));
        assert_eq!(content_length("HTTP/1.1 200 OK\r\nX: 1"), None);
        assert_eq!(content_length("HTTP/1.1 200 OK\r\nContent-Length: x"), None);
    }

    #[test]
    fn connect_any_finds_the_listening_address() -> io::Result<()> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let stream = connect_any(&format!("localhost:{port}"), Duration::from_secs(1))?;
        assert_eq!(stream.peer_addr()?.port(), port);
        let closed = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        assert!(connect_any(&closed.to_string(), Duration::from_secs(1)).is_err());
        Ok(())
    }

    #[test]
    fn lines_are_answered_as_they_arrive() -> io::Result<()> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let mut client = TcpStream::connect(listener.local_addr()?)?;
        let server = thread::spawn(move || answer_lines(listener.accept()?.0));
        let mut replies = BufReader::new(client.try_clone()?).lines();
        for word in ["one", "two"] {
            writeln!(client, "{word}")?; // the answer comes before the next line is sent
            assert_eq!(replies.next().expect("a reply")?, word.to_uppercase());
        }
        client.shutdown(std::net::Shutdown::Write)?;
        assert_eq!(server.join().expect("server thread")?, 2);
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn children_are_reaped_in_the_order_they_finish() -> io::Result<()> {
        let spawn = |secs: &str| std::process::Command::new("sleep").arg(secs).spawn();
        let (slow, fast) = (spawn("0.3")?, spawn("0.01")?);
        let (slow_id, fast_id) = (slow.id(), fast.id());
        assert_eq!(reap_all(vec![slow, fast])?, vec![fast_id, slow_id]);
        Ok(())
    }

    #[test]
    fn a_silent_peer_times_out() -> io::Result<()> {
        smol::block_on(async {
            let listener = smol::net::TcpListener::bind("127.0.0.1:0").await?;
            let _client = smol::net::TcpStream::connect(listener.local_addr()?).await?;
            let (mut stream, _) = listener.accept().await?;
            let mut buf = [0; 16];
            let got = read_or_timeout(&mut stream, &mut buf, Duration::from_millis(50)).await;
            assert!(got.is_none());
            Ok(())
        })
    }
}
