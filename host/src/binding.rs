//! Which executive a thread's kernel calls go to: each thread is bound to at
//! most one (its creator, a worker of it, or `Executive::enter`), and a call
//! from a thread bound to none aborts with a message, never a silent drop.

use core::cell::{Cell, RefCell};
use core::fmt;
use core::marker::PhantomData;
use std::io::Write as _;
use std::sync::Arc;

use crate::state::Inner;

std::thread_local! {
    static BOUND: RefCell<Option<Arc<Inner>>> = const { RefCell::new(None) };
    /// Whether the thread's last kernel call was `ExReleaseRundownProtection`
    /// (every call that reaches the executive clears it).
    static RELEASED_LAST: Cell<bool> = const { Cell::new(false) };
}

/// `ExReleaseRundownProtection` was the calling thread's last kernel call.
pub(crate) fn note_release() {
    let _ = RELEASED_LAST.try_with(|last| last.set(true));
}

/// Whether the calling thread's last kernel call was
/// `ExReleaseRundownProtection`; clears it.
pub(crate) fn take_released_last() -> bool {
    RELEASED_LAST
        .try_with(|last| last.replace(false))
        .unwrap_or(false)
}

/// Binds the calling thread to `inner`; returns the previous binding.
pub(crate) fn bind(inner: Option<Arc<Inner>>) -> Option<Arc<Inner>> {
    BOUND.try_with(|bound| bound.replace(inner)).ok().flatten()
}

fn bound() -> Option<Arc<Inner>> {
    BOUND
        .try_with(|bound| bound.borrow().clone())
        .ok()
        .flatten()
        .filter(|inner| !inner.is_closed())
}

/// The executive of the calling thread.
///
/// A kernel call from a thread bound to no live executive has nowhere to go:
/// rather than drop it silently, the host says so and aborts the process.
pub(crate) fn current() -> Arc<Inner> {
    let _ = RELEASED_LAST.try_with(|last| last.set(false));
    bound().unwrap_or_else(|| {
        let thread = std::thread::current();
        let _ = writeln!(
            std::io::stderr(),
            "ntwork host executive: a kernel function was called on thread {:?} ({:?}), \
             which is bound to no live executive. Create one on this thread \
             (`Executive::new()` / `Executive::manual()`), or bind a thread the test \
             spawned with `let _bound = executive.enter();`. Aborting: the call cannot \
             be honoured and must not be dropped silently.",
            thread.name().unwrap_or("unnamed"),
            thread.id(),
        );
        std::process::abort()
    })
}

/// Whether the calling thread is bound to `inner`.
pub(crate) fn is_bound_to(inner: &Arc<Inner>) -> bool {
    BOUND
        .try_with(|b| b.borrow().as_ref().is_some_and(|i| inner.is_same(i)))
        .unwrap_or(false)
}

/// Binds a thread to an executive until dropped; see
/// [`Executive::enter`](crate::Executive::enter).
#[must_use = "the binding ends when the guard is dropped"]
pub struct EnterGuard<'a> {
    previous: Option<Arc<Inner>>,
    /// Borrows the executive the thread is bound to.
    _executive: PhantomData<&'a ()>,
    /// The guard restores a thread-local binding: it stays on its thread.
    _not_send: PhantomData<*const ()>,
}

impl Drop for EnterGuard<'_> {
    fn drop(&mut self) {
        bind(self.previous.take());
    }
}

impl fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EnterGuard")
    }
}

impl EnterGuard<'_> {
    pub(crate) fn new(previous: Option<Arc<Inner>>) -> Self {
        Self {
            previous,
            _executive: PhantomData,
            _not_send: PhantomData,
        }
    }
}
