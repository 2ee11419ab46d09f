//! Runs every lesson program and compares what it prints with the file the
//! book shows as its output (`lessons/expected/NAME.txt`). Ports the system
//! picks change from run to run, so they are shown (and compared) as `PORT`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn expected(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("expected")
        .join(format!("{name}.txt"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `127.0.0.1:41234` → `127.0.0.1:PORT`; port 0 and the 7xxx ports stay.
fn normalize(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = ["127.0.0.1:", "0.0.0.0:"]
        .iter()
        .filter_map(|p| rest.find(p).map(|i| i + p.len()))
        .min()
    {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let port = &rest[..digits];
        if port == "0" || port.starts_with('7') && port.len() == 4 || port.is_empty() {
            out.push_str(port);
        } else {
            out.push_str("PORT");
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

fn bin(name: &str) -> Command {
    let path = match name {
        "layers" => env!("CARGO_BIN_EXE_layers"),
        "addresses" => env!("CARGO_BIN_EXE_addresses"),
        "byte_order" => env!("CARGO_BIN_EXE_byte_order"),
        "resolve" => env!("CARGO_BIN_EXE_resolve"),
        "tcp_server" => env!("CARGO_BIN_EXE_tcp_server"),
        "tcp_client" => env!("CARGO_BIN_EXE_tcp_client"),
        "udp_ports" => env!("CARGO_BIN_EXE_udp_ports"),
        "udp_retry" => env!("CARGO_BIN_EXE_udp_retry"),
        "http_get" => env!("CARGO_BIN_EXE_http_get"),
        "nonblocking" => env!("CARGO_BIN_EXE_nonblocking"),
        "readiness" => env!("CARGO_BIN_EXE_readiness"),
        "threads" => env!("CARGO_BIN_EXE_threads"),
        "zombie" => env!("CARGO_BIN_EXE_zombie"),
        "tasks" => env!("CARGO_BIN_EXE_tasks"),
        "descriptors" => env!("CARGO_BIN_EXE_descriptors"),
        other => panic!("no lesson program {other}"),
    };
    Command::new(path)
}

fn stdout(out: Output) -> String {
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    normalize(&String::from_utf8(out.stdout).expect("UTF-8 output"))
}

/// Runs a program that needs nothing else and compares its output.
fn check(name: &str) {
    let out = bin(name).output().expect("the program runs");
    assert_eq!(stdout(out), expected(name), "{name}");
}

#[test]
fn self_contained_programs_print_what_the_book_shows() {
    for name in [
        "layers",
        "addresses",
        "byte_order",
        "udp_ports",
        "udp_retry",
    ] {
        check(name);
    }
    for name in ["nonblocking", "readiness", "threads", "tasks"] {
        check(name);
    }
}

#[cfg(target_os = "linux")]
#[test]
fn the_zombie_is_seen_and_reaped() {
    check("zombie");
}

#[cfg(target_os = "linux")]
#[test]
fn sockets_are_file_descriptors() {
    check("descriptors");
}

#[test]
fn resolve_prints_what_the_book_shows() {
    let out = stdout(bin("resolve").output().expect("runs"));
    // Some systems also map localhost to ::1; the line must hold 127.0.0.1.
    let out: String = out
        .lines()
        .map(|l| {
            if l.starts_with("localhost:7007 ->") && l.contains("127.0.0.1:7007") {
                "localhost:7007 -> [127.0.0.1:7007]"
            } else {
                l
            }
        })
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(out, expected("resolve"));
}

#[test]
fn the_tcp_client_talks_to_the_tcp_server() {
    let mut server = bin("tcp_server")
        .args(["127.0.0.1:0", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("the server starts");
    let mut lines = BufReader::new(server.stdout.take().expect("its stdout"));
    let mut first = String::new();
    lines.read_line(&mut first).expect("the listening line");
    let addr = first
        .trim()
        .strip_prefix("listening on ")
        .expect("an address")
        .to_string();
    let client = bin("tcp_client")
        .args([addr.as_str(), "hello, server"])
        .output()
        .expect("runs");
    let mut rest = String::new();
    lines
        .read_to_string(&mut rest)
        .expect("the rest of the server's output");
    assert!(server.wait().expect("the server exits").success());
    assert_eq!(normalize(&(first + &rest)), expected("tcp_server"));
    assert_eq!(stdout(client), expected("tcp_client"));
}

/// A one-request HTTP server for the `http_get` lesson.
fn tiny_http_server(body: &'static str) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut head = Vec::new();
        let mut byte = [0];
        while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).expect("read") == 1 {
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).expect("text");
        assert!(
            head.starts_with("GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n"),
            "{head}"
        );
        assert!(head.contains("Connection: close\r\n"), "{head}");
        let reply = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(reply.as_bytes()).expect("write");
    });
    addr
}

#[test]
fn http_get_saves_the_body() {
    let page = "<!doctype html>\n<title>Wirekit</title>\n<p>Hello from a tiny server.</p>\n";
    let addr = tiny_http_server(page);
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("page.html");
    let out = bin("http_get")
        .args([
            addr.to_string(),
            "/index.html".into(),
            file.display().to_string(),
        ])
        .output()
        .expect("runs");
    let out = stdout(out).replace(&file.display().to_string(), "page.html");
    assert_eq!(out, expected("http_get"));
    assert_eq!(std::fs::read_to_string(&file).expect("saved"), page);
}

#[test]
fn normalize_keeps_fixed_ports() {
    assert_eq!(
        normalize("127.0.0.1:0 0.0.0.0:41234 127.0.0.1:7007."),
        "127.0.0.1:0 0.0.0.0:PORT 127.0.0.1:7007."
    );
}
