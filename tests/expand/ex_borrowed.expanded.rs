pub fn tick(count: &AtomicU32) {
    count.fetch_add(1, Ordering::Relaxed);
}
#[allow(non_camel_case_types)]
/// The Ex work item routine `tick` (`ExQueueWorkItem`), as a type: `ExWorkItem<tick>` and, since it borrows its context, `ReusableExWorkItem<tick>`. Generated beside it: `tick::ROUTINE`, `tick::routine::<T>()`, `tick::initialize`, `tick::new`, `tick::queue`.
pub struct tick {}
impl ::ntwork::Routine for tick {
    type Context = AtomicU32;
}
impl ::ntwork::ExRoutine for tick {
    fn run(context: Self::Context, _: &mut ::ntwork::irql::Passive<'_>) {
        tick(&context)
    }
}
impl ::ntwork::ExRoutineRef for tick {
    fn run_ref(context: &Self::Context, _: &mut ::ntwork::irql::Passive<'_>) {
        tick(context)
    }
}
impl tick {
    /// The `WORKER_THREAD_ROUTINE` of `tick`. Its `Parameter` must come from `tick::initialize`, or from `ntwork::raw::into_parameter` with the routine's context; it takes the context back, runs `tick`, and frees it. Items queued with it are counted in no `Rundown`: the caller keeps the driver loaded.
    pub const ROUTINE: ::ntwork::ffi::WORKER_THREAD_ROUTINE = ::ntwork::raw::ex_routine::<
        tick,
    >();
    /// `ROUTINE` of `tick` in the routine pointer type `T` of a binding: `ntwork::ffi`'s, wdk-sys's (`extern "C"` on x86_64 and aarch64) or windows-sys's (parameterless), with the same contract. See `ntwork::abi`.
    #[must_use]
    pub fn routine<__NtworkRoutineType: ::ntwork::abi::RoutineType<Self>>() -> __NtworkRoutineType {
        <__NtworkRoutineType as ::ntwork::abi::RoutineType<Self>>::of()
    }
    /// The typed `ExInitializeWorkItem` for `tick`: stores `ROUTINE` and the context (moved to nonpaged pool) in a caller-owned `WORK_QUEUE_ITEM`. On low resources the error holds the context.
    ///
    /// # Safety
    ///
    /// `item` is valid for writes, in nonpaged memory, and not queued; it stays valid until the routine has run, and it is queued at most once (the routine takes the context back). The item is counted in no `Rundown`: the driver's image stays loaded until the routine has returned (the caller waits for it before its DriverUnload returns, or the driver cannot unload).
    pub unsafe fn initialize(
        item: *mut ::ntwork::ffi::WORK_QUEUE_ITEM,
        context: AtomicU32,
    ) -> ::core::result::Result<(), ::ntwork::AllocError<AtomicU32>> {
        unsafe { ::ntwork::__private::ex_initialize::<tick>(item, context) }
    }
    /// An owned one-shot item for `tick`, holding its context; `irql` proves IRQL <= `DISPATCH_LEVEL`. On low resources the error holds the context.
    pub fn new(
        context: AtomicU32,
        irql: &impl ::ntwork::irql::AtMostDispatch,
    ) -> ::core::result::Result<
        ::ntwork::ExWorkItem<tick>,
        ::ntwork::AllocError<AtomicU32>,
    > {
        ::ntwork::ExWorkItem::new(context, irql)
    }
    /// Allocates an item for `tick` and queues it on `queue`, counted in `rundown` until the routine returns; `irql` proves IRQL <= `DISPATCH_LEVEL`. On low resources, or once the rundown has started, the error holds the context.
    pub fn queue(
        rundown: &'static ::ntwork::Rundown,
        context: AtomicU32,
        queue: ::ntwork::WorkQueue,
        irql: &impl ::ntwork::irql::AtMostDispatch,
    ) -> ::core::result::Result<(), ::ntwork::QueueError<AtomicU32>> {
        ::ntwork::__private::ex_queue::<tick>(rundown, context, queue, irql)
    }
}
