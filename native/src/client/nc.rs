//! `wirekit nc`: a small netcat, for the book's hand-typed sessions (WKFT/1
//! requests, the classic tutorials' raw HTTP GET) and for poking at any server.
//!
//! Not a protocol machine: it copies bytes both ways, which is the point —
//! it shows what the protocols look like on the wire.

use crate::client::ClientError;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, UdpSocket};
use std::time::Duration;

/// Passes received bytes on at once (a person is watching); returns how many.
fn show(output: &mut dyn Write, bytes: &[u8]) -> Result<u64, ClientError> {
    let local = |e: io::Error| ClientError::Local(e.to_string());
    output.write_all(bytes).map_err(local)?;
    output.flush().map_err(local)?;
    Ok(bytes.len() as u64)
}

/// Copies standard input to a TCP connection and the connection to standard
/// output, until both directions end. After standard input ends the write
/// side is closed (like `nc -N`) and replies are read until the server closes
/// or `wait` passes without a byte.
pub fn tcp(
    addr: SocketAddr,
    wait: Duration,
    input: impl Read + Send + 'static,
    mut output: impl Write,
) -> Result<u64, ClientError> {
    let stream = crate::client::connect(addr, wait.max(Duration::from_secs(1)))?;
    let mut writer = stream.try_clone()?;
    let pump = std::thread::spawn(move || -> io::Result<()> {
        let mut input = input;
        io::copy(&mut input, &mut writer)?;
        writer.shutdown(Shutdown::Write)
    });
    let mut reader = stream;
    reader.set_read_timeout(Some(wait))?;
    let mut buf = vec![0; 16 * 1024];
    let mut total = 0u64;
    let mut input_done = false;
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => total += show(&mut output, buf.get(..n).unwrap_or_default())?,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                // Quiet: stop only once our side is finished too.
                input_done = input_done || pump.is_finished();
                if input_done {
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    let _ = reader.shutdown(Shutdown::Both);
    if pump.is_finished() {
        match pump.join() {
            Ok(Err(e)) if e.kind() != io::ErrorKind::NotConnected => {
                tracing::debug!("nc input: {e}")
            }
            _ => {}
        }
    }
    Ok(total)
}

/// Sends each line of `input` as one datagram and prints every reply that
/// arrives; after the input ends, waits `wait` for late replies.
pub fn udp(
    addr: SocketAddr,
    wait: Duration,
    input: impl io::BufRead,
    mut output: impl Write,
) -> Result<u64, ClientError> {
    let local: SocketAddr = if addr.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local)?;
    socket.connect(addr)?;
    let mut buf = vec![0; 64 * 1024];
    let mut total = 0u64;
    let mut drain = |socket: &UdpSocket,
                     patience: Duration,
                     output: &mut dyn Write|
     -> Result<(), ClientError> {
        socket.set_read_timeout(Some(patience))?;
        loop {
            match socket.recv(&mut buf) {
                Ok(n) => total += show(output, buf.get(..n).unwrap_or_default())?,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(());
                }
                // Nothing listens there (ICMP port unreachable).
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                    return Err(ClientError::Unreachable {
                        addr: addr.to_string(),
                        source: e,
                    });
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    for line in input.lines() {
        let line = line.map_err(|e| ClientError::Local(e.to_string()))?;
        socket.send(format!("{line}\n").as_bytes())?;
        drain(&socket, Duration::from_millis(50), &mut output)?;
    }
    drain(&socket, wait, &mut output)?;
    Ok(total)
}

/// Name resolution, like the classic tutorials' `gethostbyname`: every address a name
/// has, in the order the system resolver gives them.
pub fn resolve(name: &str) -> Result<Vec<std::net::IpAddr>, ClientError> {
    use std::net::ToSocketAddrs;
    let addrs = (name, 0)
        .to_socket_addrs()
        .map_err(|source| ClientError::Unreachable {
            addr: name.to_owned(),
            source,
        })?;
    let mut out: Vec<std::net::IpAddr> = Vec::new();
    for a in addrs {
        if !out.contains(&a.ip()) {
            out.push(a.ip());
        }
    }
    Ok(out)
}
