//! Test harnesses, beside the machines they test (feature `testing`, as
//! quinn-proto keeps its `Pair`): the contract checker every machine's fuzz
//! target and property test runs, the in-memory stores with injectable
//! faults, a WKFT/1 session and a TFTP datagram network with seeded loss,
//! duplication and reordering. The stream pair is [`crate::pair`].

pub mod contract;
pub mod store;
pub mod tftp;
pub mod transfer;
