//! Where the keys live: the [`Handler`] that answers a server machine's
//! questions. Clones share one map, so every connection of a native server
//! sees the same keys.

use crate::server::{Command, Event, Query, Server};
use crate::wire::Response;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use wirekit_core::Now;
use wirekit_core::host::Handler;
use wirekit_core::sim::{Responder, Status};

/// Keys a store holds at most: a `SET` of a new key past it is refused.
pub const MAX_KEYS: usize = 1024;

/// A key-value map shared by its clones.
#[derive(Clone, Debug, Default)]
pub struct Store {
    map: Arc<Mutex<BTreeMap<String, String>>>,
}

impl Store {
    // ANCHOR: answer
    /// The answer to one question.
    pub fn answer(&self, query: Query) -> Response {
        // A panic elsewhere cannot leave a map half-changed: every change
        // below is one call. So a poisoned lock is still a good map.
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        match query {
            Query::Set { key, value } => {
                if map.len() >= MAX_KEYS && !map.contains_key(&key) {
                    return Response::Err(String::from("full"));
                }
                map.insert(key, value);
                Response::Ok
            }
            Query::Get { key } => map
                .get(&key)
                .cloned()
                .map_or(Response::NotFound, Response::Value),
            Query::Del { key } => match map.remove(&key) {
                Some(_) => Response::Deleted,
                None => Response::NotFound,
            },
        }
    }
    // ANCHOR_END: answer

    /// Keys held now.
    pub fn len(&self) -> usize {
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Holds no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

// ANCHOR: handler
impl Handler<Server> for Store {
    fn on_event(&mut self, _now: Now, event: Event, cmds: &mut Vec<Command>) -> Option<String> {
        match event {
            Event::Asked(query) => {
                let note = format!("{query:?}");
                cmds.push(Command::Answer(self.answer(query)));
                Some(note)
            }
            Event::Protocol(trouble) => Some(format!("refused: {trouble:?}")),
        }
    }
}

/// In the simulator a server never finishes: it is judged by its clients.
impl Responder<Server> for Store {
    fn status(&self) -> Status {
        Status::Running
    }
}
// ANCHOR_END: handler
