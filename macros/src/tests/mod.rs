//! Unit tests of the macro, on `proc_macro2` tokens.
//!
//! - `snapshots`: `tests/expand/<case>.rs` (an attribute and a function)
//!   against `tests/expand/<case>.expanded.rs` (the expansion, formatted by
//!   prettyplease). Regenerate them with
//!   `NTWORK_BLESS=1 cargo test -p ntwork-macros` and review the diff.
//! - `errors`: valid shapes expand without errors, each misuse is one error,
//!   independent errors are all collected, stand-ins follow errors.
//! - `docs`: the generated docs name only what is generated.
//! - `fuzz`: a grammar-based fuzzer: `expand` never panics, and for every
//!   item rustc could hand it returns items or `compile_error!`s.
//!   `NTWORK_FUZZ_CASES=1000000 cargo test -p ntwork-macros --release fuzz
//!   -- --nocapture` runs a long campaign.
//!
//! What an expansion costs is measured by `benches/compile-time/run.sh`.

mod docs;
mod errors;
mod fuzz;
mod snapshots;

use crate::expand;

/// The expansion as rustc sees it once `__private::with_items` has run: the
/// items in its arguments follow the struct it is on.
fn with_items_applied(file: syn::File) -> syn::Result<syn::File> {
    let mut items = Vec::new();
    for mut item in file.items {
        let mut carried = Vec::new();
        if let syn::Item::Struct(item) = &mut item {
            let mut attrs = Vec::new();
            for attr in item.attrs.drain(..) {
                let is_carrier = attr
                    .path()
                    .segments
                    .last()
                    .is_some_and(|segment| segment.ident == "with_items");
                if is_carrier {
                    let list = attr.meta.require_list()?;
                    carried = syn::parse2::<syn::File>(list.tokens.clone())?.items;
                } else {
                    attrs.push(attr);
                }
            }
            item.attrs = attrs;
        }
        items.push(item);
        items.extend(carried);
    }
    Ok(syn::File { items, ..file })
}

fn expand_str(args: &str, item: &str) -> String {
    expand(
        args.parse().expect("args tokenize"),
        item.parse().expect("item tokenizes"),
    )
    .to_string()
}

fn error_count(output: &str) -> usize {
    output.matches("compile_error").count()
}
