//! Unit tests of the macro, on `proc_macro2` tokens.
//!
//! - Expansion snapshots: `tests/expand/<case>.rs` (an attribute and a
//!   function) against `tests/expand/<case>.expanded.rs` (the expansion,
//!   formatted by prettyplease). Regenerate them with
//!   `NTWORK_BLESS=1 cargo test -p ntwork-macros` and review the diff.
//! - A grammar-based fuzzer: `expand` never panics, and for every item rustc
//!   could hand it returns items or `compile_error!`s. `NTWORK_FUZZ_CASES=1000000 cargo test -p ntwork-macros
//!   --release fuzz -- --nocapture` runs a long campaign.
//!
//! What an expansion costs is measured by `benches/compile-time/run.sh`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Instant;

use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};

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
        // Not `Send`: the helpers keep it, the trait impls cannot.
        ("", "fn a(x: *mut u8) {}", "type Context = () ;"),
        ("", "fn a(x: *mut u8) {}", "_context : * mut u8"),
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

/// splitmix64: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).expect("fits")
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const ATTRS: &[&str] = &[
    "",
    "",
    "#[inline]",
    "#[doc = \"x\"]",
    "#[cfg(all())]",
    "/// doc\n",
    "#[allow(unused)] #[must_use]",
];
const VIS: &[&str] = &[
    "",
    "",
    "pub",
    "pub(crate)",
    "pub(super)",
    "pub(in crate::a)",
    "pub(self)",
];
const QUALIFIERS: &[&str] = &[
    "",
    "",
    "",
    "const",
    "async",
    "unsafe",
    "extern \"C\"",
    "extern \"system\"",
    "extern",
    "const unsafe",
    "async unsafe extern \"C\"",
    "safe",
];
const NAMES: &[&str] = &["flush", "r#type", "_x", "a1", "work", "Self", "r#fn"];
const GENERICS: &[&str] = &[
    "",
    "",
    "",
    "<T>",
    "<'a>",
    "<const N: usize>",
    "<T: Send + 'static, 'b>",
    "<>",
    "<'a, 'b: 'a>",
    "<T = u8>",
];
const PATTERNS: &[&str] = &[
    "x",
    "x",
    "mut x",
    "_",
    "(a, b)",
    "ref x",
    "x @ _",
    "&y",
    "self",
    "&self",
    "&mut self",
    "mut self",
    "r#x",
    "Some(x)",
    "Point { x, .. }",
];
const TYPES: &[&str] = &[
    "u8",
    "Vec<u8>",
    "&u8",
    "&'static str",
    "&'a T",
    "&'_ u8",
    "&mut u32",
    "impl Send",
    "Box<dyn Fn(&u8) + Send>",
    "Rc<u8>",
    "DeviceObject",
    "&DeviceObject",
    "&mut DeviceObject",
    "&'static DeviceObject",
    "&ntwork::DeviceObject",
    "&::a::b::DeviceObject",
    "IoWorkItem<flush>",
    "IoWorkItem<other>",
    "IoWorkItem",
    "ntwork::IoWorkItem<Self>",
    "(u8, u16)",
    "[u8; 4]",
    "[&u8; N]",
    "fn(&u8)",
    "Cow<'_, str>",
    "<T as Tr>::A",
    "_",
    "!",
    "()",
    "dyn Send + 'a",
    "*const u8",
    "T",
    "Self",
    "&&u8",
    "(DeviceObject)",
    "&(DeviceObject)",
    "m!()",
    "Box<impl Send>",
    "&[u8]",
    "Option<&'a u8>",
    "&dyn Fn(&u8) -> &u8",
    "Vec<Box<dyn Send + 'static>>",
    "&'static mut u8",
];
const RETURNS: &[&str] = &[
    "",
    "",
    "",
    "-> ()",
    "-> u8",
    "-> !",
    "-> impl Send",
    "-> Self",
    "-> ((),)",
    "-> (())",
];
const WHERES: &[&str] = &["", "", "", "where T: Send", "where", "where u8: Copy,"];
const BODIES: &[&str] = &[
    "{}",
    "{ let _ = 1; }",
    "{ loop {} }",
    ";",
    "{ x }",
    "{ { } }",
];
const ARGS: &[&str] = &[
    "",
    "",
    "",
    "ex",
    "device",
    "crate = ::ntwork",
    "crate = a::b",
    "crate",
    "crate =",
    "ex, device",
    "ex, ex",
    "bogus",
    "1",
    "ex,",
    ",",
    "crate = ::a, crate = b",
    "device(x)",
    "ex = 1",
    "crate = a<b>",
    "crate = crate::rt, device",
    ",,",
    "ex device",
    "crate = self",
    "crate = super::x, ex",
    "\"ex\"",
    "crate = 3",
];
const INSERTS: &[&str] = &[
    ",", "::", "&", "'a", "fn", "()", "{}", "<", ">", "...", "#", "[x]", "self", "impl", "dyn",
    "?", "mut", "=", "->", ";", "x: u8", "pub", "async",
];

fn signature(rng: &mut Rng) -> String {
    let mut source = String::new();
    for _ in 0..rng.below(3) {
        source.push_str(rng.pick(ATTRS));
        source.push(' ');
    }
    let params: Vec<String> = (0..rng.below(5))
        .map(|_| {
            if rng.chance(3) {
                rng.pick(&["...", "_: ...", "args: ..."]).to_owned()
            } else if rng.chance(5) {
                rng.pick(&["self", "&self", "&'a mut self", "self: Box<Self>"])
                    .to_owned()
            } else {
                let attr = if rng.chance(5) {
                    "#[allow(unused)] "
                } else {
                    ""
                };
                format!("{attr}{}: {}", rng.pick(PATTERNS), rng.pick(TYPES))
            }
        })
        .collect();
    let trailing = if rng.chance(20) { "," } else { "" };
    source.push_str(&format!(
        "{} {} fn {}{}({}{trailing}) {} {} {}",
        rng.pick(VIS),
        rng.pick(QUALIFIERS),
        rng.pick(NAMES),
        rng.pick(GENERICS),
        params.join(", "),
        rng.pick(RETURNS),
        rng.pick(WHERES),
        rng.pick(BODIES),
    ));
    source
}

/// Deletes, duplicates, swaps or inserts tokens, at the top level or inside a group.
fn mutate(rng: &mut Rng, stream: TokenStream, depth: usize) -> TokenStream {
    let mut tokens: Vec<TokenTree> = stream.into_iter().collect();
    for _ in 0..rng.below(3) {
        let len = tokens.len();
        match rng.below(5) {
            0 if len > 0 => {
                tokens.remove(rng.below(len));
            }
            1 if len > 0 => {
                let token = tokens[rng.below(len)].clone();
                tokens.insert(rng.below(len + 1), token);
            }
            2 if len > 1 => {
                let (a, b) = (rng.below(len), rng.below(len));
                tokens.swap(a, b);
            }
            3 => {
                let insert: TokenStream = rng.pick(INSERTS).parse().expect("insert tokenizes");
                let at = rng.below(len + 1);
                for (offset, token) in insert.into_iter().enumerate() {
                    tokens.insert(at + offset, token);
                }
            }
            _ if len > 0 && depth < 3 => {
                let at = rng.below(len);
                if let TokenTree::Group(group) = &tokens[at] {
                    let inner = mutate(rng, group.stream(), depth + 1);
                    let mut replaced = Group::new(group.delimiter(), inner);
                    replaced.set_span(group.span());
                    tokens[at] = TokenTree::Group(replaced);
                }
            }
            _ => {}
        }
    }
    tokens.into_iter().collect()
}

/// A signature from the valid shapes only, so that half the cases expand.
fn valid_signature(rng: &mut Rng) -> (String, &'static str) {
    const CONTEXTS: &[&str] = &[
        "u8",
        "Vec<u8>",
        "&u8",
        "&'static str",
        "Box<dyn Fn(&u8) + Send>",
        "(u8, [u16; 2])",
        "&'_ AtomicU32",
        "fn(&u8)",
    ];
    let name = rng.pick(&["flush", "r#type", "_x", "work"]);
    let pat = rng.pick(&["x", "mut x", "_", "_ctx"]);
    let (params, args) = match rng.below(6) {
        0 => (String::new(), rng.pick(&["", "ex", "crate = ::rt"])),
        1 | 2 => (
            format!("{pat}: {}", rng.pick(CONTEXTS)),
            rng.pick(&["", "ex", "crate = a::b"]),
        ),
        3 => (
            format!(
                "d: &DeviceObject, {pat}: {}",
                rng.pick(&["u8", "Vec<u8>", "&'static u8"])
            ),
            rng.pick(&["", "device"]),
        ),
        4 => (
            format!("d: &ntwork::DeviceObject, {pat}: u8, item: IoWorkItem<{name}>"),
            rng.pick(&["", "device, crate = ::x"]),
        ),
        _ => ("d: &'_ DeviceObject".to_owned(), rng.pick(&["", "device"])),
    };
    let source = format!(
        "{} {} fn {name}({params}) {} {}",
        rng.pick(ATTRS),
        rng.pick(VIS),
        rng.pick(&["", "-> ()"]),
        rng.pick(&["{}", "{ let _ = 1; }"])
    );
    (source, args)
}

fn fuzz_case(rng: &mut Rng) -> (TokenStream, TokenStream) {
    let (source, args) = if rng.chance(50) {
        valid_signature(rng)
    } else {
        (signature(rng), rng.pick(ARGS))
    };
    let item: TokenStream = source.parse().expect("generated items tokenize");
    let args: TokenStream = args.parse().expect("generated args tokenize");
    let item = if rng.chance(30) {
        mutate(rng, item, 0)
    } else {
        item
    };
    let args = if rng.chance(10) {
        mutate(rng, args, 0)
    } else {
        args
    };
    (args, item)
}

#[test]
fn fuzz() {
    let cases: usize = std::env::var("NTWORK_FUZZ_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(10_000);
    let mut rng = Rng(0x6E74_776F_726B);
    let (mut accepted, mut rejected) = (0usize, 0usize);
    let start = Instant::now();
    for case in 0..cases {
        let (args, item) = fuzz_case(&mut rng);
        let input = format!("#[work_item({args})] {item}");
        // rustc parses an attribute's item before expanding, so only a valid
        // item (its body included) must give valid items; the macro itself
        // never parses the body.
        let valid_item = syn::parse2::<syn::Item>(item.clone()).is_ok();
        let output = catch_unwind(AssertUnwindSafe(|| expand(args, item)))
            .unwrap_or_else(|_| panic!("case {case} panicked: {input}"));
        let text = output.to_string();
        if text.contains("compile_error") {
            rejected += 1;
        } else {
            accepted += 1;
            let items = syn::parse2::<syn::File>(output).and_then(with_items_applied);
            if let (true, Err(error)) = (valid_item, items) {
                panic!("case {case}: the expansion of `{input}` is not items ({error}):\n{text}");
            }
        }
    }
    println!(
        "fuzz: {cases} cases ({accepted} expanded, {rejected} rejected with compile_error!) in {:.2?}",
        start.elapsed()
    );
    assert!(
        accepted > cases / 20 && rejected > cases / 20,
        "the generator covers both outcomes"
    );
}
