//! The async runtime, behind one small trait (as quinn's `Runtime`): spawn
//! a task, run a future to completion. Sockets and timers are the same for
//! every runtime: both runtimes we support sit on the `async-io` reactor,
//! so `Async<std::net::…>` sockets and `async_io::Timer`s work under either.
//!
//! The product names async-std, which upstream has discontinued
//! (RUSTSEC-2025-0052: "use smol instead"). Each runtime is a cargo feature
//! (`async-std`, the default, and `smol`); the features are additive, and
//! with both on the runtime is picked at run time (`--runtime`).

use std::fmt::Debug;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

#[cfg(not(any(feature = "smol", feature = "async-std")))]
compile_error!("enable the `async-std` (default) or the `smol` feature, or both");

/// A boxed task.
pub type Task = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// What the async model needs of a runtime.
pub trait Runtime: Send + Sync + Debug {
    /// Its name, as `--runtime` takes it.
    fn name(&self) -> &'static str;
    /// Starts a task in the background.
    fn spawn(&self, task: Task);
    /// Runs `task` on this thread until it ends.
    fn block_on(&self, task: Task);
}

/// async-std (the default).
#[cfg(feature = "async-std")]
#[derive(Debug, Clone, Copy, Default)]
pub struct AsyncStd;

#[cfg(feature = "async-std")]
impl Runtime for AsyncStd {
    fn name(&self) -> &'static str {
        "async-std"
    }

    fn spawn(&self, task: Task) {
        // Dropping the handle detaches the task.
        drop(async_std::task::spawn(task));
    }

    fn block_on(&self, task: Task) {
        async_std::task::block_on(task);
    }
}

/// smol.
#[cfg(feature = "smol")]
#[derive(Debug, Clone, Copy, Default)]
pub struct Smol;

#[cfg(feature = "smol")]
impl Runtime for Smol {
    fn name(&self) -> &'static str {
        "smol"
    }

    fn spawn(&self, task: Task) {
        smol::spawn(task).detach();
    }

    fn block_on(&self, task: Task) {
        smol::block_on(task);
    }
}

/// The runtimes this build has, default first.
pub fn available() -> Vec<&'static str> {
    [
        cfg!(feature = "async-std").then_some("async-std"),
        cfg!(feature = "smol").then_some("smol"),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The runtime called `name`, if this build has it.
pub fn by_name(name: &str) -> Option<Arc<dyn Runtime>> {
    match name {
        #[cfg(feature = "async-std")]
        "async-std" => Some(Arc::new(AsyncStd)),
        #[cfg(feature = "smol")]
        "smol" => Some(Arc::new(Smol)),
        _ => None,
    }
}

/// async-std when the build has it, else smol.
pub fn default_runtime() -> Arc<dyn Runtime> {
    #[cfg(feature = "async-std")]
    return Arc::new(AsyncStd);
    #[cfg(not(feature = "async-std"))]
    return Arc::new(Smol);
}

/// The default runtime's name.
pub const DEFAULT: &str = if cfg!(feature = "async-std") {
    "async-std"
} else {
    "smol"
};

/// A TCP listener on the shared reactor.
pub type TcpListener = async_io::Async<std::net::TcpListener>;
/// A TCP connection on the shared reactor.
pub type TcpStream = async_io::Async<std::net::TcpStream>;
/// A UDP socket on the shared reactor.
pub type UdpSocket = async_io::Async<std::net::UdpSocket>;

/// A bound listener, made non-blocking for the reactor.
pub fn listener(l: std::net::TcpListener) -> io::Result<TcpListener> {
    async_io::Async::new(l)
}

/// A bound UDP socket, made non-blocking for the reactor.
pub fn udp(s: std::net::UdpSocket) -> io::Result<UdpSocket> {
    async_io::Async::new(s)
}

/// Connects without blocking the runtime's threads.
pub async fn connect(addr: std::net::SocketAddr) -> io::Result<TcpStream> {
    TcpStream::connect(addr).await
}

/// Waits `d`.
pub async fn sleep(d: Duration) {
    async_io::Timer::after(d).await;
}

/// Runs `f`, or gives up after `d` with `TimedOut`.
pub async fn timeout<T>(d: Duration, f: impl Future<Output = io::Result<T>>) -> io::Result<T> {
    futures_lite::future::or(f, async {
        sleep(d).await;
        Err(io::Error::new(io::ErrorKind::TimedOut, "timed out"))
    })
    .await
}
