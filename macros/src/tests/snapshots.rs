//! Expansion snapshots: `tests/expand/<case>.rs` against
//! `tests/expand/<case>.expanded.rs`, as rustc sees the expansion.

use std::path::{Path, PathBuf};

use proc_macro2::{Delimiter, TokenStream, TokenTree};

use super::with_items_applied;
use crate::expand;

const EXPAND_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/expand");

/// Splits a snapshot input, `#[work_item(args)] fn ...`, into the attribute's
/// arguments and the item.
fn split_input(source: &str) -> (TokenStream, TokenStream) {
    let tokens: Vec<TokenTree> = source
        .parse::<TokenStream>()
        .expect("input tokenizes")
        .into_iter()
        .collect();
    let (TokenTree::Punct(pound), TokenTree::Group(attr)) = (&tokens[0], &tokens[1]) else {
        panic!("a snapshot input starts with `#[work_item]`");
    };
    assert_eq!(pound.as_char(), '#');
    let mut inner = attr.stream().into_iter();
    assert!(matches!(inner.next(), Some(TokenTree::Ident(ident)) if ident == "work_item"));
    let args = match inner.next() {
        Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Parenthesis => {
            group.stream()
        }
        None => TokenStream::new(),
        Some(other) => panic!("unexpected `{other}` in the attribute"),
    };
    (args, tokens[2..].iter().cloned().collect())
}

fn pretty(tokens: TokenStream) -> String {
    let file: syn::File = syn::parse2(tokens).expect("the expansion is a list of items");
    prettyplease::unparse(&with_items_applied(file).expect("with_items carries items"))
}

fn snapshot_cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(EXPAND_DIR)
        .expect("tests/expand exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| {
            let name = path
                .file_name()
                .and_then(|name| name.to_str())
                .unwrap_or_default();
            name.ends_with(".rs") && !name.ends_with(".expanded.rs")
        })
        .collect();
    cases.sort();
    cases
}

#[test]
fn expansion_snapshots() {
    let bless = std::env::var_os("NTWORK_BLESS").is_some();
    let cases = snapshot_cases();
    assert!(
        cases.len() >= 6,
        "expected the snapshot cases in {EXPAND_DIR}"
    );
    let mut failures = Vec::new();
    for input in &cases {
        let source = std::fs::read_to_string(input).expect("readable input");
        let (args, item) = split_input(&source);
        let actual = pretty(expand(args, item));
        let expected_path = input.with_extension("expanded.rs");
        if bless {
            std::fs::write(&expected_path, &actual).expect("writable snapshot");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != actual {
            failures.push(format!("{}:\n{actual}", display(&expected_path)));
        }
    }
    assert!(
        failures.is_empty(),
        "expansions differ from the snapshots (NTWORK_BLESS=1 to regenerate):\n\n{}",
        failures.join("\n\n")
    );
}

fn display(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}
