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

/// The system's clock. Its sleeps use a helper thread, so they work on any executor; a host
/// on tokio may implement [`Clock`] with `tokio::time::sleep` instead.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one place the shell reads the system time
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        let shared = Arc::new(Mutex::new(Timer::default()));
        let thread_side = Arc::clone(&shared);
        let spawned = std::thread::Builder::new()
            .name("dunning-sleep".into())
            .spawn(move || {
                std::thread::sleep(duration);
                let mut t = thread_side.lock().unwrap_or_else(PoisonError::into_inner);
                t.done = true;
                if let Some(w) = t.waker.take() {
                    w.wake();
                }
            });
        if spawned.is_err() {
            // No thread to wait with: give up waiting rather than hang.
            shared.lock().unwrap_or_else(PoisonError::into_inner).done = true;
        }
        Box::pin(TimerFuture(shared))
    }
}

#[derive(Default)]
struct Timer {
    done: bool,
    waker: Option<Waker>,
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
