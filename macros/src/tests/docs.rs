//! The generated docs promise only what is generated.

use super::with_items_applied;
use crate::expand;

/// The doc comments' text, item by item.
fn docs(attrs: &[syn::Attribute]) -> String {
    attrs
        .iter()
        .filter_map(|attr| match &attr.meta {
            syn::Meta::NameValue(doc) if doc.path.is_ident("doc") => match &doc.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(text),
                    ..
                }) => Some(text.value()),
                _ => None,
            },
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The generated docs promise only what is generated: the routine type's
/// doc lists exactly its visible inherent items, and no doc names a
/// `ROUTINE` where the role has none.
#[test]
fn generated_docs_name_only_generated_items() {
    for (args, item) in [
        ("", "fn r(x: u8) {}"),
        ("", "fn r(x: &u8) {}"),
        ("rundown = WORK", "fn r(x: u8) {}"),
        ("unsafe(never_unloads)", "fn r() {}"),
        ("", "fn r(d: &DeviceObject, x: u8) {}"),
        ("", "fn r(d: &DeviceObject, x: u8, i: IoWorkItem<r>) {}"),
        (
            "",
            "fn r(d: &DeviceObject, x: u8, i: RunningIoWorkItem<'_, r>) {}",
        ),
        ("", "fn r(d: &DriverObject, x: u8) {}"),
        ("wdf", "fn r(x: &u8) {}"),
        (
            "wdf, parent = queue",
            "fn r(x: &u8, i: &RunningWdfWorkItem<'_, r>) {}",
        ),
    ] {
        let output = expand(args.parse().unwrap(), item.parse().unwrap());
        let file = syn::parse2::<syn::File>(output).and_then(with_items_applied);
        let file = file.expect("items");
        let mut struct_doc = String::new();
        let mut all_docs = String::new();
        let mut visible = Vec::new();
        for item in &file.items {
            match item {
                syn::Item::Struct(item) => struct_doc = docs(&item.attrs),
                syn::Item::Impl(item) if item.trait_.is_none() => {
                    for member in &item.items {
                        let (name, attrs) = match member {
                            syn::ImplItem::Fn(f) => (f.sig.ident.to_string(), &f.attrs),
                            syn::ImplItem::Const(c) => (c.ident.to_string(), &c.attrs),
                            _ => continue,
                        };
                        let text = docs(attrs);
                        all_docs.push_str(&text);
                        let hidden = attrs.iter().any(|attr| {
                            attr.path().is_ident("doc")
                                && attr
                                    .meta
                                    .require_list()
                                    .is_ok_and(|list| list.tokens.to_string() == "hidden")
                        });
                        if !hidden {
                            visible.push(name);
                        }
                    }
                }
                _ => {}
            }
        }
        let listed: Vec<String> = struct_doc
            .split("`r::")
            .skip(1)
            .map(|rest| {
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect()
            })
            .collect();
        assert_eq!(listed, visible, "{args} / {item}: {struct_doc}");
        let has_routine = visible.iter().any(|name| name == "ROUTINE");
        let names_routine = struct_doc.contains("`ROUTINE`") || all_docs.contains("`ROUTINE`");
        assert!(
            has_routine || !names_routine,
            "{args} / {item}: a doc names `ROUTINE`, which is not generated"
        );
    }
}
