//! The `wirekit` command as a child process, for the fault tests: a test
//! executable that doubles as the command (as the book's transcripts do), a
//! child that can be killed at a random moment, a small deterministic
//! generator of those moments, and checks of a store folder.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A test executable that is also `wirekit` when called by that name: it
/// runs the command line and exits. Call first thing in `main`.
pub fn be_wirekit_if_called_so() {
    let argv0 = std::env::args_os().next().unwrap_or_default();
    if Path::new(&argv0)
        .file_name()
        .is_some_and(|n| n == "wirekit")
    {
        std::process::exit(wirekit::cli::main());
    }
}

/// A folder holding `wirekit`: a link to `WIREKIT_BIN` if set, otherwise
/// to this test executable (see [`be_wirekit_if_called_so`]).
pub fn wirekit_link() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let target = match std::env::var_os("WIREKIT_BIN") {
        Some(bin) => PathBuf::from(bin),
        None => std::env::current_exe().expect("this test's executable"),
    };
    let link = dir.path().join("wirekit");
    std::os::unix::fs::symlink(&target, &link).expect("a link named wirekit");
    (dir, link)
}

/// SplitMix64: the same moments on every run (the timing they hit may vary).
#[derive(Debug)]
pub struct Moments(pub u64);

impl Moments {
    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n.max(1)
    }
}

pub use crate::peers::Guard;

impl Guard {
    /// Starts `wirekit ARGS` with its output discarded.
    pub fn spawn(bin: &Path, args: &[&str]) -> Guard {
        let child = Command::new(bin)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start wirekit");
        Guard(child)
    }

    /// SIGKILL now, by its own PID.
    pub fn kill(mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `wirekit serve` in a child process, with the addresses it printed.
#[derive(Debug)]
pub struct Served {
    /// The server process.
    pub proc: Guard,
    /// `(service, proto, addr)` as `--json` printed them.
    pub listening: Vec<(String, String, std::net::SocketAddr)>,
}

impl Served {
    /// Starts `sh -c "PRELUDE; exec wirekit serve --json --any-port ARGS"`:
    /// the prelude can set limits (`ulimit`) and ignored signals (`trap`),
    /// which the server inherits.
    pub fn start(bin: &Path, prelude: &str, args: &[&str]) -> Served {
        // `exec`: the server takes the shell's PID, so killing it kills the server.
        let script = format!("{prelude}\nexec \"$0\" serve --json --any-port \"$@\"");
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(bin)
            .args(args)
            .args(crate::native::runtime_args())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start wirekit serve");
        let mut line = String::new();
        let out = child.stdout.take().expect("piped");
        BufReader::new(out)
            .read_line(&mut line)
            .expect("the server's JSON line");
        let v: serde_json::Value = serde_json::from_str(&line).expect("JSON from wirekit serve");
        let listening = v
            .as_array()
            .expect("a list")
            .iter()
            .map(|l| {
                let s = |k: &str| l[k].as_str().unwrap_or_default().to_owned();
                (
                    s("service"),
                    s("proto"),
                    s("addr").parse().expect("an address"),
                )
            })
            .collect();
        Served {
            proc: Guard(child),
            listening,
        }
    }

    /// Where `service` listens.
    pub fn addr(&self, service: &str) -> std::net::SocketAddr {
        self.listening
            .iter()
            .find(|(s, _, _)| s == service)
            .map(|(_, _, a)| *a)
            .expect("the service runs")
    }
}

/// Names in `dir` (not recursive).
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Waits (bounded) until `done` holds; false if it never did.
pub fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    done()
}
