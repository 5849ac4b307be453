//! The shell's clock: the only place the crate reads the time, so tests can drive it.
//!
//! The planner never reads a clock: `now` is an input. The dispatcher asks a [`Clock`] for
//! `now` and for sleeps (send timeouts); hosts use [`SystemClock`], tests [`ManualClock`].

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use chrono::{DateTime, Utc};

/// A future that completes after a while.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Where the shell gets the time.
///
/// # Example
/// ```
/// use chrono::{TimeZone, Utc};
/// use dunning::{Clock, ManualClock};
/// let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 4, 1, 12, 0, 0).unwrap());
/// clock.advance(chrono::Duration::hours(1));
/// assert_eq!(clock.now().to_rfc3339(), "2026-04-01T13:00:00+00:00");
/// ```
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
    /// A future that completes after `duration` of this clock's time.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// The system's clock. Its sleeps are kept by one timer thread the whole process shares
/// (started at the first sleep), so they work on any executor and cost no thread each; a host
/// on tokio may implement [`Clock`] with `tokio::time::sleep` instead.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one place the shell reads the system time
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        let timer = Arc::new(Mutex::new(Timer::default()));
        timers().add(duration, Arc::clone(&timer));
        Box::pin(TimerFuture(timer))
    }
}

/// The sleeps of the process: deadlines in a heap, ended by one thread.
struct Timers {
    queue: Mutex<TimerQueue>,
    changed: std::sync::Condvar,
}

#[derive(Default)]
struct TimerQueue {
    /// By deadline; the sequence number keeps equal deadlines apart.
    heap: std::collections::BinaryHeap<std::cmp::Reverse<(std::time::Instant, u64)>>,
    timers: std::collections::HashMap<u64, Arc<Mutex<Timer>>>,
    next: u64,
    /// Whether the thread runs (it is started at the first sleep; if it cannot be, each
    /// sleep falls back to a thread of its own).
    running: bool,
}

fn timers() -> &'static Timers {
    static TIMERS: std::sync::OnceLock<Timers> = std::sync::OnceLock::new();
    TIMERS.get_or_init(|| Timers {
        queue: Mutex::new(TimerQueue::default()),
        changed: std::sync::Condvar::new(),
    })
}

impl Timers {
    #[allow(clippy::disallowed_methods)] // the shell's timer measures real time
    fn add(&'static self, duration: Duration, timer: Arc<Mutex<Timer>>) {
        let now = std::time::Instant::now();
        let Some(deadline) = now.checked_add(duration) else {
            // Past what the system can count: it never ends (the sleep stays pending).
            return;
        };
        let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if !q.running {
            let started = std::thread::Builder::new()
                .name("dunning-timer".into())
                .spawn(move || self.run());
            if started.is_err() {
                // No thread to keep time: this sleep waits on a thread of its own, or, if
                // none can start either, never ends (a send timeout then waits for the
                // mailer: never a send declared timed out that was not).
                drop(q);
                let _ = std::thread::Builder::new()
                    .name("dunning-sleep".into())
                    .spawn(move || {
                        std::thread::sleep(duration);
                        Timer::end(&timer);
                    });
                return;
            }
            q.running = true;
        }
        let id = q.next;
        q.next += 1;
        q.heap.push(std::cmp::Reverse((deadline, id)));
        q.timers.insert(id, timer);
        drop(q);
        self.changed.notify_one();
    }

    /// Ends each sleep at its deadline, for the life of the process.
    #[allow(clippy::disallowed_methods)] // the shell's timer measures real time
    fn run(&self) {
        let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let now = std::time::Instant::now();
            while let Some(std::cmp::Reverse((deadline, id))) = q.heap.peek().copied() {
                if deadline > now {
                    break;
                }
                q.heap.pop();
                if let Some(timer) = q.timers.remove(&id) {
                    Timer::end(&timer);
                }
            }
            q = match q.heap.peek().copied() {
                Some(std::cmp::Reverse((deadline, _))) => {
                    let wait = deadline.saturating_duration_since(now);
                    self.changed
                        .wait_timeout(q, wait)
                        .map_or_else(|e| e.into_inner().0, |(q, _)| q)
                }
                None => self.changed.wait(q).unwrap_or_else(PoisonError::into_inner),
            };
        }
    }
}

#[derive(Default)]
struct Timer {
    done: bool,
    waker: Option<Waker>,
}

impl Timer {
    /// Ends the sleep and wakes its task.
    fn end(timer: &Mutex<Timer>) {
        let mut t = timer.lock().unwrap_or_else(PoisonError::into_inner);
        t.done = true;
        if let Some(w) = t.waker.take() {
            w.wake();
        }
    }
}

struct TimerFuture(Arc<Mutex<Timer>>);

impl Future for TimerFuture {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut t = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if t.done {
            Poll::Ready(())
        } else {
            t.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// A clock that moves only when told to; its sleeps end when it is advanced past them.
#[derive(Debug, Clone)]
pub struct ManualClock {
    inner: Arc<Mutex<ManualInner>>,
}

#[derive(Debug)]
struct ManualInner {
    now: DateTime<Utc>,
    sleepers: Vec<(DateTime<Utc>, Arc<Mutex<Timer>>)>,
}

impl std::fmt::Debug for Timer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timer").field("done", &self.done).finish()
    }
}

impl ManualClock {
    /// A clock stopped at `now`.
    #[must_use]
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            inner: Arc::new(Mutex::new(ManualInner {
                now,
                sleepers: Vec::new(),
            })),
        }
    }

    /// Moves the clock to `now` (never backwards) and wakes the sleeps that end by then.
    pub fn set(&self, now: DateTime<Utc>) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.now = inner.now.max(now);
        let at = inner.now;
        inner.sleepers.retain(|(deadline, timer)| {
            if *deadline > at {
                return true;
            }
            let mut t = timer.lock().unwrap_or_else(PoisonError::into_inner);
            t.done = true;
            if let Some(w) = t.waker.take() {
                w.wake();
            }
            false
        });
    }

    /// Moves the clock forward by `by`: to the end of time at most (a negative `by` does
    /// not move it).
    pub fn advance(&self, by: chrono::Duration) {
        let now = self.now();
        self.set(
            now.checked_add_signed(by)
                .unwrap_or(if by < chrono::Duration::zero() {
                    now
                } else {
                    DateTime::<Utc>::MAX_UTC
                }),
        );
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).now
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        let timer = Arc::new(Mutex::new(Timer::default()));
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let deadline = chrono::Duration::from_std(duration)
            .ok()
            .and_then(|d| inner.now.checked_add_signed(d))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        if deadline <= inner.now {
            timer.lock().unwrap_or_else(PoisonError::into_inner).done = true;
        } else {
            inner.sleepers.push((deadline, Arc::clone(&timer)));
        }
        Box::pin(TimerFuture(timer))
    }
}
