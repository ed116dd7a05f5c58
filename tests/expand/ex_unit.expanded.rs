pub(crate) fn heartbeat() {}
#[allow(non_camel_case_types)]
/// The Ex work item routine `heartbeat` (`ExQueueWorkItem`), as a type: `ExWorkItem<heartbeat>` and, since it borrows its context, `ReusableExWorkItem<heartbeat>`. Generated beside it: `heartbeat::ROUTINE`, `heartbeat::routine::<T>()`, `heartbeat::initialize`, `heartbeat::new`, `heartbeat::queue`.
pub(crate) struct heartbeat {}
impl ::ntwork::Routine for heartbeat {
    type Context = ();
}
impl ::ntwork::ExRoutine for heartbeat {
    fn run((): Self::Context, _: &mut ::ntwork::irql::Passive<'_>) {
        heartbeat()
    }
}
impl ::ntwork::ExRoutineRef for heartbeat {
    fn run_ref(_: &Self::Context, _: &mut ::ntwork::irql::Passive<'_>) {
        heartbeat()
    }
}
impl heartbeat {
    /// The `WORKER_THREAD_ROUTINE` of `heartbeat`. Its `Parameter` must come from `heartbeat::initialize`, or from `ntwork::raw::into_parameter` with the routine's context; it takes the context back, runs `heartbeat`, and frees it. Items queued with it are counted in no `Rundown`: the caller keeps the driver loaded.
    pub(crate) const ROUTINE: ::ntwork::ffi::WORKER_THREAD_ROUTINE = ::ntwork::raw::ex_routine::<
        heartbeat,
    >();
    /// `ROUTINE` of `heartbeat` in the routine pointer type `T` of a binding: `ntwork::ffi`'s, wdk-sys's (`extern "C"` on x86_64 and aarch64) or windows-sys's (parameterless), with the same contract. See `ntwork::abi`.
    #[must_use]
    pub(crate) fn routine<__NtworkRoutineType: ::ntwork::abi::RoutineType<Self>>() -> __NtworkRoutineType {
        <__NtworkRoutineType as ::ntwork::abi::RoutineType<Self>>::of()
    }
    /// The typed `ExInitializeWorkItem` for `heartbeat`: stores `ROUTINE` and the context (moved to nonpaged pool) in a caller-owned `WORK_QUEUE_ITEM`. On low resources the error holds the context.
    ///
    /// # Safety
    ///
    /// `item` is valid for writes, in nonpaged memory, and not queued; it stays valid until the routine has run, and it is queued at most once (the routine takes the context back). The item is counted in no `Rundown`: the driver's image stays loaded until the routine has returned (the caller waits for it before its DriverUnload returns, or the driver cannot unload).
    pub(crate) unsafe fn initialize(
        item: *mut ::ntwork::ffi::WORK_QUEUE_ITEM,
    ) -> ::core::result::Result<(), ::ntwork::AllocError<()>> {
        unsafe { ::ntwork::__private::ex_initialize::<heartbeat>(item, ()) }
    }
    /// An owned one-shot item for `heartbeat`, holding its context; `irql` proves IRQL <= `DISPATCH_LEVEL`. On low resources the error holds the context.
    pub(crate) fn new(
        irql: &impl ::ntwork::irql::AtMostDispatch,
    ) -> ::core::result::Result<
        ::ntwork::ExWorkItem<heartbeat>,
        ::ntwork::AllocError<()>,
    > {
        ::ntwork::ExWorkItem::new((), irql)
    }
    /// Allocates an item for `heartbeat` and queues it on `queue`, counted in `rundown` until the routine returns; `irql` proves IRQL <= `DISPATCH_LEVEL`. On low resources, or once the rundown has started, the error holds the context.
    pub(crate) fn queue(
        rundown: &'static ::ntwork::Rundown,
        queue: ::ntwork::WorkQueue,
        irql: &impl ::ntwork::irql::AtMostDispatch,
    ) -> ::core::result::Result<(), ::ntwork::QueueError<()>> {
        ::ntwork::__private::ex_queue::<heartbeat>(rundown, (), queue, irql)
    }
}
