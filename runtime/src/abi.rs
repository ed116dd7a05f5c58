//! Routines in the type each binding declares.
//!
//! A Rust fn-pointer type carries its ABI, and bindings disagree: `ntwork::ffi`
//! and `windows-sys` say `extern "system"`; `wdk-sys` (bindgen) says
//! `extern "C"` on x86_64 and aarch64. On x86 bindgen spells a stdcall
//! callback `extern "stdcall"`, a type apart from `extern "system"` though the
//! convention is the same. An `extern "system"` routine is not accepted where
//! `wdk-sys` wants its type (E0308), and no `as` cast converts one to the other
//! (E0605). So ntwork *emits* each trampoline in the ABI the binding declares,
//! and the generated `name::routine::<T>()` picks it by the type asked for
//! ([`RoutineType`]):
//!
//! ```
//! # extern crate ntwork_host as _; // the kernel's exports, on the host
//! use ntwork::work_item;
//!
//! #[work_item]
//! fn flush(batch: Vec<u8>) {
//!     let _ = batch;
//! }
//!
//! // bindgen's shape (wdk-sys): `Option<unsafe extern "C" fn(PVOID)>` on x86_64.
//! # #[cfg(not(target_arch = "x86"))]
//! let _: Option<unsafe extern "C" fn(*mut core::ffi::c_void)> = flush::routine();
//! // ntwork's own.
//! let _: ntwork::ffi::PWORKER_THREAD_ROUTINE = flush::routine();
//! // windows-sys's (parameterless, see below).
//! let _: Option<unsafe extern "system" fn()> = flush::routine();
//! ```
//!
//! Object and item pointers are generic (`*mut P`), since every binding has
//! its own nominal `_DEVICE_OBJECT` / `_IO_WORKITEM`: the trampolines only
//! pass them on.
//!
//! On x86 there is no `extern "C"` shape: the kernel calls every routine
//! stdcall (the WDK builds with `/Gz`; bindgen, given the headers as clang
//! parses them without `-mrtd`, would say cdecl for the routines that name no
//! convention, which is not how they are called), so a cdecl pointer type is a
//! compile error rather than a routine that leaves its arguments on the stack.
//! wdk-sys itself builds for x86_64 and aarch64 only (wdk-build's
//! `CpuArchitecture` has `Amd64` and `Arm64`).
//!
//! `windows-sys` declares the routine pointers without parameters (a known
//! metadata defect). Its shape is served by converting the routine's address
//! inside ntwork: the kernel calls through the address with the real
//! parameters, which is the routine's real signature.

use core::ffi::c_void;

#[cfg(not(target_arch = "x86"))]
use crate::ex::raw::ex_raw_c;
use crate::io::raw::{io_classic, io_classic_system, io_raw_ex_system};
#[cfg(not(target_arch = "x86"))]
use crate::io::raw::{io_classic_c, io_raw_ex_c};
use crate::objects::DeviceObject;
use crate::{ExRoutine, IoRoutineWithoutItem};

/// A routine pointer type of some binding that can name routine `R`.
///
/// Implemented for `ntwork::ffi`'s types, bindgen's (`wdk-sys`) and
/// `windows-sys`'s, for the roles each pointer type can carry: Ex routines
/// (`WORKER_THREAD_ROUTINE`), Io routines without their item
/// (`IO_WORKITEM_ROUTINE_EX`, the raw protocol of
/// [`raw::io_routine_ex`](crate::raw::io_routine_ex)) and device routines
/// (`IO_WORKITEM_ROUTINE`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a routine pointer type that can carry `{R}`",
    label = "not a binding's type for this routine",
    note = "Ex routines fit `PWORKER_THREAD_ROUTINE`, Io routines without their item `PIO_WORKITEM_ROUTINE_EX`, device routines also `PIO_WORKITEM_ROUTINE`; in ntwork::ffi's, wdk-sys's or windows-sys's shape"
)]
pub trait RoutineType<R>: Sized {
    /// The routine as this type.
    fn of() -> Self;
}

/// The ABI bindgen declares callbacks with on x86_64 and aarch64: `"C"`.
macro_rules! binding_abi {
    ($($item:item)*) => {
        $(
            #[cfg(not(target_arch = "x86"))]
            $item
        )*
    };
}

// ntwork::ffi's own types (extern "system").
impl<R: ExRoutine> RoutineType<R> for Option<unsafe extern "system" fn(*mut c_void)> {
    fn of() -> Self {
        Some(crate::ex::raw::ex_raw::<R>)
    }
}

impl<R: IoRoutineWithoutItem, P> RoutineType<R>
    for Option<unsafe extern "system" fn(*mut c_void, *mut c_void, *mut P)>
{
    fn of() -> Self {
        Some(io_raw_ex_system::<R, P>)
    }
}

impl<R: IoRoutineWithoutItem<Object = DeviceObject>, D> RoutineType<R>
    for Option<unsafe extern "system" fn(*mut D, *mut c_void)>
{
    fn of() -> Self {
        Some(io_classic_system::<R, D>)
    }
}

// windows-sys: parameterless `extern "system"`.
impl<R: ExRoutine> RoutineType<R> for Option<unsafe extern "system" fn()> {
    fn of() -> Self {
        let routine: unsafe extern "system" fn(*mut c_void) = crate::ex::raw::ex_raw::<R>;
        // SAFETY: only the pointer's type changes (same size, same ABI); the
        // kernel calls it with its real parameter, which is what `routine`
        // takes. The pointer is never called through this type by ntwork.
        Some(unsafe {
            core::mem::transmute::<
                unsafe extern "system" fn(*mut c_void),
                unsafe extern "system" fn(),
            >(routine)
        })
    }
}

/// windows-sys's `PIO_WORKITEM_ROUTINE_EX` (parameterless, so the same type as
/// its `PIO_WORKITEM_ROUTINE`; hence a function of its own): the raw-protocol
/// routine of [`raw::io_routine_ex`](crate::raw::io_routine_ex), with its contract.
pub fn windows_sys_io_routine_ex<R: IoRoutineWithoutItem>() -> Option<unsafe extern "system" fn()> {
    let routine: crate::ffi::IO_WORKITEM_ROUTINE_EX = crate::io::raw::io_raw_ex::<R>;
    // SAFETY: only the pointer's type changes (same size, same ABI); the
    // kernel calls it with the three parameters it really takes.
    Some(unsafe {
        core::mem::transmute::<crate::ffi::IO_WORKITEM_ROUTINE_EX, unsafe extern "system" fn()>(
            routine,
        )
    })
}

/// windows-sys's `PIO_WORKITEM_ROUTINE` for a device routine (the classic
/// `IoQueueWorkItem` routine), with the contract of the generated `ROUTINE`.
pub fn windows_sys_io_routine<R: IoRoutineWithoutItem<Object = DeviceObject>>()
-> Option<unsafe extern "system" fn()> {
    let routine: crate::ffi::IO_WORKITEM_ROUTINE = io_classic::<R>;
    // SAFETY: only the pointer's type changes (same size, same ABI); the
    // kernel calls it with the two parameters it really takes.
    Some(unsafe {
        core::mem::transmute::<crate::ffi::IO_WORKITEM_ROUTINE, unsafe extern "system" fn()>(
            routine,
        )
    })
}

binding_abi! {
    // bindgen (wdk-sys) on x86_64 / aarch64: extern "C".
    impl<R: ExRoutine> RoutineType<R> for Option<unsafe extern "C" fn(*mut c_void)> {
        fn of() -> Self {
            Some(ex_raw_c::<R>)
        }
    }

    impl<R: IoRoutineWithoutItem, P> RoutineType<R>
        for Option<unsafe extern "C" fn(*mut c_void, *mut c_void, *mut P)>
    {
        fn of() -> Self {
            Some(io_raw_ex_c::<R, P>)
        }
    }

    impl<R: IoRoutineWithoutItem<Object = DeviceObject>, D> RoutineType<R> for Option<unsafe extern "C" fn(*mut D, *mut c_void)> {
        fn of() -> Self {
            Some(io_classic_c::<R, D>)
        }
    }
}

// bindgen on x86: stdcall, spelled `extern "stdcall"`.
#[cfg(target_arch = "x86")]
impl<R: ExRoutine> RoutineType<R> for Option<unsafe extern "stdcall" fn(*mut c_void)> {
    fn of() -> Self {
        Some(crate::ex::raw::ex_raw_stdcall::<R>)
    }
}

#[cfg(target_arch = "x86")]
impl<R: IoRoutineWithoutItem, P> RoutineType<R>
    for Option<unsafe extern "stdcall" fn(*mut c_void, *mut c_void, *mut P)>
{
    fn of() -> Self {
        Some(crate::io::raw::io_raw_ex_stdcall::<R, P>)
    }
}

#[cfg(target_arch = "x86")]
impl<R: IoRoutineWithoutItem<Object = DeviceObject>, D> RoutineType<R>
    for Option<unsafe extern "stdcall" fn(*mut D, *mut c_void)>
{
    fn of() -> Self {
        Some(crate::io::raw::io_classic_stdcall::<R, D>)
    }
}
