//! The lab's web server: the browser lab at `/`, the book at `/book/`.
//! Everything is served from files the xtask built: no CDN, works offline.
//!
//! axum and tower-http's `ServeDir` do the HTTP (ranges, conditional
//! requests, content types — `.wasm` as `application/wasm`, which browsers
//! require for streaming compilation), on a small tokio runtime of its own
//! thread, so the lab's protocol servers keep their own IO models.

use anyhow::{Context, Result};
use axum::Router;
use axum::response::Redirect;
use axum::routing::get;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::thread::JoinHandle;
use tower_http::services::ServeDir;

/// What the server serves.
pub struct Site {
    /// The browser lab (`target/web`).
    pub lab: PathBuf,
    /// The rendered book (`target/book`).
    pub book: PathBuf,
}

/// A running server; dropped or [`WebServer::stop`]ped, it stops.
pub struct WebServer {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

fn router(site: &Site) -> Router {
    Router::new()
        // Without the slash the book's relative links would resolve
        // against `/`.
        .route("/book", get(|| async { Redirect::permanent("/book/") }))
        .nest_service("/book/", ServeDir::new(&site.book))
        .fallback_service(ServeDir::new(&site.lab))
}

impl WebServer {
    /// Serves `site` on `addr` (port 0 picks a free port).
    pub fn start(addr: &str, site: Site) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the web server's runtime")?;
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(addr))
            .with_context(|| format!("cannot listen on {addr} (is another lab running?)"))?;
        let addr = listener.local_addr()?;
        let app = router(&site);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let served = runtime.block_on(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await
            });
            if let Err(e) = served {
                eprintln!("web: {e}");
            }
        });
        Ok(WebServer {
            addr,
            stop: Some(tx),
            thread: Some(thread),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops serving and waits for the server thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for WebServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn get(addr: SocketAddr, path: &str) -> String {
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .expect("timeout");
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .expect("send");
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    }

    #[test]
    fn serves_the_lab_and_the_book_and_nothing_outside() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (lab, book) = (dir.path().join("lab"), dir.path().join("book"));
        std::fs::create_dir_all(lab.join("pkg")).expect("mkdir");
        std::fs::create_dir_all(&book).expect("mkdir");
        std::fs::write(lab.join("index.html"), "the lab").expect("write");
        std::fs::write(lab.join("pkg/x.wasm"), b"\0asm").expect("write");
        std::fs::write(book.join("index.html"), "the book").expect("write");
        std::fs::write(dir.path().join("secret"), "no").expect("write");
        let server = WebServer::start("127.0.0.1:0", Site { lab, book }).expect("start");
        let a = server.addr();
        assert!(get(a, "/").contains("the lab"));
        assert!(get(a, "/book/").contains("the book"));
        let redirect = get(a, "/book");
        assert!(redirect.starts_with("HTTP/1.1 308"), "{redirect}");
        let wasm = get(a, "/pkg/x.wasm");
        assert!(wasm.contains("content-type: application/wasm"), "{wasm}");
        assert!(get(a, "/../secret").starts_with("HTTP/1.1 404"));
        assert!(get(a, "/book/../../secret").starts_with("HTTP/1.1 404"));
        assert!(get(a, "/missing").starts_with("HTTP/1.1 404"));
        server.stop();
    }
}
