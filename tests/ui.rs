//! Compile-time behaviour of `#[work_item]`.
//!
//! - `tests/ui/fail`: misuse that must not compile, one error each, with the
//!   pinned `.stderr`. Re-pin with `TRYBUILD=overwrite cargo test --test ui`
//!   and read every changed file.
//! - `tests/ui/pass`: shapes and user crates that must compile (and run).
//! - `tests/ui/edition2021`: an edition 2021 crate (trybuild uses the
//!   package's edition, 2024, for every file), checked with cargo.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}

#[test]
fn edition_2021() {
    let manifest = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/ui/edition2021/Cargo.toml"
    );
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(
            || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target")),
            PathBuf::from,
        )
        .join("tests")
        .join("edition2021");
    let output = Command::new(env!("CARGO"))
        .args([
            "check",
            "--quiet",
            "--offline",
            "--locked",
            "--manifest-path",
            manifest,
        ])
        .env("CARGO_TARGET_DIR", target)
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "the edition 2021 crate does not compile:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
