//! `cargo xtask lab`: builds the book and serves it, with the servers beside
//! it, until Ctrl-C. `--check` starts everything, probes it and stops: the
//! proof, in CI, that the README's first command works.

use crate::web::StaticServer;
use anyhow::{Context, Result, bail};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::Duration;

#[derive(clap::Args)]
pub struct LabArgs {
    /// Where to serve the book and the browser lab.
    #[arg(long, default_value = "127.0.0.1:7080")]
    web: String,
    /// Start everything, check that it answers, then stop.
    #[arg(long)]
    check: bool,
}

impl LabArgs {
    /// `--check` on free ports, for `cargo xtask test`.
    pub fn check() -> Self {
        LabArgs {
            web: "127.0.0.1:0".into(),
            check: true,
        }
    }
}

pub fn run(args: LabArgs) -> Result<()> {
    let site = crate::book::build()?;
    let web = StaticServer::start(&args.web, site)?;
    let url = format!("http://{}/", web.addr());
    println!();
    println!("Wirekit lab");
    println!("  the book:  {url}");
    if args.check {
        let page = http_get(web.addr(), "/").context("the lab's web server does not answer")?;
        if !page.contains("Wirekit") {
            bail!("the lab's front page does not look like the book");
        }
        println!("lab check: the book answers at {url}");
        web.stop();
        return Ok(());
    }
    println!("Press Ctrl-C to stop.");
    let (tx, rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = tx.send(());
    })
    .context("cannot install the Ctrl-C handler")?;
    let _ = rx.recv();
    println!("stopping");
    web.stop();
    Ok(())
}

/// A minimal HTTP/1.0 GET, enough to probe our own static server.
fn http_get(addr: std::net::SocketAddr, path: &str) -> Result<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut body = String::new();
    s.read_to_string(&mut body)?;
    if !body.starts_with("HTTP/1.1 200") && !body.starts_with("HTTP/1.0 200") {
        bail!("GET {path}: {}", body.lines().next().unwrap_or("no answer"));
    }
    Ok(body)
}
