//! Applications of the caller's own: how a protocol the simulator does not
//! know (a learner's key-value store, say) runs on a simulated host.
//!
//! A scenario names such an application as a [`Workload::Custom`] with a
//! name; the caller hands the simulator an [`Apps`] that builds it
//! ([`Sim::with_apps`](super::Sim::with_apps)). The builder gets a
//! [`Place`]: where the application runs and whom it talks to, and four
//! ways to put a machine and its [`Responder`] on a socket, so that the
//! caller never touches the TCP/IP stack's own types.
//!
//! [`Workload::Custom`]: super::Workload::Custom

use super::app::{App, DatagramApp, Open, Responder, StreamApp};
use super::scenario::ScenarioError;
use crate::machine::{Machine, PeerId};
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use core::fmt::Debug;
use smoltcp::wire::IpEndpoint;

// ANCHOR: apps
/// Builds the [`Workload::Custom`](super::Workload::Custom) applications a
/// scenario names. A closure `Fn(&str, &Place) -> Result<Box<dyn App>,
/// ScenarioError>` is one.
pub trait Apps {
    /// The application called `name`, for `place`. An unknown name is a
    /// [`ScenarioError::BadWorkload`] (see [`unknown`]).
    fn build(&self, name: &str, place: &Place<'_>) -> Result<Box<dyn App>, ScenarioError>;
}
// ANCHOR_END: apps

impl<F> Apps for F
where
    F: Fn(&str, &Place<'_>) -> Result<Box<dyn App>, ScenarioError>,
{
    fn build(&self, name: &str, place: &Place<'_>) -> Result<Box<dyn App>, ScenarioError> {
        self(name, place)
    }
}

/// A machine the simulator can run: one that it, its commands and its
/// errors can be shown, because the trace and the lab print them.
pub trait SimMachine: Machine<Error: Debug, Command: Debug> + Debug + 'static {}

impl<M> SimMachine for M where M: Machine<Error: Debug, Command: Debug> + Debug + 'static {}

/// The simulator's own builder, which knows no custom application.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoApps;

impl Apps for NoApps {
    fn build(&self, name: &str, _: &Place<'_>) -> Result<Box<dyn App>, ScenarioError> {
        Err(unknown(name))
    }
}

/// The error for a custom application nobody builds.
pub fn unknown(name: &str) -> ScenarioError {
    ScenarioError::BadWorkload(format!("no custom application named `{name}`"))
}

/// Where a custom application runs: its port, its server (for a client),
/// its own arguments from the scenario, and a seed of its own.
#[derive(Clone, Debug)]
pub struct Place<'a> {
    pub(super) port: u16,
    pub(super) server: Option<IpEndpoint>,
    pub(super) local_port: u16,
    pub(super) seed: u64,
    pub(super) args: &'a [String],
}

impl Place<'_> {
    /// The port a server listens on, or the server port a client talks to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// True for a client (the scenario names its server).
    pub fn is_client(&self) -> bool {
        self.server.is_some()
    }

    /// The application's arguments, as the scenario lists them.
    pub fn args(&self) -> &[String] {
        self.args
    }

    /// A seed for this copy of the application alone (jitter, generated data).
    pub fn seed(&self) -> u64 {
        self.seed
    }

    fn server(&self) -> Result<IpEndpoint, ScenarioError> {
        self.server.ok_or_else(|| {
            ScenarioError::BadWorkload(String::from("a custom client needs a `server`"))
        })
    }

    // ANCHOR: place
    /// `machine` as a TCP server on [`Place::port`], for one connection (the
    /// scenario's `instances` runs more copies side by side).
    pub fn stream_server<M, R>(&self, machine: M, responder: R) -> Box<dyn App>
    where
        M: SimMachine,
        R: Responder<M> + Debug + 'static,
    {
        Box::new(StreamApp::new(machine, responder, Open::Listen(self.port)))
    }

    /// `machine` as a TCP client of the scenario's server.
    pub fn stream_client<M, R>(
        &self,
        machine: M,
        responder: R,
    ) -> Result<Box<dyn App>, ScenarioError>
    where
        M: SimMachine,
        R: Responder<M> + Debug + 'static,
    {
        let open = Open::Connect {
            remote: self.server()?,
            local_port: self.local_port,
        };
        Ok(Box::new(StreamApp::new(machine, responder, open)))
    }
    // ANCHOR_END: place

    /// `machine` on UDP [`Place::port`], answering whoever sends to it.
    pub fn datagram_server<M, R>(&self, machine: M, responder: R) -> Box<dyn App>
    where
        M: SimMachine,
        R: Responder<M> + Debug + 'static,
    {
        Box::new(DatagramApp::new(machine, responder, self.port, &[]))
    }

    /// `machine` on a UDP socket of its own, the scenario's server being
    /// [`PeerId::FIRST`].
    pub fn datagram_client<M, R>(
        &self,
        machine: M,
        responder: R,
    ) -> Result<Box<dyn App>, ScenarioError>
    where
        M: SimMachine,
        R: Responder<M> + Debug + 'static,
    {
        let known = [(PeerId::FIRST, self.server()?)];
        Ok(Box::new(DatagramApp::new(
            machine,
            responder,
            self.local_port,
            &known,
        )))
    }
}
