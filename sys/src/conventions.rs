//! The one place that decides each declaration's calling convention, per target.
//!
//! Every function and function-pointer type of this crate is declared through
//! [`wdk_abi!`], named by the convention its WDK header declares:
//!
//! | header | x86 (`i686-pc-windows-msvc`) | x86_64, aarch64 |
//! |---|---|---|
//! | `NTAPI`, or nothing (the WDK builds x86 drivers with `/Gz`: stdcall by default) | `"system"` = stdcall, symbol `_Name@N` | `"system"`: the platform's one convention |
//! | `FASTCALL` (first two arguments in ECX, EDX) | `"fastcall"`, symbol `@Name@N` | `"system"` |
//! | `__cdecl` | `"C"`, symbol `_Name` | `"C"`, the same convention as `"system"` |
//!
//! On x86 a wrong convention is a wrong symbol (the import library resolves
//! `@ExAcquireRundownProtection@4`, not `_ExAcquireRundownProtection@4`) and,
//! through a pointer, a corrupted stack; `.ci/drivers` links every declaration
//! against an ntoskrnl import library decorated as the headers declare.
//! On the 64-bit targets `"fastcall"` and `"stdcall"` are not accepted
//! (rustc's `unsupported_calling_conventions`), hence `"system"` there.
//! `windows-sys` declares the `FASTCALL` functions `"system"`: conventions
//! here come from the headers, not from it.

/// Declares an import block or a function-pointer type with the convention
/// its WDK header gives it (see the module's table).
///
/// ```ignore
/// wdk_abi! { FASTCALL extern { pub fn ObfReferenceObject(Object: *mut c_void) -> LONG_PTR; } }
/// wdk_abi! { NTAPI pub type DRIVER_UNLOAD = fn(DriverObject: PDRIVER_OBJECT); }
/// ```
macro_rules! wdk_abi {
    (FASTCALL extern { $($body:tt)* }) => {
        #[cfg(target_arch = "x86")]
        unsafe extern "fastcall" { $($body)* }
        #[cfg(not(target_arch = "x86"))]
        unsafe extern "system" { $($body)* }
    };
    (NTAPI extern { $($body:tt)* }) => {
        unsafe extern "system" { $($body)* }
    };
    (FASTCALL $(#[$meta:meta])* pub type $name:ident = fn($($params:tt)*) $(-> $ret:ty)?;) => {
        $(#[$meta])*
        #[cfg(target_arch = "x86")]
        pub type $name = unsafe extern "fastcall" fn($($params)*) $(-> $ret)?;
        $(#[$meta])*
        #[cfg(not(target_arch = "x86"))]
        pub type $name = unsafe extern "system" fn($($params)*) $(-> $ret)?;
    };
    (NTAPI $(#[$meta:meta])* pub type $name:ident = fn($($params:tt)*) $(-> $ret:ty)?;) => {
        $(#[$meta])*
        pub type $name = unsafe extern "system" fn($($params)*) $(-> $ret)?;
    };
    (CDECL $(#[$meta:meta])* pub type $name:ident = fn($($params:tt)*) $(-> $ret:ty)?;) => {
        $(#[$meta])*
        pub type $name = unsafe extern "C" fn($($params)*) $(-> $ret)?;
    };
    // A nullable function pointer: `Option` of the same.
    (NTAPI $(#[$meta:meta])* pub type $name:ident = Option<fn($($params:tt)*) $(-> $ret:ty)?>;) => {
        $(#[$meta])*
        pub type $name = Option<unsafe extern "system" fn($($params)*) $(-> $ret)?>;
    };
    (CDECL $(#[$meta:meta])* pub type $name:ident = Option<fn($($params:tt)*) $(-> $ret:ty)?>;) => {
        $(#[$meta])*
        pub type $name = Option<unsafe extern "C" fn($($params)*) $(-> $ret)?>;
    };
}
