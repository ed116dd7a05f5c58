//! `ExAllocatePool2` and `ExFreePoolWithTag` as Windows 10 2004 and later
//! have them (decompiled ntoskrnl `ExAllocateHeapPool` / `ExFreeHeapPool`,
//! the DDI page): the pool types, the tag, zeroing, raising on failure, and
//! the bug checks of a bad free.

use core::ffi::c_void;

use ntwork::ffi;
use ntwork_host::pool::{
    POOL_FLAG_NON_PAGED_EXECUTE, POOL_FLAG_PAGED, POOL_FLAG_RAISE_ON_FAILURE,
    POOL_FLAG_UNINITIALIZED,
};
use ntwork_host::{BugCheck, Executive, FailurePlan, FaultSite, bugcheck};

const TAG: u32 = u32::from_le_bytes(*b"test");

fn allocate(flags: u64, size: usize, tag: u32) -> *mut u8 {
    // SAFETY: no preconditions.
    unsafe { ffi::ExAllocatePool2(flags, size, tag) }.cast()
}

fn free(block: *mut u8) {
    // SAFETY: the tests free what they allocated, or misuse on purpose.
    unsafe { ffi::ExFreePoolWithTag(block.cast::<c_void>(), TAG) };
}

#[test]
fn each_pool_type_flag_allocates_zeroed_unless_uninitialized() {
    let exec = Executive::manual();
    for flags in [
        ffi::POOL_FLAG_NON_PAGED,
        POOL_FLAG_NON_PAGED_EXECUTE,
        POOL_FLAG_PAGED,
    ] {
        let block = allocate(flags, 64, TAG);
        assert!(!block.is_null(), "flags {flags:#x} allocate");
        assert_eq!(block as usize % 16, 0);
        // SAFETY: 64 bytes just allocated.
        let bytes = unsafe { core::slice::from_raw_parts(block, 64) };
        assert!(bytes.iter().all(|&b| b == 0), "zeroed");
        free(block);
    }
    let block = allocate(ffi::POOL_FLAG_NON_PAGED | POOL_FLAG_UNINITIALIZED, 64, TAG);
    // SAFETY: 64 bytes just allocated.
    let bytes = unsafe { core::slice::from_raw_parts(block, 64) };
    assert!(
        bytes.iter().any(|&b| b != 0),
        "not zeroed: what code that assumed zeros reads"
    );
    free(block);
    assert_eq!((exec.pool_outstanding(), exec.bug_check()), (0, None));
}

#[test]
fn a_zero_tag_or_not_exactly_one_pool_type_fails() {
    let exec = Executive::manual();
    assert!(allocate(ffi::POOL_FLAG_NON_PAGED, 8, 0).is_null(), "Tag 0");
    assert!(allocate(0, 8, TAG).is_null(), "no pool type");
    assert!(allocate(ffi::POOL_FLAG_NON_PAGED | POOL_FLAG_PAGED, 8, TAG).is_null());
    assert_eq!((exec.pool_outstanding(), exec.bug_check()), (0, None));
}

/// Windows raises STATUS_INSUFFICIENT_RESOURCES; a Rust driver has no
/// handler for it, so the host stops with its labelled diagnostic.
#[test]
fn raise_on_failure_raises_instead_of_returning_null() {
    let exec = Executive::manual();
    exec.fail_allocations(FaultSite::Pool, FailurePlan::Next(1));
    let block = allocate(
        ffi::POOL_FLAG_NON_PAGED | POOL_FLAG_RAISE_ON_FAILURE,
        8,
        TAG,
    );
    assert!(block.is_null());
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::HOST_EXCEPTION_RAISED,
            [
                ffi::STATUS_INSUFFICIENT_RESOURCES as u32 as usize,
                ffi::ExAllocatePool2 as *const () as usize,
                0,
                0
            ]
        )
    );
    let exec = Executive::manual();
    assert!(allocate(ffi::POOL_FLAG_NON_PAGED | POOL_FLAG_RAISE_ON_FAILURE, 8, 0).is_null());
    assert_eq!(
        exec.expect_bug_check().code,
        bugcheck::HOST_EXCEPTION_RAISED,
        "Tag 0 raises too"
    );
}

#[test]
fn paged_pool_above_apc_level_is_verifiers_0xc4_0x01_or_a_host_diagnostic() {
    let exec = Executive::manual();
    exec.set_driver_verifier(true);
    let block = ntwork_host::at_dispatch_level(|| allocate(POOL_FLAG_PAGED, 24, TAG));
    assert!(block.is_null());
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::DRIVER_VERIFIER_DETECTED_VIOLATION,
            [0x01, usize::from(ffi::DISPATCH_LEVEL), 1, 24]
        ),
        "(IRQL, PagedPool, size)"
    );
    let exec = Executive::manual();
    assert!(ntwork_host::at_dispatch_level(|| allocate(POOL_FLAG_PAGED, 24, TAG)).is_null());
    let stop = exec.expect_bug_check();
    assert_eq!(stop.code, bugcheck::HOST_IRQL_TOO_HIGH);
    assert_eq!(stop.parameters[3], usize::from(ffi::APC_LEVEL));
    // Nonpaged pool at DISPATCH_LEVEL is fine.
    let exec = Executive::manual();
    let block = ntwork_host::at_dispatch_level(|| allocate(ffi::POOL_FLAG_NON_PAGED, 24, TAG));
    assert!(!block.is_null());
    free(block);
    assert_eq!(exec.bug_check(), None);
}

/// `ExFreeHeapPool`: a block freed twice is still the heap's, which finds
/// the corruption (0x13A); an address no heap owns is 0xC2 (0, 0, address, 0).
#[test]
fn a_double_free_and_a_free_of_an_unknown_address_are_bug_checks() {
    let exec = Executive::manual();
    let block = allocate(ffi::POOL_FLAG_NON_PAGED, 32, TAG);
    free(block);
    assert_eq!(exec.bug_check(), None);
    free(block);
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::KERNEL_MODE_HEAP_CORRUPTION,
            [0xF, 0, block as usize, 0]
        )
    );
    assert!(!exec.expect_bug_check().is_host_diagnostic());

    let exec = Executive::manual();
    let mut local = 0u64;
    free((&raw mut local).cast());
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::BAD_POOL_CALLER,
            [0, 0, (&raw mut local) as usize, 0]
        )
    );
}
