//! Every call into the async runtime, in one place.
//!
//! The product names async-std, which upstream has discontinued
//! (RUSTSEC-2025-0052: "use smol instead"). Everything else is written
//! against `futures-lite` and the `futures-io` traits both runtimes
//! implement, so switching is the `smol` cargo feature, which wins when both
//! are on.

use std::future::Future;
use std::io;
use std::time::Duration;

#[cfg(not(any(feature = "smol", feature = "async-std")))]
compile_error!("enable the `async-std` (default) or the `smol` feature");

#[cfg(feature = "smol")]
mod imp {
    pub use smol::net::{TcpListener, TcpStream, UdpSocket};
    use std::future::Future;
    use std::io;
    use std::time::Duration;

    pub fn block_on<F: Future>(f: F) -> F::Output {
        smol::block_on(f)
    }

    pub fn spawn<F: Future<Output = ()> + Send + 'static>(f: F) {
        smol::spawn(f).detach();
    }

    pub async fn sleep(d: Duration) {
        smol::Timer::after(d).await;
    }

    pub fn listener(l: std::net::TcpListener) -> io::Result<TcpListener> {
        TcpListener::try_from(l)
    }

    pub fn udp(s: std::net::UdpSocket) -> io::Result<UdpSocket> {
        UdpSocket::try_from(s)
    }

    pub fn stream(s: std::net::TcpStream) -> io::Result<TcpStream> {
        TcpStream::try_from(s)
    }

    pub const NAME: &str = "smol";
}

#[cfg(all(feature = "async-std", not(feature = "smol")))]
mod imp {
    pub use async_std::net::{TcpListener, TcpStream, UdpSocket};
    use std::future::Future;
    use std::io;
    use std::time::Duration;

    pub fn block_on<F: Future>(f: F) -> F::Output {
        async_std::task::block_on(f)
    }

    pub fn spawn<F: Future<Output = ()> + Send + 'static>(f: F) {
        // Dropping the handle detaches the task.
        drop(async_std::task::spawn(f));
    }

    pub async fn sleep(d: Duration) {
        async_std::task::sleep(d).await;
    }

    pub fn listener(l: std::net::TcpListener) -> io::Result<TcpListener> {
        l.set_nonblocking(true)?;
        Ok(TcpListener::from(l))
    }

    pub fn udp(s: std::net::UdpSocket) -> io::Result<UdpSocket> {
        s.set_nonblocking(true)?;
        Ok(UdpSocket::from(s))
    }

    pub fn stream(s: std::net::TcpStream) -> io::Result<TcpStream> {
        s.set_nonblocking(true)?;
        Ok(TcpStream::from(s))
    }

    pub const NAME: &str = "async-std";
}

pub use imp::{
    NAME, TcpListener, TcpStream, UdpSocket, block_on, listener, sleep, spawn, stream, udp,
};

/// Connects without blocking the runtime's threads.
pub async fn connect(addr: std::net::SocketAddr) -> io::Result<TcpStream> {
    TcpStream::connect(addr).await
}

/// Runs `f`, or gives up after `d` with `TimedOut`.
pub async fn timeout<T>(d: Duration, f: impl Future<Output = io::Result<T>>) -> io::Result<T> {
    futures_lite::future::or(f, async {
        sleep(d).await;
        Err(io::Error::new(io::ErrorKind::TimedOut, "timed out"))
    })
    .await
}
