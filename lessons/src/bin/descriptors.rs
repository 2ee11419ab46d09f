//! A socket is a file descriptor: the same kind of handle as an open file.
use std::fs::File;
use std::net::{TcpListener, UdpSocket};
use std::os::fd::AsRawFd;

/// What /proc says descriptor `fd` of this process is, inode numbers hidden.
fn what_is(fd: i32) -> String {
    match std::fs::read_link(format!("/proc/self/fd/{fd}")) {
        Ok(target) => {
            let text = target.display().to_string();
            match text.split_once('[') {
                Some((kind, _inode)) => format!("{kind}[INODE]"),
                None => text,
            }
        }
        Err(e) => format!("unknown ({e})"),
    }
}

fn main() -> std::io::Result<()> {
    // ANCHOR: descriptors
    let file = File::open("/dev/null")?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let udp = UdpSocket::bind("127.0.0.1:0")?;
    for (name, fd) in [
        ("a file", file.as_raw_fd()),
        ("a TCP listener", listener.as_raw_fd()),
        ("a UDP socket", udp.as_raw_fd()),
    ] {
        println!(
            "{name:<14} is descriptor {}: {}",
            if fd > 2 { "3 or above" } else { "below 3" },
            what_is(fd)
        );
    }
    // ANCHOR_END: descriptors
    // ANCHOR: numbers
    let number = listener.as_raw_fd();
    drop(listener); // closing frees the number ...
    let again = TcpListener::bind("127.0.0.1:0")?; // ... and the next socket reuses it
    println!(
        "the lowest free number is reused: {}",
        again.as_raw_fd() == number
    );
    // ANCHOR_END: numbers
    Ok(())
}
