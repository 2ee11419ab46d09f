//! Test harnesses, beside the machines they test (feature `testing`, as
//! quinn-proto keeps its `Pair`): the contract checker every machine's fuzz
//! target and property test runs. The stream pair is [`crate::pair`].

pub mod contract;
