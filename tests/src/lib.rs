//! Integration tests live in `tests/tests/`; book samples are compiled here.

pub mod contract;
pub mod native;
pub mod peers;
pub mod process;
