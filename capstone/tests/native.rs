//! KV/1 on real sockets: served on 127.0.0.1 port 0 under every IO model,
//! spoken to by the client machine and by hand.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use wirekit::drive::Model;
use wirekit_capstone::client::Event;
use wirekit_capstone::serve::{Kv, ask, serve};
use wirekit_capstone::wire::{Request, Response};

fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn req(line: &str) -> Request {
    wirekit_capstone::wire::parse_request(line.as_bytes()).expect("a valid request")
}

fn responses(events: Vec<Event>) -> Vec<Response> {
    events
        .into_iter()
        .filter_map(|e| match e {
            Event::Answered { response, .. } => Some(response),
            _ => None,
        })
        .collect()
}

#[test]
fn every_model_serves_and_every_connection_shares_the_store() {
    for model in [Model::Async, Model::Threads, Model::Poll, Model::Iterative] {
        let kv = Kv::default();
        let store = kv.store.clone();
        let (addr, serving) = serve(any_port(), kv, model).expect("serves");
        let first = ask(addr, vec![req("SET colour blue"), req("GET colour")]).expect("asks");
        assert_eq!(
            responses(first),
            [Response::Ok, Response::Value("blue".into()), Response::Bye],
            "{model:?}"
        );
        // A second connection sees the first one's key.
        let second = ask(addr, vec![req("DEL colour"), req("GET colour")]).expect("asks");
        assert_eq!(
            responses(second),
            [Response::Deleted, Response::NotFound, Response::Bye],
            "{model:?}"
        );
        assert!(store.is_empty());
        serving.stop();
    }
}

/// What a hand-typed session gets back, up to the server's close.
fn typed(addr: SocketAddr, input: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).expect("connects");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(input).expect("writes");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("the server closes");
    out
}

#[test]
fn a_typed_session_is_answered_in_order_and_a_mistake_ends_it() {
    let (addr, _serving) = serve(any_port(), Kv::default(), Model::Async).expect("serves");
    let got = typed(addr, b"SET a 1\r\nGET a\nget a\nGET a\n");
    assert_eq!(got, "OK\nVALUE 1\nERR unknown verb\n");
    let long = format!("SET k {}\n", "v".repeat(500));
    assert_eq!(typed(addr, long.as_bytes()), "ERR line too long\n");
}
