async fn broken(batch: Vec<u8>, retries: u32) {
    let _ = (batch, retries);
}
#[allow(non_camel_case_types)]
/// The Ex work item routine `broken` (`ExQueueWorkItem`), as a type: `ExWorkItem<broken>`. Generated beside it: `broken::ROUTINE`, `broken::initialize`, `broken::new`, `broken::queue`.
struct broken {}
impl ::ntwork::Routine for broken {
    type Context = Vec<u8>;
}
impl ::ntwork::ExRoutine for broken {
    fn run(_context: Self::Context, _: &mut ::ntwork::irql::Passive<'_>) {
        loop {}
    }
}
impl broken {
    /// The `WORKER_THREAD_ROUTINE` of `broken`. Its `Parameter` must come from `broken::initialize`, or from `ntwork::raw::into_parameter` with the routine's context; it takes the context back, runs `broken`, and frees it. Items queued with it are counted in no `Rundown`: the caller keeps the driver loaded.
    const ROUTINE: ::ntwork::ffi::WORKER_THREAD_ROUTINE = ::ntwork::raw::ex_routine::<
        broken,
    >();
    /// The typed `ExInitializeWorkItem` for `broken`: stores `ROUTINE` and the context (moved to nonpaged pool) in a caller-owned `WORK_QUEUE_ITEM`. On low resources the error holds the context.
    ///
    /// # Safety
    ///
    /// `item` is valid for writes, in nonpaged memory, and not queued; it stays valid until the routine has run, and it is queued at most once (the routine takes the context back). The item is counted in no `Rundown`: the driver's image stays loaded until the routine has returned (the caller waits for it before its DriverUnload returns, or the driver cannot unload).
    unsafe fn initialize(
        _item: *mut ::ntwork::ffi::WORK_QUEUE_ITEM,
        _context: Vec<u8>,
    ) -> ::core::result::Result<(), ::ntwork::AllocError<Vec<u8>>> {
        loop {}
    }
    /// An owned one-shot item for `broken`, holding its context; `irql` proves IRQL <= `DISPATCH_LEVEL`. On low resources the error holds the context.
    fn new(
        _context: Vec<u8>,
        _irql: &impl ::ntwork::irql::AtMostDispatch,
    ) -> ::core::result::Result<
        ::ntwork::ExWorkItem<broken>,
        ::ntwork::AllocError<Vec<u8>>,
    > {
        loop {}
    }
    /// Allocates an item for `broken` and queues it on `queue`, counted in `rundown` until the routine returns; `irql` proves IRQL <= `DISPATCH_LEVEL`. On low resources, or once the rundown has started, the error holds the context.
    fn queue(
        _rundown: &'static ::ntwork::Rundown,
        _context: Vec<u8>,
        _queue: ::ntwork::WorkQueue,
        _irql: &impl ::ntwork::irql::AtMostDispatch,
    ) -> ::core::result::Result<(), ::ntwork::QueueError<Vec<u8>>> {
        loop {}
    }
}
::core::compile_error! {
    "unknown `#[work_item]` argument `bogus`: expected `ex`, `device`, `driver`, `wdf`, `parent = device | queue`, `rundown = STATIC`, `unsafe(never_unloads)` or `crate = path::to::ntwork`"
}
::core::compile_error! {
    "a `#[work_item]` routine cannot be `async`: a system worker thread calls it once and runs it to completion, with no executor to poll a future; make it a plain `fn`"
}
::core::compile_error! {
    "an Ex routine takes at most one parameter, its context: bundle these values into a struct or a tuple and take that (the Ex shapes are `fn name(context: C)`, `fn name(context: &C)` or `fn name()`; work bound to a device or to the driver object takes the object first, `fn name(device: &DeviceObject, context: C)`)"
}
