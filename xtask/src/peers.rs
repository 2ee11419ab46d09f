//! The two TFTP peers that are not plain Debian installs, kept under
//! `target/peers/` where `tests/src/peers.rs` looks for them: atftpd, whose
//! package conflicts with tftpd-hpa's and is unpacked rather than
//! installed, and the Rust `tftpd`, a crate.

use crate::tools::{self, CargoTool};
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::{Command, Stdio};

pub const TFTPD: CargoTool = CargoTool {
    bin: "tftpd",
    krate: "tftpd",
    version: "1.0.0",
    lock: None,
};

/// Where the peers live.
pub fn dir() -> PathBuf {
    crate::root().join("target/peers")
}

/// Unpacks atftpd and builds tftpd when they are missing.
pub fn ensure_tftp() -> Result<()> {
    let peers = dir();
    std::fs::create_dir_all(&peers)?;
    if !peers.join("atftpd/usr/sbin/atftpd").is_file() {
        eprintln!("==> unpacking atftpd into target/peers (once)");
        let download = || {
            tools::run(
                Command::new("apt-get")
                    .args(["download", "atftpd"])
                    .current_dir(&peers)
                    .stdin(Stdio::null()),
            )
        };
        // A fresh image has no package lists yet.
        if download().is_err() {
            tools::run(Command::new("apt-get").args(["update", "-qq"]))?;
            download()?;
        }
        let deb = std::fs::read_dir(&peers)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("atftpd_"))
            })
            .context("apt-get download atftpd left no package")?;
        tools::run(
            Command::new("dpkg")
                .arg("-x")
                .arg(&deb)
                .arg(peers.join("atftpd")),
        )?;
    }
    TFTPD.ensure_in(&peers)
}
