//! The browser lab's bridge to the core. It grows with the simulator.
