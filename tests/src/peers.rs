//! Third-party peers for interop tests: started on free loopback ports,
//! stopped by PID when the fixture is dropped. `.ci/run` installs them.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Panics with an install hint unless `tool` is on PATH. A missing peer is a
/// broken test machine, not a reason to pass quietly.
pub fn require(tool: &str) -> PathBuf {
    // Peers that are not Debian packages of their own are unpacked or built
    // under target/peers by `cargo xtask test` (xtask/src/peers.rs: atftpd
    // conflicts with tftpd-hpa; the Rust tftpd comes from crates.io).
    let peers = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/peers");
    let path = std::env::var("PATH").unwrap_or_default();
    // Ours first (a `tftpd` on PATH may be another program), atftpd's last
    // (its package also holds an `in.tftpd`, which is tftpd-hpa's name).
    for dir in std::iter::once(peers.join("bin"))
        .chain(path.split(':').map(PathBuf::from))
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .chain(std::iter::once(peers.join("atftpd/usr/sbin")))
    {
        let candidate = dir.join(tool);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "{tool} is not installed: run `bash .ci/run` once, or apt-get install the package that has it (see shared/PEERS.md)"
    );
}

/// A loopback port free for both TCP and UDP at the moment of asking.
pub fn free_port() -> u16 {
    for _ in 0..100 {
        let tcp = TcpListener::bind("127.0.0.1:0").expect("bind a TCP port");
        let port = tcp.local_addr().expect("local addr").port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no port free for both TCP and UDP after 100 tries");
}

/// Waits (bounded) until something accepts TCP connections on `addr`.
pub fn wait_for_tcp(addr: SocketAddr, limit: Duration) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("nothing listens on {addr} after {limit:?}");
}

/// A child process that is killed (by its own PID) when dropped.
#[derive(Debug)]
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// xinetd serving its internal echo, daytime and time services, over TCP
/// and UDP, on free loopback ports: the reference servers of the RFCs.
#[derive(Debug)]
pub struct Xinetd {
    /// Echo (RFC 862), TCP and UDP.
    pub echo: u16,
    /// Daytime (RFC 867), TCP and UDP.
    pub daytime: u16,
    /// Time (RFC 868), TCP and UDP.
    pub time: u16,
    _dir: tempfile::TempDir,
    _child: Guard,
}

impl Xinetd {
    /// Starts xinetd in the foreground with a configuration of our own.
    pub fn start() -> Xinetd {
        let bin = require("xinetd");
        let dir = tempfile::tempdir().expect("temp dir");
        let (echo, daytime, time) = (free_port(), free_port(), free_port());
        let mut conf = String::from("defaults\n{\n    instances = 60\n}\n");
        for (name, port) in [("echo", echo), ("daytime", daytime), ("time", time)] {
            for (kind, proto, wait) in [("stream", "tcp", "no"), ("dgram", "udp", "yes")] {
                conf.push_str(&format!(
                    "service {name}\n{{\n    id = {name}-{kind}\n    type = INTERNAL UNLISTED\n    socket_type = {kind}\n    protocol = {proto}\n    port = {port}\n    bind = 127.0.0.1\n    wait = {wait}\n    user = root\n}}\n"
                ));
            }
        }
        let conf_path = dir.path().join("xinetd.conf");
        std::fs::File::create(&conf_path)
            .and_then(|mut f| f.write_all(conf.as_bytes()))
            .expect("write xinetd.conf");
        let child = Command::new(bin)
            .arg("-dontfork")
            .arg("-f")
            .arg(&conf_path)
            .arg("-pidfile")
            .arg(dir.path().join("xinetd.pid"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start xinetd");
        let child = Guard(child);
        for port in [echo, daytime, time] {
            wait_for_tcp(
                SocketAddr::from(([127, 0, 0, 1], port)),
                Duration::from_secs(10),
            );
        }
        Xinetd {
            echo,
            daytime,
            time,
            _dir: dir,
            _child: child,
        }
    }
}

/// Starts a TFTP server peer (`in.tftpd`, `atftpd` or the Rust `tftpd`)
/// serving `dir` on a free loopback port; returns the port and its guard.
pub fn tftp_server(kind: &str, dir: &Path) -> (u16, Guard) {
    let port = free_port();
    let d = dir.to_str().expect("a UTF-8 path").to_owned();
    let mut cmd = Command::new(require(kind));
    match kind {
        // -s: chroot-like root; -c: allow uploads (of new files).
        "in.tftpd" => cmd.args([
            "-L",
            "-a",
            &format!("127.0.0.1:{port}"),
            "-s",
            "-c",
            "-u",
            "tftp",
            &d,
        ]),
        "atftpd" => cmd.args([
            "--daemon",
            "--no-fork",
            "--port",
            &port.to_string(),
            "--bind-address",
            "127.0.0.1",
            "--user",
            "tftp",
            "--group",
            "tftp",
            "--logfile",
            "/dev/null",
            &d,
        ]),
        "tftpd" => cmd.args(["-i", "127.0.0.1", "-p", &port.to_string(), "-d", &d, "-q"]),
        other => panic!("no such TFTP server peer: {other}"),
    };
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the TFTP server");
    let guard = Guard(child);
    wait_for_udp(port, Duration::from_secs(10));
    (port, guard)
}

/// Waits (bounded) until something has bound UDP `port` on loopback.
pub fn wait_for_udp(port: u16, limit: Duration) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if UdpSocket::bind(("127.0.0.1", port)).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("nothing bound UDP port {port} after {limit:?}");
}
