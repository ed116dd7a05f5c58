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

/// Fail cases whose pinned output has more than one error, with the count.
/// Every other case must give exactly one: a mistake is one error, so a
/// cascade cannot come back unnoticed.
const SEVERAL: &[(&str, usize, &str)] = &[
    (
        "several_errors",
        4,
        "four independent mistakes, each reported at its own token",
    ),
    // One mistake, several errors, which the attribute cannot prevent (it
    // sees one function, not its neighbours): pinned so a change shows up as
    // a changed count (docs/checks.md, "One mistake that still gives several
    // errors").
    (
        "same_name_twice",
        9,
        "two routines of one name: every generated item conflicts",
    ),
    (
        "name_clash_with_struct",
        3,
        "a routine named as an existing type: the routine's type conflicts",
    ),
];

#[test]
fn each_fail_case_is_one_error() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ui/fail");
    let mut wrong = Vec::new();
    let mut cases = 0;
    for entry in std::fs::read_dir(dir).expect("tests/ui/fail") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_none_or(|e| e != "stderr") {
            continue;
        }
        cases += 1;
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).expect("readable .stderr");
        let errors = text
            .lines()
            .filter(|line| line.starts_with("error:") || line.starts_with("error["))
            .count();
        let expected = SEVERAL
            .iter()
            .find(|(case, _, _)| *case == name)
            .map_or(1, |&(_, count, _)| count);
        if errors != expected {
            wrong.push(format!("{name}: {errors} errors, expected {expected}"));
        }
    }
    assert!(cases >= 40, "found only {cases} fail cases in {dir}");
    assert!(
        wrong.is_empty(),
        "error counts changed:\n{}",
        wrong.join("\n")
    );
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
