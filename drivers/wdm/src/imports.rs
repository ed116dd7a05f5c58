//! Every kernel function `ntwork::ffi` declares, referenced from one table
//! that `.ci/drivers` keeps in the image (`/INCLUDE:ntwork_ffi_imports`):
//! so the link resolves each declaration's symbol (on x86, its calling
//! convention's decoration and its argument bytes) against the ntoskrnl
//! import library, including those this driver's paths never call.

#![allow(non_upper_case_globals)]

use ntwork::ffi;

/// The addresses, never called from here.
#[allow(dead_code, reason = "nothing reads the table: linking it is the check")]
pub struct Imports(pub [*const (); 28]);

// SAFETY: read-only function addresses.
unsafe impl Sync for Imports {}

/// The table (`#[used]`: kept even though nothing reads it).
#[used]
#[unsafe(no_mangle)]
pub static ntwork_ffi_imports: Imports = Imports([
    ffi::ExQueueWorkItem as *const (),
    ffi::IoAllocateWorkItem as *const (),
    ffi::IoFreeWorkItem as *const (),
    ffi::IoQueueWorkItem as *const (),
    ffi::IoQueueWorkItemEx as *const (),
    ffi::IoTryQueueWorkItem as *const (),
    ffi::IoSizeofWorkItem as *const (),
    ffi::IoInitializeWorkItem as *const (),
    ffi::IoUninitializeWorkItem as *const (),
    ffi::ExAllocatePool2 as *const (),
    ffi::ExFreePoolWithTag as *const (),
    ffi::ObfReferenceObject as *const (),
    ffi::ObfDereferenceObject as *const (),
    ffi::IoAllocateDriverObjectExtension as *const (),
    ffi::IoGetDriverObjectExtension as *const (),
    ffi::IoCreateDevice as *const (),
    ffi::IoDeleteDevice as *const (),
    ffi::ExInitializeRundownProtection as *const (),
    ffi::ExReInitializeRundownProtection as *const (),
    ffi::ExAcquireRundownProtection as *const (),
    ffi::ExReleaseRundownProtection as *const (),
    ffi::ExWaitForRundownProtectionRelease as *const (),
    ffi::ExRundownCompleted as *const (),
    ffi::KeEnterCriticalRegion as *const (),
    ffi::KeLeaveCriticalRegion as *const (),
    ffi::ExAcquireSpinLockExclusive as *const (),
    ffi::ExReleaseSpinLockExclusive as *const (),
    ffi::KeDelayExecutionThread as *const (),
]);
