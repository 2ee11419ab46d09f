//! # KV/1: a protocol of your own on Wirekit
//!
//! The book's capstone. A small key-value store spoken over TCP in lines a
//! person can type (`SET colour blue`, `GET colour`), built the way every
//! Wirekit protocol is built, and with nothing but the public API of
//! `wirekit-core` and `wirekit`:
//!
//! | concern | module |
//! |---|---|
//! | the codec: request and response lines | [`wire`] |
//! | the server machine (it holds no data) | [`server`] |
//! | the client machine (pipelined requests) | [`client`] |
//! | the store: the handler that answers the server | [`store`] |
//! | real sockets, through the native drivers | [`serve`] |
//! | the simulator: apps, a checking client, a scenario | [`sim`] |
//! | the `wirekit-kv` command | [`cli`] |

pub mod cli;
pub mod client;
pub mod serve;
pub mod server;
pub mod sim;
pub mod store;
pub mod wire;
