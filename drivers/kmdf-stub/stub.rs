//! A stand-in for the KMDF stub library (`WdfDriverEntry.lib` of the
//! targeted version), which every KMDF driver links: it defines the
//! framework's function table pointer and the driver globals, which the
//! framework fills in when it binds the driver. The real library also has
//! `FxDriverEntry` (the image's entry point: it calls `WdfVersionBind`,
//! imported from WdfLdr.sys, then the driver's `DriverEntry`) and, from 1.25,
//! reads the driver's `WdfMinimumVersionRequired`; this one has neither, so
//! the image's entry is `DriverEntry` and it imports from ntoskrnl.exe only.
//!
//! Compiled to an object by `.ci/drivers` with `rustc --crate-type lib
//! --emit obj --cfg kmdf_minor="NN"`.

#![no_std]
#![allow(non_upper_case_globals)]

use core::ffi::c_void;

/// `PWDF_DRIVER_GLOBALS WdfDriverGlobals`.
#[unsafe(no_mangle)]
pub static mut WdfDriverGlobals: *mut c_void = core::ptr::null_mut();

/// `const WDFFUNC *WdfFunctions_01015`.
#[cfg(kmdf_minor = "15")]
#[unsafe(no_mangle)]
pub static mut WdfFunctions_01015: *const c_void = core::ptr::null();

/// `const WDFFUNC *WdfFunctions_01031`.
#[cfg(kmdf_minor = "31")]
#[unsafe(no_mangle)]
pub static mut WdfFunctions_01031: *const c_void = core::ptr::null();

/// `const WDFFUNC *WdfFunctions_01033`.
#[cfg(kmdf_minor = "33")]
#[unsafe(no_mangle)]
pub static mut WdfFunctions_01033: *const c_void = core::ptr::null();
