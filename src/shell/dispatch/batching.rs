//! Store calls of the sends in flight, taken together.
//!
//! A tick sends many events at once, and each makes the same few store calls (claim, re-read
//! its client, check its claim, record its outcome). A [`Batcher`] gathers the calls of one
//! kind that are waiting and makes them as one batch call (one statement, one transaction),
//! the way a database commits the transactions waiting on one disk flush together. Nothing
//! waits on a timer: the first caller leads, the calls made while a batch runs form the next
//! one, and each caller's own code reads as if it made its call alone.
//!
//! The leader runs batches until its own call is answered, then hands the lead to the
//! oldest caller still waiting, so no caller runs others' batches for long. A leader dropped
//! mid-batch (its tick cancelled) answers its batch's callers `None` and hands the lead on.

use std::future::{Future, poll_fn};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};

/// The most calls one batch carries.
const MOST: usize = 256;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Where one call's answer arrives.
struct Slot<T> {
    answer: Option<T>,
    /// Its batch was dropped unanswered.
    closed: bool,
    /// It is this caller's turn to lead.
    lead: bool,
    waker: Option<Waker>,
}

type Shared<T> = Arc<Mutex<Slot<T>>>;

fn shared<T>() -> Shared<T> {
    Arc::new(Mutex::new(Slot {
        answer: None,
        closed: false,
        lead: false,
        waker: None,
    }))
}

fn wake<T>(slot: &mut Slot<T>) {
    if let Some(w) = slot.waker.take() {
        w.wake();
    }
}

struct Queue<Req, Resp> {
    leading: bool,
    waiting: Vec<(Req, Shared<Resp>)>,
}

/// Gathers calls of one kind into batches. `Req` is one call's argument, `Resp` its answer.
pub(crate) struct Batcher<Req, Resp> {
    queue: Mutex<Queue<Req, Resp>>,
}

impl<Req, Resp> Default for Batcher<Req, Resp> {
    fn default() -> Self {
        Self {
            queue: Mutex::new(Queue {
                leading: false,
                waiting: Vec::new(),
            }),
        }
    }
}

/// What a waiting caller is woken for.
enum Woken<T> {
    Answer(T),
    Closed,
    Lead,
}

/// Gives the lead to the oldest waiting caller, or to none when nobody waits.
fn hand_on<Req, Resp>(q: &mut Queue<Req, Resp>) {
    match q.waiting.first() {
        Some((_, next)) => {
            let mut slot = lock(next);
            slot.lead = true;
            wake(&mut slot);
        }
        None => q.leading = false,
    }
}

/// Hands the lead on when its leader stops leading, also when dropped mid-batch.
struct Leading<'a, Req, Resp>(&'a Mutex<Queue<Req, Resp>>);

impl<Req, Resp> Drop for Leading<'_, Req, Resp> {
    fn drop(&mut self) {
        hand_on(&mut lock(self.0));
    }
}

/// A caller dropped while it waits (its tick cancelled) leaves the queue, and hands on the
/// lead if it was given it: the next tick's calls never wait on it.
struct Waiting<'a, Req, Resp> {
    queue: &'a Mutex<Queue<Req, Resp>>,
    mine: Shared<Resp>,
}

impl<Req, Resp> Drop for Waiting<'_, Req, Resp> {
    fn drop(&mut self) {
        let mut q = lock(self.queue);
        q.waiting.retain(|(_, s)| !Arc::ptr_eq(s, &self.mine));
        let had_lead = std::mem::take(&mut lock(&self.mine).lead);
        if had_lead {
            hand_on(&mut q);
        }
    }
}

/// A batch's callers not answered (their batch dropped) are answered `None`.
struct Answering<T>(Vec<Shared<T>>);

impl<T> Drop for Answering<T> {
    fn drop(&mut self) {
        for s in &self.0 {
            let mut slot = lock(s);
            if slot.answer.is_none() {
                slot.closed = true;
                wake(&mut slot);
            }
        }
    }
}

/// Returns `Pending` once (waking itself), so the callers polled in the same round join the
/// first batch.
async fn yield_once() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await;
}

impl<Req, Resp> Batcher<Req, Resp> {
    /// Makes the call `req` in a batch: `run` is given the batch's arguments and answers one
    /// `Resp` each, in order (missing answers are `None`). `None` when the batch carrying
    /// the call was dropped before it answered.
    pub(crate) async fn call<F, Fut>(&self, req: Req, run: F) -> Option<Resp>
    where
        F: Fn(Vec<Req>) -> Fut,
        Fut: Future<Output = Vec<Resp>>,
    {
        let mine = shared();
        let fresh = {
            let mut q = lock(&self.queue);
            q.waiting.push((req, mine.clone()));
            !std::mem::replace(&mut q.leading, true)
        };
        if fresh {
            lock(&mine).lead = true;
        }
        let _waiting = Waiting {
            queue: &self.queue,
            mine: mine.clone(),
        };
        loop {
            let woken = poll_fn(|cx| {
                let mut slot = lock(&mine);
                if let Some(answer) = slot.answer.take() {
                    Poll::Ready(Woken::Answer(answer))
                } else if slot.closed {
                    Poll::Ready(Woken::Closed)
                } else if std::mem::take(&mut slot.lead) {
                    Poll::Ready(Woken::Lead)
                } else {
                    slot.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            })
            .await;
            match woken {
                Woken::Answer(answer) => return Some(answer),
                Woken::Closed => return None,
                Woken::Lead => {
                    let _leading = Leading(&self.queue);
                    if fresh {
                        yield_once().await;
                    }
                    // Batches until this caller's own call is answered (it is in the first
                    // one: the lead goes to the oldest waiting caller).
                    loop {
                        let batch: Vec<(Req, Shared<Resp>)> = {
                            let mut q = lock(&self.queue);
                            let n = q.waiting.len().min(MOST);
                            q.waiting.drain(..n).collect()
                        };
                        let (reqs, slots): (Vec<Req>, Vec<Shared<Resp>>) = batch.into_iter().unzip();
                        let answering = Answering(slots);
                        let answers = run(reqs).await;
                        for (s, answer) in answering.0.iter().zip(answers) {
                            let mut slot = lock(s);
                            slot.answer = Some(answer);
                            wake(&mut slot);
                        }
                        drop(answering);
                        let slot = lock(&mine);
                        if slot.answer.is_some() || slot.closed {
                            break;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::future::join_all;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A batch's answers (its requests), or never, when `stalled`.
    async fn answer_unless(stalled: bool, reqs: Vec<u32>) -> Vec<u32> {
        if stalled {
            std::future::pending::<()>().await;
        }
        reqs
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        futures_executor_lite(f)
    }

    /// A minimal executor for the tests: polls `f` until ready, with a no-op waker (every
    /// future here makes progress on each poll or wakes itself).
    fn futures_executor_lite<F: Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let waker = Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        for _ in 0..1_000_000 {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
        panic!("the batched calls never finished");
    }

    #[test]
    fn calls_made_together_go_in_one_batch_and_each_gets_its_own_answer() {
        let b: Batcher<u32, u32> = Batcher::default();
        let batches = Mutex::new(Vec::new());
        let run = |reqs: Vec<u32>| {
            lock(&batches).push(reqs.len());
            let answers = reqs.iter().map(|r| r * 10).collect();
            async move { answers }
        };
        let answers = block_on(join_all((0..40).map(|i| b.call(i, run))));
        assert_eq!(answers, (0..40).map(|i| Some(i * 10)).collect::<Vec<_>>());
        assert_eq!(*lock(&batches), vec![40], "one batch for calls made in one round");
    }

    #[test]
    fn no_batch_is_longer_than_the_most_and_a_short_answer_closes_the_rest() {
        let b: Batcher<usize, usize> = Batcher::default();
        let calls = AtomicUsize::new(0);
        let run = |reqs: Vec<usize>| {
            calls.fetch_add(1, Ordering::SeqCst);
            assert!(reqs.len() <= MOST, "a batch of {}", reqs.len());
            // Answers all but the last call of each batch.
            let answers: Vec<usize> = reqs.iter().take(reqs.len() - 1).copied().collect();
            async move { answers }
        };
        let answers = block_on(join_all((0..MOST + 10).map(|i| b.call(i, run))));
        assert!(calls.load(Ordering::SeqCst) >= 2);
        let unanswered = answers.iter().filter(|a| a.is_none()).count();
        assert_eq!(unanswered, calls.load(Ordering::SeqCst), "one unanswered a batch");
        for (i, a) in answers.iter().enumerate() {
            if let Some(a) = a {
                assert_eq!(*a, i);
            }
        }
    }

    #[test]
    fn a_leader_dropped_mid_batch_answers_none_and_hands_the_lead_on() {
        let b: Arc<Batcher<u32, u32>> = Arc::new(Batcher::default());
        let stall = std::sync::atomic::AtomicBool::new(true);
        let run = |reqs: Vec<u32>| answer_unless(stall.load(Ordering::SeqCst), reqs);
        // The first call leads and stalls; it is dropped after a few polls.
        {
            let mut first = std::pin::pin!(b.call(1, run));
            let mut cx = std::task::Context::from_waker(Waker::noop());
            for _ in 0..5 {
                assert!(first.as_mut().poll(&mut cx).is_pending());
            }
        }
        stall.store(false, Ordering::SeqCst);
        // Nobody leads now: a later call leads at once and is answered.
        assert_eq!(block_on(b.call(2, run)), Some(2));
    }

    #[test]
    fn a_waiting_caller_dropped_leaves_no_one_waiting_on_it() {
        let b: Batcher<u32, u32> = Batcher::default();
        let stall = std::sync::atomic::AtomicBool::new(true);
        let run = |reqs: Vec<u32>| answer_unless(stall.load(Ordering::SeqCst), reqs);
        // Three calls: the first leads and stalls with all three in its batch... so the
        // second and third are queued behind a first call that leads a batch of one.
        let mut cx = std::task::Context::from_waker(Waker::noop());
        let mut first = Box::pin(b.call(1, run));
        assert!(first.as_mut().poll(&mut cx).is_pending());
        assert!(first.as_mut().poll(&mut cx).is_pending());
        let mut second = Box::pin(b.call(2, run));
        let mut third = Box::pin(b.call(3, run));
        assert!(second.as_mut().poll(&mut cx).is_pending());
        assert!(third.as_mut().poll(&mut cx).is_pending());
        assert_eq!(lock(&b.queue).waiting.len(), 2);
        // The leader is dropped: the lead goes to the second, which is dropped too before it
        // takes it; the third, polled again, leads and is answered.
        drop(first);
        drop(second);
        assert_eq!(lock(&b.queue).waiting.len(), 1);
        stall.store(false, Ordering::SeqCst);
        assert_eq!(block_on(third), Some(3));
        assert!(!lock(&b.queue).leading);
        assert!(lock(&b.queue).waiting.is_empty());
    }

    #[test]
    fn a_waiting_caller_gets_the_lead_after_the_leader_is_answered() {
        let b: Batcher<u32, u32> = Batcher::default();
        let batches = Mutex::new(Vec::new());
        let run = |reqs: Vec<u32>| {
            lock(&batches).push(reqs.clone());
            async move { reqs }
        };
        // The second call joins while the first one's batch runs (it yields once first):
        // both are answered, in two batches at most.
        let late = async {
            yield_once().await;
            yield_once().await;
            b.call(2, run).await
        };
        let (a, c) = block_on(futures_util::future::join(b.call(1, run), late));
        assert_eq!((a, c), (Some(1), Some(2)));
        assert!(!lock(&batches).is_empty());
        assert!(
            !lock(&b.queue).leading,
            "nobody leads once every call is answered"
        );
    }

    /// Pending for a number of polls, then ready: a store call that takes a while.
    struct Polls(u32);

    impl Future for Polls {
        type Output = ();
        fn poll(mut self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> Poll<()> {
            if self.0 == 0 {
                Poll::Ready(())
            } else {
                self.0 -= 1;
                Poll::Pending
            }
        }
    }

    type Call<'a> = std::pin::Pin<Box<dyn Future<Output = Option<usize>> + 'a>>;

    proptest::proptest! {
        /// Calls polled in any order, some dropped (a cancelled tick) at any point, batches
        /// taking any number of polls: every call not dropped finishes, with its own answer
        /// (or `None` only after a drop, its batch's leader gone), no batch is longer than
        /// the most, and once every call is done nobody leads and nobody waits.
        #[test]
        fn every_call_not_dropped_finishes_with_its_own_answer(
            calls in 1usize..40,
            script in proptest::collection::vec((0usize..64, 0u8..100, 0u32..4), 1..400),
        ) {
            let b: Batcher<usize, usize> = Batcher::default();
            let delays = Mutex::new(script.iter().map(|s| s.2).collect::<Vec<_>>());
            let run = |reqs: Vec<usize>| {
                assert!(reqs.len() <= MOST);
                let d = lock(&delays).pop().unwrap_or(0);
                async move {
                    Polls(d).await;
                    reqs
                }
            };
            let mut live: Vec<Option<Call<'_>>> =
                (0..calls).map(|i| Some(Box::pin(b.call(i, run)) as _)).collect();
            let mut answers: Vec<Option<Option<usize>>> = vec![None; calls];
            let mut dropped = 0;
            let mut cx = std::task::Context::from_waker(Waker::noop());
            for (pick, action, _) in &script {
                let i = pick % calls;
                let Some(f) = live[i].as_mut() else { continue };
                if *action < 8 {
                    live[i] = None;
                    dropped += 1;
                } else if let Poll::Ready(a) = f.as_mut().poll(&mut cx) {
                    answers[i] = Some(a);
                    live[i] = None;
                }
            }
            // Then everything left is polled in turn until done: none may hang.
            for _ in 0..10_000 {
                let mut left = 0;
                for i in 0..calls {
                    if let Some(f) = live[i].as_mut() {
                        left += 1;
                        if let Poll::Ready(a) = f.as_mut().poll(&mut cx) {
                            answers[i] = Some(a);
                            live[i] = None;
                        }
                    }
                }
                if left == 0 {
                    break;
                }
            }
            proptest::prop_assert!(live.iter().all(Option::is_none), "calls still waiting");
            for (i, a) in answers.iter().enumerate() {
                match a {
                    Some(Some(v)) => proptest::prop_assert_eq!(*v, i),
                    Some(None) => proptest::prop_assert!(dropped > 0, "call {} unanswered with no drop", i),
                    None => {}
                }
            }
            let q = lock(&b.queue);
            proptest::prop_assert!(!q.leading, "someone still leads");
            proptest::prop_assert!(q.waiting.is_empty(), "someone still waits");
        }
    }
}
