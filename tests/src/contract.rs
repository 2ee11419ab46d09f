//! The contract checker lives in the core, behind its `testing` feature
//! (`wirekit_core::testing::contract`); this path stays for the fuzz
//! targets and the suites that import it.

pub use wirekit_core::testing::contract::*;
