//! `wirekit time`: the timestamp clients — RFC 868 time and RFC 867
//! daytime over TCP and UDP, and the classic tutorials' stamped echo.

use crate::client::{ClientError, Collect, ask, connect, run_tcp};
use crate::clock::Clock;
use crate::endpoint::Hosted;
use bytes::Bytes;
use serde::Serialize;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;
use wirekit_core::calendar::DateTime;
use wirekit_core::retry::BackoffConfig;
use wirekit_core::timestamp::{
    ClientEvent, Service, StampClient, StampCommand, StampEvent, StreamClient,
};
use wirekit_core::wire::timestamp::Daytime;

/// What the server said the time is.
#[derive(Clone, Debug, Serialize)]
pub struct Told {
    /// Seconds since 1970, when the answer names a time we can read.
    pub unix: Option<i64>,
    /// The time as text (the server's own line for daytime).
    pub text: String,
    /// The server's clock minus ours, in seconds, when known.
    pub offset: Option<i64>,
    /// For stamped echo: the line that came back.
    pub data: Option<String>,
}

fn told(unix: Option<i64>, text: String, data: Option<String>, clock: &Clock) -> Told {
    let ours = clock.now().wall.secs();
    Told {
        unix,
        text,
        offset: unix.map(|u| u - ours),
        data,
    }
}

fn from_event(ev: ClientEvent, clock: &Clock) -> Result<Told, ClientError> {
    match ev {
        ClientEvent::Time(t) => Ok(told(
            Some(t.secs()),
            DateTime::from_unix(t.secs()).ctime().to_string(),
            None,
            clock,
        )),
        ClientEvent::Daytime(Daytime::Parsed { time, text }) => {
            Ok(told(Some(time.secs()), text, None, clock))
        }
        ClientEvent::Daytime(Daytime::Text(text)) => Ok(told(None, text, None, clock)),
        ClientEvent::Stamped { time, data } => Ok(told(
            Some(time.secs()),
            DateTime::from_unix(time.secs()).ctime().to_string(),
            Some(data),
            clock,
        )),
        ClientEvent::Protocol(e) => Err(ClientError::Protocol(e.to_string())),
    }
}

/// Time or daytime over TCP: connect, read until the server closes.
pub fn tcp(addr: SocketAddr, service: Service, timeout: Duration) -> Result<Told, ClientError> {
    let clock = Clock::new();
    let mut stream = connect(addr, timeout)?;
    let handler = Collect::new(
        None,
        |got: &mut Option<ClientEvent>, ev, _: &mut Vec<Infallible>| {
            got.get_or_insert(ev);
        },
    );
    let mut hosted = Hosted::new(StreamClient::new(service), handler);
    run_tcp(&mut stream, &mut hosted, &clock, timeout)?;
    match hosted.into_parts().1.state {
        Some(ev) => from_event(ev, &clock),
        None => Err(ClientError::Protocol(
            "the server closed without an answer".into(),
        )),
    }
}

/// Time or daytime over UDP: one request, retried with backoff.
pub fn udp(
    addr: SocketAddr,
    service: Service,
    backoff: BackoffConfig,
) -> Result<Told, ClientError> {
    let clock = Clock::new();
    let (answer, _) = ask(addr, service, Bytes::new(), backoff, &mut |_, _| {})?;
    from_event(answer, &clock)
}

/// The stamped echo over TCP: each line comes back with the server's time.
pub fn stamp_tcp(
    addr: SocketAddr,
    lines: &[String],
    timeout: Duration,
) -> Result<Vec<Told>, ClientError> {
    let clock = Clock::new();
    let mut stream = connect(addr, timeout)?;
    let handler = Collect::new(
        (Vec::new(), None),
        |(got, failure): &mut (Vec<(i64, String)>, Option<String>),
         ev,
         _: &mut Vec<StampCommand>| match ev {
            StampEvent::Stamped { time, data } => got.push((time.secs(), data)),
            StampEvent::Complete => {}
            StampEvent::Protocol(e) => *failure = Some(e.to_string()),
        },
    );
    let mut hosted = Hosted::new(StampClient::new(), handler);
    for l in lines {
        hosted.command(clock.now(), StampCommand::Send(l.clone()));
    }
    hosted.command(clock.now(), StampCommand::Finish);
    if let Some(m) = hosted.failure() {
        return Err(ClientError::Local(format!("cannot send: {m}")));
    }
    run_tcp(&mut stream, &mut hosted, &clock, timeout)?;
    let (got, failure) = hosted.into_parts().1.state;
    if let Some(f) = failure {
        return Err(ClientError::Protocol(f));
    }
    Ok(got
        .into_iter()
        .map(|(secs, data)| {
            told(
                Some(secs),
                DateTime::from_unix(secs).ctime().to_string(),
                Some(data),
                &clock,
            )
        })
        .collect())
}

/// The stamped echo over UDP: a datagram per line, each retried with
/// backoff and its reply read as a stamp.
pub fn stamp_udp(
    addr: SocketAddr,
    lines: &[String],
    backoff: BackoffConfig,
) -> Result<Vec<Told>, ClientError> {
    let clock = Clock::new();
    let mut out = Vec::new();
    for l in lines {
        let request = Bytes::from(l.clone().into_bytes());
        let (answer, _) = ask(addr, Service::Stamp, request, backoff, &mut |_, _| {})?;
        out.push(from_event(answer, &clock)?);
    }
    Ok(out)
}
