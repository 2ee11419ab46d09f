//! Slow local work off the drivers' threads: a bounded pool of worker
//! threads, and the handler that sends a machine's slow events there.
//!
//! A store answer can take seconds (hashing a 32 GiB file to resume a `GET`
//! at its end). Worked out inside `on_event` it holds the thread that asked:
//! under the async model that is an executor thread, and two such requests
//! on this two-core machine held every other connection's `HELLO` and `STAT`
//! for 35 s (issue #16). Here the work runs on one of [`Pool::new`]'s
//! workers instead, at most that many at once (`serve --max-hashes`; the
//! rest wait their turn in the queue), and the connection that asked waits
//! through the core's deferred answers ([`Handler::pending`]): its driver
//! is woken by the [`Waker`] it waited with when the answer is ready.
//!
//! The queue is not bounded by itself, but each connection has at most one
//! job in it (a machine asks one question at a time, and [`Offload`] gives
//! its handler no further event until the answer is in), so it never holds
//! more jobs than the server has connections (`--max-conns`).

use crate::endpoint::Handler;
use std::future::Future;
use std::io;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use wirekit_core::{Machine, Now};

type Job = Box<dyn FnOnce() + Send>;

/// The number of workers when none is asked for: one per core (each job is
/// CPU-bound hashing), or 2 when the core count is unknown.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

// ANCHOR: pool
/// A fixed number of worker threads taking jobs in turn. Clones share the
/// workers; they end once every clone is dropped and the queue is empty.
#[derive(Clone, Debug)]
pub struct Pool {
    queue: mpsc::Sender<Job>,
    workers: usize,
    busy: Arc<AtomicUsize>,
}

impl Pool {
    /// A pool of `workers` threads (at least one).
    pub fn new(workers: usize) -> io::Result<Pool> {
        let workers = workers.max(1);
        let (queue, jobs) = mpsc::channel::<Job>();
        let jobs = Arc::new(Mutex::new(jobs));
        let busy = Arc::new(AtomicUsize::new(0));
        for n in 0..workers {
            let (jobs, busy) = (Arc::clone(&jobs), Arc::clone(&busy));
            std::thread::Builder::new()
                .name(format!("work-{n}"))
                .spawn(move || work(&jobs, &busy))?;
        }
        Ok(Pool {
            queue,
            workers,
            busy,
        })
    }

    /// Runs `job` on a worker when one is free; the ticket yields its result.
    pub fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Ticket<T> {
        let slot = Arc::new(Mutex::new(Slot {
            value: None,
            waker: None,
            ended: false,
        }));
        let answer = Answer(Arc::clone(&slot));
        let sent = self.queue.send(Box::new(move || answer.give(job())));
        // The workers outlive every sender, so the queue cannot be closed;
        // were it, the job is dropped and the ticket reads as lost.
        drop(sent);
        Ticket(slot)
    }

    /// Its number of workers: the most jobs that run at once.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Jobs running now.
    pub fn busy(&self) -> usize {
        self.busy.load(Ordering::Acquire)
    }
}

fn work(jobs: &Mutex<mpsc::Receiver<Job>>, busy: &AtomicUsize) {
    loop {
        // The lock is held while waiting, so one idle worker waits on the
        // queue and the others on the lock: each job goes to exactly one.
        let job = lock(jobs).recv();
        let Ok(job) = job else {
            return; // every pool handle is gone
        };
        busy.fetch_add(1, Ordering::AcqRel);
        // A job that panics loses its result (its ticket reads as lost),
        // not the worker.
        if std::panic::catch_unwind(AssertUnwindSafe(job)).is_err() {
            tracing::error!("a pool job panicked");
        }
        busy.fetch_sub(1, Ordering::AcqRel);
    }
}
// ANCHOR_END: pool

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The data behind these locks is a value or a waker, whole either way.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Debug)]
struct Slot<T> {
    value: Option<T>,
    waker: Option<Waker>,
    ended: bool,
}

/// The worker's end of a ticket: gives the result, or on drop without one
/// (the job panicked) marks it lost, and wakes the waiter either way.
struct Answer<T>(Arc<Mutex<Slot<T>>>);

impl<T> Answer<T> {
    fn give(self, value: T) {
        lock(&self.0).value = Some(value);
        // Drop ends the slot and wakes.
    }
}

impl<T> Drop for Answer<T> {
    fn drop(&mut self) {
        let waker = {
            let mut slot = lock(&self.0);
            slot.ended = true;
            slot.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// A job's result to come: a future (`None` if the job panicked), which
/// wakes the waker it was last polled with when the job ends. Dropping it
/// drops the result when it comes.
#[derive(Debug)]
pub struct Ticket<T>(Arc<Mutex<Slot<T>>>);

impl<T> Future for Ticket<T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut slot = lock(&self.0);
        if slot.ended {
            return Poll::Ready(slot.value.take());
        }
        if !slot.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            slot.waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

// ANCHOR: offload
/// What a session keeps and answers its machine's events from (a store
/// adapter), moved to a worker for the events that are slow to answer.
pub trait Answers<M: Machine>: Send + 'static {
    /// Answers one event, here or on a worker.
    fn answer(&mut self, event: M::Event, cmds: &mut Vec<M::Command>);
    /// Whether `event` may take long enough to hold up other connections.
    fn is_slow(&self, event: &M::Event) -> bool;
    /// The connection is going away: release what the events took.
    fn close(&mut self);
    /// What to tell the machine when a job was lost with the state in it
    /// (it panicked): without one the session would wait for its answer
    /// until the client gave up.
    fn lost(cmds: &mut Vec<M::Command>)
    where
        Self: Sized,
    {
        let _ = cmds;
    }
}

/// A [`Handler`] that answers from `S`, sending the slow events (and `S`
/// with them) to a [`Pool`] and giving their answers late.
#[derive(Debug)]
pub struct Offload<S, C> {
    /// `None` while a worker has it.
    state: Option<S>,
    owed: Option<Ticket<(S, Vec<C>)>>,
    pool: Option<Pool>,
    /// A job was lost (it panicked): nothing is answered any more.
    lost: bool,
}

impl<S, C> Offload<S, C> {
    /// Answers from `state`, the slow events on `pool` (all at once, on the
    /// caller's thread, without one).
    pub fn new(state: S, pool: Option<Pool>) -> Self {
        Offload {
            state: Some(state),
            owed: None,
            pool,
            lost: false,
        }
    }

    /// The state, unless a worker has it now.
    pub fn state(&self) -> Option<&S> {
        self.state.as_ref()
    }
}

impl<M, S, C> Handler<M> for Offload<S, C>
where
    M: Machine<Command = C>,
    M::Event: Send + 'static,
    S: Answers<M>,
    C: Send + 'static,
{
    fn on_event(&mut self, _now: Now, event: M::Event, cmds: &mut Vec<C>) -> Option<String> {
        let Some(mut state) = self.state.take() else {
            // The host gives no event while one is owed; only a lost job
            // leaves no state.
            return None;
        };
        match &self.pool {
            Some(pool) if state.is_slow(&event) => {
                self.owed = Some(pool.run(move || {
                    let mut answer = Vec::new();
                    state.answer(event, &mut answer);
                    (state, answer)
                }));
            }
            _ => {
                state.answer(event, cmds);
                self.state = Some(state);
            }
        }
        None
    }

    fn pending(&self) -> bool {
        self.owed.is_some()
    }

    fn poll_answer(
        &mut self,
        _now: Now,
        cx: &mut Context<'_>,
        cmds: &mut Vec<C>,
    ) -> Poll<Option<String>> {
        let Some(owed) = &mut self.owed else {
            return Poll::Ready(None);
        };
        let done = match Pin::new(owed).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(done) => done,
        };
        self.owed = None;
        match done {
            Some((state, answer)) => {
                self.state = Some(state);
                cmds.extend(answer);
            }
            None => {
                self.lost = true;
                tracing::error!("a store job was lost; the session answers no more");
                S::lost(cmds);
            }
        }
        Poll::Ready(None)
    }

    fn on_close(&mut self, _now: Now) {
        // A state still on a worker is closed by its own drop, when the
        // result finds its ticket gone.
        if let Some(state) = &mut self.state {
            state.close();
        }
    }
}
// ANCHOR_END: offload

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::Hosted;
    use std::sync::atomic::AtomicBool;
    use std::task::Wake;
    use std::time::{Duration, Instant};
    use wirekit_core::Input;
    use wirekit_core::transfer::server::{Command, Event, Server};

    /// Unparks the test's thread.
    struct Unpark(std::thread::Thread, AtomicBool);

    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.1.store(true, Ordering::SeqCst);
            self.0.unpark();
        }
    }

    fn wait<T>(mut t: Ticket<T>) -> Option<T> {
        let flag = Arc::new(Unpark(std::thread::current(), AtomicBool::new(false)));
        let waker = Waker::from(Arc::clone(&flag));
        let mut cx = Context::from_waker(&waker);
        let give_up = Instant::now() + Duration::from_secs(10);
        loop {
            if let Poll::Ready(v) = Pin::new(&mut t).poll(&mut cx) {
                return v;
            }
            assert!(Instant::now() < give_up, "the job never ended");
            std::thread::park_timeout(Duration::from_millis(100));
        }
    }

    #[test]
    fn no_more_jobs_run_at_once_than_the_pool_has_workers() {
        let pool = Pool::new(2).expect("pool");
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let tickets: Vec<_> = (0..6)
            .map(|i| {
                let (now, most) = (Arc::clone(&now), Arc::clone(&most));
                pool.run(move || {
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(n, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(50));
                    now.fetch_sub(1, Ordering::SeqCst);
                    i * 10
                })
            })
            .collect();
        let got: Vec<_> = tickets.into_iter().map(wait).collect();
        assert_eq!(got, (0..6).map(|i| Some(i * 10)).collect::<Vec<_>>());
        assert_eq!(most.load(Ordering::SeqCst), 2, "two workers, six jobs");
        // A worker counts itself free just after it handed the result over.
        let give_up = Instant::now() + Duration::from_secs(10);
        while pool.busy() > 0 {
            assert!(Instant::now() < give_up, "{} still busy", pool.busy());
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn a_finished_job_wakes_its_waiter_and_a_panic_reads_as_lost() {
        let pool = Pool::new(1).expect("pool");
        let flag = Arc::new(Unpark(std::thread::current(), AtomicBool::new(false)));
        let waker = Waker::from(Arc::clone(&flag));
        let mut t = pool.run(|| {
            std::thread::sleep(Duration::from_millis(100));
            7
        });
        assert!(
            Pin::new(&mut t)
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
        );
        let give_up = Instant::now() + Duration::from_secs(10);
        while !flag.1.load(Ordering::SeqCst) {
            assert!(Instant::now() < give_up, "never woken");
            std::thread::park_timeout(Duration::from_millis(100));
        }
        assert_eq!(wait(t), Some(7));
        let lost = pool.run(|| -> u32 { panic!("a job that fails") });
        assert_eq!(wait(lost), None);
        // The worker survived its job's panic.
        assert_eq!(wait(pool.run(|| 8)), Some(8));
    }

    /// Answers `STAT` on the pool by panicking.
    #[derive(Debug)]
    struct Panics;

    impl Answers<Server> for Panics {
        fn answer(&mut self, _: Event, _: &mut Vec<Command>) {
            panic!("a store bug");
        }

        fn is_slow(&self, event: &Event) -> bool {
            matches!(event, Event::Stat { .. })
        }

        fn close(&mut self) {}

        fn lost(cmds: &mut Vec<Command>) {
            cmds.push(Command::Close);
        }
    }

    #[test]
    fn a_session_whose_job_was_lost_ends_rather_than_waits() {
        let pool = Pool::new(1).expect("pool");
        let mut h = Hosted::new(Server::new(), Offload::new(Panics, Some(pool)));
        let bytes = b"HELLO 1\nSTAT x\n";
        let from = wirekit_core::PeerId::FIRST;
        h.input(Now::default(), Input::Data { from, bytes });
        assert!(h.waiting());
        let flag = Arc::new(Unpark(std::thread::current(), AtomicBool::new(false)));
        let waker = Waker::from(flag);
        let give_up = Instant::now() + Duration::from_secs(10);
        while h
            .poll_local(Now::default(), &mut Context::from_waker(&waker))
            .is_pending()
        {
            assert!(Instant::now() < give_up, "never answered");
            std::thread::park_timeout(Duration::from_millis(100));
        }
        assert!(h.is_done(), "the machine was told to close");
    }
}
