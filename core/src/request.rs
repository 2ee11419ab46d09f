//! Datagram request and reply, both ends: the one client — a request to a
//! fixed server, sent again with backoff until a reply comes or the
//! schedule ends — and the one server, which answers every datagram with
//! one.
//!
//! Every datagram protocol here asks the same way (RFC 8085 §3.1.3: retry
//! with exponential backoff, give up in bounded time) and answers the same
//! way (one reply per request, never more bytes queued than a limit); they
//! differ only in what a reply means. So echo, time, daytime and the
//! stamped echo are one [`Requester`] and one [`Server`] each, told apart
//! by the [`Reply`] that reads their answer and the [`Answer`] that makes
//! it.

use crate::machine::{Input, Machine, PeerId, Transmit};
use crate::outbox::{MAX_QUEUED, Outbox};
use crate::retry::{BackoffConfig, BackoffError, Retrier, RetryStep};
use crate::time::{Instant, Now};
use crate::wire::echo::MAX_DATAGRAM;
use alloc::collections::VecDeque;
use bytes::Bytes;
use core::convert::Infallible;
use core::fmt;
use core::time::Duration;
use serde::{Deserialize, Serialize};

// ANCHOR: reply
/// What a protocol's reply datagram means. The only thing a [`Requester`]
/// needs to know about the protocol it asks.
pub trait Reply {
    /// A reply as the application sees it (a protocol error included, when
    /// the server can answer nonsense).
    type Value;
    /// Reads one reply datagram from the server.
    fn read(&self, datagram: &[u8]) -> Self::Value;
}
// ANCHOR_END: reply

/// What a [`Requester`] reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestEvent<V> {
    /// The server answered.
    Reply {
        /// The reply, as the protocol reads it.
        value: V,
        /// Sends it took.
        attempts: u32,
    },
    /// No reply in time: the request was sent again.
    Retrying {
        /// Sends so far, this one included.
        attempt: u32,
        /// How long the client waits now.
        wait: Duration,
    },
    /// Every wait ran out: the server looks down.
    ServerDown {
        /// Sends made.
        attempts: u32,
    },
    /// A datagram from someone other than the server, ignored.
    Stray {
        /// Who sent it.
        from: PeerId,
    },
}

/// A request the client cannot make.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Misuse {
    /// A datagram over [`MAX_DATAGRAM`] bytes.
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// A request while the previous one still waits for its reply.
    Busy,
}

impl fmt::Display for Misuse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Misuse::TooLarge { limit } => write!(f, "a datagram holds at most {limit} bytes"),
            Misuse::Busy => f.write_str("a request is still waiting for its reply"),
        }
    }
}

impl core::error::Error for Misuse {}

// ANCHOR: requester
/// One request at a time to [`PeerId::FIRST`], sent again with exponential
/// backoff until a reply comes or the schedule ends.
#[derive(Debug)]
pub struct Requester<R: Reply> {
    reply: R,
    retry: Retrier,
    out: Outbox,
    events: VecDeque<RequestEvent<R::Value>>,
}

impl<R: Reply> Requester<R> {
    /// A client whose replies `reply` reads, on this retry schedule (the
    /// default is the classic tutorials': 100 ms, doubling, giving up past
    /// 2 s); `seed` drives the jitter, if any.
    pub fn new(reply: R, config: BackoffConfig, seed: u64) -> Result<Self, BackoffError> {
        Ok(Requester {
            reply,
            retry: Retrier::new(config, seed)?,
            out: Outbox::default(),
            events: VecDeque::new(),
        })
    }

    /// True while a request waits for its reply.
    pub fn is_waiting(&self) -> bool {
        self.retry.is_waiting()
    }
}

impl<R: Reply> Machine for Requester<R> {
    /// The request datagram (empty for time and daytime: the RFCs ignore it).
    type Command = Bytes;
    type Event = RequestEvent<R::Value>;
    type Error = Misuse;

    fn handle_input(&mut self, now: Now, input: Input<'_>) -> Result<(), Misuse> {
        match input {
            Input::Data { from, bytes } => {
                if from != PeerId::FIRST {
                    // The classic tutorials' first client accepted a reply from anyone.
                    self.events.push_back(RequestEvent::Stray { from });
                } else if self.retry.is_waiting() {
                    let attempts = self.retry.finish();
                    let value = self.reply.read(bytes);
                    self.events
                        .push_back(RequestEvent::Reply { value, attempts });
                }
                // A late duplicate reply after the answer is simply dropped.
            }
            Input::Eof { .. } => {}
            Input::Timeout => match self.retry.on_timeout(now.mono) {
                RetryStep::NotYet => {}
                RetryStep::Resend {
                    payload,
                    wait,
                    attempt,
                } => {
                    self.out.push(PeerId::FIRST, payload);
                    self.events
                        .push_back(RequestEvent::Retrying { attempt, wait });
                }
                RetryStep::GiveUp { attempts } => {
                    self.events.push_back(RequestEvent::ServerDown { attempts });
                }
            },
        }
        Ok(())
    }

    fn handle_command(&mut self, now: Now, request: Bytes) -> Result<(), Misuse> {
        if self.retry.is_waiting() {
            return Err(Misuse::Busy);
        }
        if request.len() > MAX_DATAGRAM {
            return Err(Misuse::TooLarge {
                limit: MAX_DATAGRAM,
            });
        }
        match self.retry.start(now.mono, request.clone()) {
            Some(_) => self.out.push(PeerId::FIRST, request),
            None => self
                .events
                .push_back(RequestEvent::ServerDown { attempts: 0 }),
        }
        Ok(())
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop()
    }

    fn poll_event(&mut self) -> Option<Self::Event> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.retry.deadline()
    }

    fn is_done(&self) -> bool {
        false
    }
}
// ANCHOR_END: requester

// ANCHOR: answer
/// What a protocol's server says to one request datagram. The only thing a
/// [`Server`] needs to know about the protocol it serves.
pub trait Answer {
    /// The reply to `request`, at `now` (timestamp servers tell the time).
    fn answer(&self, now: Now, request: &[u8]) -> Bytes;
}
// ANCHOR_END: answer

/// What a datagram [`Server`] reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServeEvent {
    /// A datagram was answered.
    Answered {
        /// Who sent it.
        from: PeerId,
        /// How many bytes came in.
        len: usize,
    },
    /// A datagram was dropped because [`MAX_QUEUED`] replies were waiting.
    Dropped {
        /// Who sent it.
        from: PeerId,
    },
}

/// A datagram server: every datagram gets one reply, unless [`MAX_QUEUED`]
/// replies already wait (a flood is dropped, not queued). Never done.
#[derive(Debug, Default)]
pub struct Server<A> {
    answer: A,
    out: Outbox,
    events: VecDeque<ServeEvent>,
}

impl<A: Answer> Server<A> {
    /// A server whose replies `answer` makes.
    pub fn new(answer: A) -> Self {
        Server {
            answer,
            out: Outbox::default(),
            events: VecDeque::new(),
        }
    }
}

impl<A: Answer> Machine for Server<A> {
    type Command = Infallible;
    type Event = ServeEvent;
    type Error = Infallible;

    fn handle_input(&mut self, now: Now, input: Input<'_>) -> Result<(), Infallible> {
        let Input::Data { from, bytes } = input else {
            return Ok(());
        };
        if self.out.len() >= MAX_QUEUED {
            self.events.push_back(ServeEvent::Dropped { from });
            return Ok(());
        }
        self.out.push(from, self.answer.answer(now, bytes));
        let len = bytes.len();
        self.events.push_back(ServeEvent::Answered { from, len });
        Ok(())
    }

    fn handle_command(&mut self, _now: Now, cmd: Infallible) -> Result<(), Infallible> {
        match cmd {}
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop()
    }

    fn poll_event(&mut self) -> Option<ServeEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    fn is_done(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// Reads a reply as its length, to see that the parser is the one used.
    struct Len;
    impl Reply for Len {
        type Value = usize;
        fn read(&self, datagram: &[u8]) -> usize {
            datagram.len()
        }
    }

    fn at(ms: u64) -> Now {
        Now::mono(Instant::ZERO + Duration::from_millis(ms))
    }

    fn events(r: &mut Requester<Len>) -> Vec<RequestEvent<usize>> {
        core::iter::from_fn(|| r.poll_event()).collect()
    }

    #[test]
    fn a_reply_is_read_by_the_protocols_parser() {
        let mut r = Requester::new(Len, BackoffConfig::default(), 1).unwrap();
        r.handle_command(at(0), Bytes::from_static(b"ping"))
            .unwrap();
        assert_eq!(r.poll_transmit().unwrap().payload, &b"ping"[..]);
        r.handle_input(
            at(5),
            Input::Data {
                from: PeerId::FIRST,
                bytes: b"pong!",
            },
        )
        .unwrap();
        assert_eq!(
            events(&mut r),
            [RequestEvent::Reply {
                value: 5,
                attempts: 1
            }]
        );
        assert!(!r.is_waiting());
        assert_eq!(r.poll_timeout(), None);
    }

    #[test]
    fn silence_resends_then_gives_up_and_strays_are_ignored() {
        let mut r = Requester::new(Len, BackoffConfig::default(), 1).unwrap();
        r.handle_command(at(0), Bytes::from_static(b"x")).unwrap();
        assert_eq!(
            r.handle_command(at(0), Bytes::new()),
            Err(Misuse::Busy),
            "one request at a time"
        );
        r.handle_input(
            at(1),
            Input::Data {
                from: PeerId(9),
                bytes: b"spoof",
            },
        )
        .unwrap();
        assert_eq!(events(&mut r), [RequestEvent::Stray { from: PeerId(9) }]);
        let mut sends = 0;
        let mut down = None;
        // Bounded: the default schedule gives up well within a minute.
        for _ in 0..1000 {
            while r.poll_transmit().is_some() {
                sends += 1;
            }
            let Some(t) = r.poll_timeout() else { break };
            r.handle_input(Now::mono(t), Input::Timeout).unwrap();
            for ev in events(&mut r) {
                if let RequestEvent::ServerDown { attempts } = ev {
                    down = Some(attempts);
                }
            }
        }
        assert_eq!(
            down,
            Some(sends),
            "gives up after exactly the sends it made"
        );
        assert!(sends > 1, "it retried");
    }

    #[test]
    fn an_oversized_request_is_refused() {
        let mut r = Requester::new(Len, BackoffConfig::default(), 1).unwrap();
        let big = Bytes::from(alloc::vec![0u8; MAX_DATAGRAM + 1]);
        assert_eq!(
            r.handle_command(at(0), big),
            Err(Misuse::TooLarge {
                limit: MAX_DATAGRAM
            })
        );
        assert!(r.poll_transmit().is_none());
    }
}
