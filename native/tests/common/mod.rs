//! What the command-line tests share: the built binary, a server child on
//! free ports (killed by PID when the test ends), output helpers.

#![allow(dead_code)] // each test file uses its own part

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_wirekit");

pub fn wirekit(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run wirekit")
}

/// A `wirekit serve` child on free ports, killed by PID if a test fails.
pub struct Server {
    pub child: Child,
    pub listening: Vec<serde_json::Value>,
    _dir: tempfile::TempDir,
}

impl Server {
    pub fn start(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("hello.txt"), b"hello\n").expect("write");
        let root = dir.path().to_str().expect("utf-8 path").to_owned();
        let mut child = Command::new(BIN)
            .args(["serve", "--any-port", "--json", "--root", &root])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start wirekit serve");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the ready line");
        let listening: Vec<serde_json::Value> = serde_json::from_str(&line).expect("JSON");
        Server {
            child,
            listening,
            _dir: dir,
        }
    }

    pub fn addr(&self, service: &str, proto: &str) -> String {
        self.listening
            .iter()
            .find(|l| l["service"] == service && l["proto"] == proto)
            .and_then(|l| l["addr"].as_str())
            .expect("a listening socket")
            .to_owned()
    }

    pub fn root(&self) -> &std::path::Path {
        self._dir.path()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
