//! Integration tests live in `tests/tests/`; book samples are compiled here.

pub mod contract;
pub mod faults;
pub mod native;
pub mod peers;
