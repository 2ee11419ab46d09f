//! The reference echo server for `cargo xtask bench`: what a Rust user would
//! write with Tokio (multi-thread runtime, a task per connection, a
//! read-then-write_all loop like `tokio::io::copy`). It binds 127.0.0.1 on
//! the port given as its only argument (0 for any free one) and prints the
//! address it listens on, so the harness needs no port guessing.

use std::io::Write;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_io()
        .build()?;
    rt.block_on(async move {
        // The listen queue Wirekit's servers ask for (4,096): with Tokio's
        // default of 1,024, opening 10,000 idle connections took 38 s of
        // dropped SYNs and retries.
        let socket = TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        socket.bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
        let listener = socket.listen(4096)?;
        let mut out = std::io::stdout();
        writeln!(out, "{}", listener.local_addr()?)?;
        out.flush()?;
        loop {
            let (mut sock, _) = match listener.accept().await {
                Ok(conn) => conn,
                // Out of descriptors or a reset before accept: keep serving.
                Err(_) => continue,
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                loop {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if sock.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    })
}
