//! The framework's function table, per KMDF version: its symbol, its size,
//! the indices of the functions ntwork calls and the versions that have them.
//!
//! The version is a Cargo feature of `ntwork-sys` (forwarded by `ntwork`):
//! `kmdf-1-15`, `kmdf-1-31`, or none for 1.33. wdk-build reads the driver's
//! version from `[package.metadata.wdk.driver-model]`
//! (`target-kmdf-version-minor`) but exports no cfg for it to dependencies
//! (its only exported cfg is `driver_model__driver_type`), so a feature is
//! what a driver can set: the same number, in its `ntwork` dependency line.

#[cfg(any(
    all(feature = "kmdf-1-15", feature = "kmdf-1-31"),
    all(feature = "kmdf-1-15", feature = "kmdf-1-33"),
    all(feature = "kmdf-1-31", feature = "kmdf-1-33"),
))]
compile_error!(
    "ntwork-sys: more than one KMDF version feature is enabled (kmdf-1-15, kmdf-1-31, kmdf-1-33); \
     a driver binds one framework table: enable exactly one, in the driver's own dependency on ntwork"
);

wdk_abi! { NTAPI
    /// `WDFFUNC`: an entry of the function table (wdf.h: `typedef VOID
    /// (*WDFFUNC)(VOID)`, no convention: stdcall under `/Gz`); each entry is
    /// cast to its own `PFN_` type before the call.
    pub type WDFFUNC = Option<fn()>;
}

/// The table of one KMDF version: the version, `WdfFunctionTableNumEntries`
/// of its `wdffuncenum.h`, and `WdfFunctions`, which its `wdf.h` defines as
/// `WdfFunctions_{major:02}0{minor:02}` (the symbol its stub library has).
macro_rules! kmdf_version {
    ($when:meta, $minor:literal, $symbol:literal, $entries:literal) => {
        /// `(KMDF_VERSION_MAJOR, KMDF_VERSION_MINOR)`: the framework version
        /// this driver is built for.
        #[cfg($when)]
        pub const KMDF_VERSION: (u32, u32) = (1, $minor);
        /// `WdfFunctionTableNumEntries` of the targeted version's
        /// `wdffuncenum.h`: the entries its table has.
        #[cfg($when)]
        pub const WdfFunctionTableNumEntries: usize = $entries;
        #[cfg($when)]
        unsafe extern "C" {
            /// `WdfFunctions`: the framework's function table, filled in when
            /// it binds the driver.
            #[link_name = $symbol]
            pub static mut WdfFunctions: *const WDFFUNC;
        }
    };
}

kmdf_version!(feature = "kmdf-1-15", 15, "WdfFunctions_01015", 444);
kmdf_version!(
    all(feature = "kmdf-1-31", not(feature = "kmdf-1-15")),
    31,
    "WdfFunctions_01031",
    458
);
kmdf_version!(
    not(any(feature = "kmdf-1-15", feature = "kmdf-1-31")),
    33,
    "WdfFunctions_01033",
    458
);

/// Whether table entry `index`, first in KMDF 1.`since_minor` (its DDI page's
/// "Minimum KMDF version"), is in the targeted version's table.
const fn available(index: usize, since_minor: u32) -> bool {
    index < WdfFunctionTableNumEntries && since_minor <= KMDF_VERSION.1
}

/// The index of every table function ntwork calls, from `wdffuncenum.h`
/// (the same in 1.15, 1.31 and 1.33), with the first KMDF version that has
/// it: a version without one is a compile error here.
macro_rules! table_indices {
    ($($index:ident = $value:literal, since minor $since:literal;)*) => {$(
        #[doc = concat!("`", stringify!($index), "`.")]
        pub const $index: usize = $value;
        const _: () = assert!(
            available($index, $since),
            concat!(
                "`", stringify!($index), "`: not in the function table of the KMDF ",
                "version this driver targets (ntwork-sys features kmdf-1-15, kmdf-1-31; default 1.33)"
            )
        );
    )*};
}

// `since minor N`: first in KMDF 1.N. Every one is 1.0 on its DDI page
// (learn.microsoft.com, "Requirements": "Minimum KMDF version 1.0").
table_indices! {
    WdfObjectGetTypedContextWorkerTableIndex = 202, since minor 0;
    WdfObjectAllocateContextTableIndex = 203, since minor 0;
    WdfObjectReferenceActualTableIndex = 205, since minor 0;
    WdfObjectDereferenceActualTableIndex = 206, since minor 0;
    WdfObjectDeleteTableIndex = 208, since minor 0;
    WdfWorkItemCreateTableIndex = 379, since minor 0;
    WdfWorkItemEnqueueTableIndex = 380, since minor 0;
    WdfWorkItemGetParentObjectTableIndex = 381, since minor 0;
    WdfWorkItemFlushTableIndex = 382, since minor 0;
}

/// The table's entry `INDEX` as the function type `F`, as the headers'
/// inline wrappers fetch it (`((PFN_WDFXXX) WdfFunctions[WdfXxxTableIndex])`).
///
/// An `INDEX` the targeted KMDF version's table does not have is a compile
/// error where the call is built. The enum only grows, so below
/// [`WdfFunctionTableNumEntries`] an index names the same function in every
/// later version, and a driver for version V may call every function whose
/// index is below V's count.
///
/// # Safety
///
/// The framework has bound the driver (the table is filled in), and `F` is
/// the `PFN_` type of entry `INDEX`.
pub unsafe fn table_function<F: Copy, const INDEX: usize>() -> F {
    const {
        assert!(size_of::<F>() == size_of::<WDFFUNC>());
        assert!(
            INDEX < WdfFunctionTableNumEntries,
            "this WDF function is not in the function table of the KMDF version this driver \
             targets (ntwork-sys features kmdf-1-15, kmdf-1-31; default 1.33)"
        );
    };
    // SAFETY: the framework wrote `WdfFunctions` when it bound the driver
    // (this fn's contract), before any of the driver's code ran, and nothing
    // writes it after; this reads the pointer by value.
    let table = unsafe { WdfFunctions };
    // SAFETY: the bound table has `WdfFunctionTableNumEntries` entries, more
    // than `INDEX` (checked above), so `table + INDEX` stays inside it.
    let entry = unsafe { table.add(INDEX) };
    // SAFETY: `entry` is inside the table the framework filled in, so it is
    // aligned and initialized; the table is never written after binding.
    let function = unsafe { *entry };
    // SAFETY: entry `INDEX` holds a function of type `F` (this fn's contract),
    // and `F` has the size of `WDFFUNC` (checked above).
    unsafe { core::mem::transmute_copy::<WDFFUNC, F>(&function) }
}
