//! `wirekit echo`: the echo clients (RFC 862 over TCP and UDP, and the
//! classic tutorials' hello dialogue).

use crate::client::{ClientError, Collect, ask, connect, run_tcp};
use crate::clock::Clock;
use crate::endpoint::Hosted;
use bytes::Bytes;
use serde::Serialize;
use std::net::SocketAddr;
use std::time::Duration;
use wirekit_core::echo::{
    Echoed, HelloClient, HelloCommand, HelloEvent, StreamClient, StreamCommand, StreamEvent,
};
use wirekit_core::retry::BackoffConfig;

/// One answer the server gave.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reply {
    /// What was sent.
    pub sent: String,
    /// What came back.
    pub reply: String,
    /// Datagrams sent for it (1 over TCP).
    pub attempts: u32,
}

#[derive(Debug, Default)]
struct Heard {
    bytes: Vec<u8>,
    lines: Vec<String>,
    greeting: String,
    complete: bool,
    failure: Option<String>,
}

fn check(misuse: Option<&str>) -> Result<(), ClientError> {
    match misuse {
        Some(m) => Err(ClientError::Local(format!("cannot send: {m}"))),
        None => Ok(()),
    }
}

/// Sends each message as a line over TCP and checks every byte comes back.
pub fn tcp(
    addr: SocketAddr,
    messages: &[String],
    timeout: Duration,
) -> Result<Vec<Reply>, ClientError> {
    let clock = Clock::new();
    let mut stream = connect(addr, timeout)?;
    let handler = Collect::new(
        Heard::default(),
        |h: &mut Heard, ev, _: &mut Vec<StreamCommand>| match ev {
            StreamEvent::Echoed(b) => h.bytes.extend_from_slice(&b),
            StreamEvent::Complete { .. } => h.complete = true,
            StreamEvent::Protocol(e) => h.failure = Some(e.to_string()),
        },
    );
    let mut hosted = Hosted::new(StreamClient::new(), handler);
    for m in messages {
        hosted.command(
            clock.now(),
            StreamCommand::Send(Bytes::from(format!("{m}\n"))),
        );
    }
    hosted.command(clock.now(), StreamCommand::Finish);
    check(hosted.failure())?;
    run_tcp(&mut stream, &mut hosted, &clock, timeout)?;
    let heard = hosted.into_parts().1.state;
    if let Some(f) = heard.failure {
        return Err(ClientError::Protocol(f));
    }
    if !heard.complete {
        return Err(ClientError::Protocol(
            "the server closed before echoing everything".into(),
        ));
    }
    let text = String::from_utf8_lossy(&heard.bytes).into_owned();
    Ok(messages
        .iter()
        .zip(text.lines())
        .map(|(m, r)| Reply {
            sent: m.clone(),
            reply: r.to_owned(),
            attempts: 1,
        })
        .collect())
}

/// The hello dialogue: the greeting, then `Hello, <msg>!` per message, then `exit`.
pub fn hello(
    addr: SocketAddr,
    messages: &[String],
    timeout: Duration,
) -> Result<(String, Vec<Reply>), ClientError> {
    let clock = Clock::new();
    let mut stream = connect(addr, timeout)?;
    let handler = Collect::new(
        Heard::default(),
        |h: &mut Heard, ev, _: &mut Vec<HelloCommand>| match ev {
            HelloEvent::Greeting(g) => h.greeting = g,
            HelloEvent::Reply(r) => h.lines.push(format!("Hello, {r}!")),
            HelloEvent::Line(l) => h.lines.push(l),
            HelloEvent::Closed => h.complete = true,
            HelloEvent::Protocol(e) => h.failure = Some(e.to_string()),
        },
    );
    let mut hosted = Hosted::new(HelloClient::new(), handler);
    for m in messages {
        hosted.command(clock.now(), HelloCommand::Say(m.clone()));
    }
    hosted.command(clock.now(), HelloCommand::Exit);
    check(hosted.failure())?;
    run_tcp(&mut stream, &mut hosted, &clock, timeout)?;
    let heard = hosted.into_parts().1.state;
    if let Some(f) = heard.failure {
        return Err(ClientError::Protocol(f));
    }
    let replies = messages
        .iter()
        .zip(heard.lines)
        .map(|(m, r)| Reply {
            sent: m.clone(),
            reply: r,
            attempts: 1,
        })
        .collect();
    Ok((heard.greeting, replies))
}

/// One datagram per message, each retried with exponential backoff.
/// `on_retry` hears every retry (the CLI prints them).
pub fn udp(
    addr: SocketAddr,
    messages: &[String],
    backoff: BackoffConfig,
    mut on_retry: impl FnMut(u32, Duration),
) -> Result<Vec<Reply>, ClientError> {
    let mut replies = Vec::new();
    for m in messages {
        let request = Bytes::from(m.clone().into_bytes());
        let (bytes, attempts) = ask(addr, Echoed, request, backoff, &mut on_retry)?;
        replies.push(Reply {
            sent: m.clone(),
            reply: String::from_utf8_lossy(&bytes).into_owned(),
            attempts,
        });
    }
    Ok(replies)
}

/// Jitter's seed: any value will do, but not the same for every process.
pub fn seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    t ^ u64::from(std::process::id()).rotate_left(32)
}
