//! What the attribute accepts and rejects, and what it emits after an error.

use super::{error_count, expand_str};

#[test]
fn valid_shapes_expand_without_errors() {
    for (args, item) in [
        ("", "fn a(x: Vec<u8>) {}"),
        ("ex", "fn a(x: &u8) {}"),
        ("", "pub(crate) fn a() {}"),
        ("", "fn a(x: &'static str) -> () {}"),
        ("device", "fn a(d: &DeviceObject, x: u8) {}"),
        ("", "fn a(d: &ntwork::DeviceObject) {}"),
        (
            "crate = ::x::y",
            "fn a(d: &'_ DeviceObject, x: u8, item: IoWorkItem<a>) {}",
        ),
        ("", "fn a(f: Box<dyn Fn(&u8) + Send>, ) {}"),
        ("", "fn a(f: fn(&u8)) {}"),
    ] {
        let output = expand_str(args, item);
        assert_eq!(error_count(&output), 0, "{args} / {item}: {output}");
        syn::parse_str::<syn::File>(&output).expect("items");
    }
}

#[test]
fn each_misuse_is_one_error() {
    for (args, item) in [
        ("", "async fn a(x: u8) {}"),
        ("", "const fn a(x: u8) {}"),
        ("", "unsafe fn a(x: u8) {}"),
        ("", "extern \"C\" fn a(x: u8) {}"),
        ("", "fn a<T>(x: T) {}"),
        ("", "fn a(x: u8) where u8: Copy {}"),
        ("", "fn a(&self) {}"),
        ("", "fn a(x: u8, ...) {}"),
        ("", "fn a(x: u8) -> u8 { x }"),
        ("bogus", "fn a(x: u8) {}"),
        ("ex, ex", "fn a(x: u8) {}"),
        ("crate =", "fn a(x: u8) {}"),
        ("crate", "fn a(x: u8) {}"),
        ("crate = ::a, crate = ::b", "fn a(x: u8) {}"),
        (",", "fn a(x: u8) {}"),
        ("ex = 1", "fn a(x: u8) {}"),
        ("", "fn a(x: u8, y: u8) {}"),
        ("", "fn a((x, y): (u8, u8)) {}"),
        ("", "fn a(x: impl Send) {}"),
        ("", "fn a(x: &mut u8) {}"),
        ("", "fn a(x: &'a u8) {}"),
        ("", "fn a(x: Cow<'_, str>) {}"),
        ("", "fn a(x: &&u8) {}"),
        ("", "fn a(x: u8, d: &DeviceObject) {}"),
        ("", "fn a(d: DeviceObject, x: u8) {}"),
        ("", "fn a(d: &mut DeviceObject, x: u8) {}"),
        ("", "fn a(d: &DeviceObject, x: &u8) {}"),
        ("", "fn a(d: &DeviceObject, i: IoWorkItem<a>, x: u8) {}"),
        ("", "fn a(d: &DeviceObject, x: u8, i: IoWorkItem<b>) {}"),
        ("ex", "fn a(d: &DeviceObject, x: u8) {}"),
        ("device", "fn a(x: u8) {}"),
        ("", "struct A;"),
        ("", "fn a(x: u8);"),
    ] {
        let output = expand_str(args, item);
        assert_eq!(error_count(&output), 1, "{args} / {item}: {output}");
    }
}

/// The shape errors of a driver-bound routine name the driver object, and
/// list the shapes of its role.
#[test]
fn shape_errors_name_the_role_s_object() {
    for (item, says) in [
        (
            "fn a(x: u8, d: &DriverObject) {}",
            "the driver object comes first in a driver-bound routine",
        ),
        (
            "fn a(d: &mut DriverObject, x: u8) {}",
            "the driver parameter must be `&DriverObject`",
        ),
        (
            "fn a(d: &DriverObject, x: u8, y: u8) {}",
            "`fn name(driver: &DriverObject, context: C, item: RunningIoWorkItem<'_, name>)`",
        ),
        (
            "fn a(d: &DeviceObject, x: u8, y: u8) {}",
            "`fn name(device: &DeviceObject, context: C, item: IoWorkItem<name>)`",
        ),
        (
            "fn a(x: u8, y: u8) {}",
            "the Ex shapes are `fn name(context: C)`",
        ),
    ] {
        let output = expand_str("", item);
        assert_eq!(error_count(&output), 1, "{item}: {output}");
        assert!(output.contains(says), "{item}: {output}");
    }
}

#[test]
fn errors_are_collected() {
    let output = expand_str(
        "ex, bogus",
        "async unsafe fn a<T>(x: u8, y: u8) -> u8 { 0 }",
    );
    assert_eq!(error_count(&output), 6, "{output}");
}

#[test]
fn stand_ins_follow_errors() {
    // The function and a stand-in type stay, so other code keeps compiling.
    let output = expand_str("", "async fn a(x: u8) {}");
    assert!(output.contains("async fn a"));
    assert!(output.contains("struct a"));
    assert!(output.contains("loop { }"));
    assert!(!output.contains("__private :: ex_queue"));
    // A method gets no stand-ins: they could not stand inside an `impl`.
    let output = expand_str("", "fn a(&self) {}");
    assert!(!output.contains("struct"));
}

/// A stand-in's context is the user's type wherever that type is valid, and
/// `()` (trait impls) or any `C` (helpers) where it is not.
#[test]
fn stand_ins_keep_the_context_type() {
    for (args, item, has) in [
        (
            "",
            "async fn a(x: Vec<u8>) {}",
            "type Context = Vec < u8 > ;",
        ),
        ("", "fn a(x: u8, y: u8) {}", "type Context = u8 ;"),
        ("", "fn a(x: &'a u8) {}", "type Context = u8 ;"),
        // The fix the error names: `x: u32`; or an Ex routine borrowing it.
        (
            "device",
            "fn a(d: &DeviceObject, x: &u32) {}",
            "type Context = u32 ;",
        ),
        (
            "device",
            "fn a(d: &DeviceObject, x: &u32) {}",
            "ExRoutineRef for a",
        ),
        // Not `Send`: kept everywhere; the runtime's `WorkContext` is the
        // one error, at the user's type.
        ("", "fn a(x: *mut u8) {}", "type Context = * mut u8 ;"),
        ("", "fn a(x: *mut u8) {}", "context : * mut u8"),
        // An error in the type itself: no generated item names it.
        ("", "fn a(x: Cow<'a, str>) {}", "type Context = () ;"),
        ("", "fn a<T>(x: T) {}", "fn new < C >"),
    ] {
        let output = expand_str(args, item);
        assert!(output.contains(has), "{args} / {item}: {output}");
    }
    // Only the borrowed Io context has the Ex reading.
    let output = expand_str("", "async fn a(d: &DeviceObject, x: u32) {}");
    assert!(!output.contains("ExRoutine"), "{output}");
}

/// A stated Io role whose object is written by value with the other
/// object's type: reported, never a panic (the fuzzer found one).
#[test]
fn a_stated_role_with_the_other_object_by_value_is_reported() {
    for (args, item) in [
        ("driver", "fn a(d: DeviceObject, x: u8) {}"),
        ("device", "fn a(d: DriverObject, x: u8) {}"),
        ("driver", "fn a(x: u8, d: (DeviceObject)) {}"),
    ] {
        let output = expand_str(args, item);
        assert!(
            output.contains("contradicts the signature"),
            "{args} / {item}: {output}"
        );
    }
}
