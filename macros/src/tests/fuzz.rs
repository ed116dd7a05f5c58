//! A grammar-based fuzzer of the whole macro.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use proc_macro2::{Group, TokenStream, TokenTree};

use super::with_items_applied;
use crate::expand;

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
    "&DriverObject",
    "RunningIoWorkItem<'_, flush>",
    "&RunningWdfWorkItem<'_, flush>",
    "*mut c_void",
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
    "driver",
    "wdf",
    "wdf, parent = queue",
    "parent = device",
    "wdf, parent =",
    "wdf, parent = pool",
    "rundown = WORK",
    "rundown",
    "rundown = 1",
    "device, rundown = WORK",
    "unsafe(never_unloads)",
    "unsafe(never_unloads), rundown = WORK",
    "unsafe",
    "wdf, unsafe(never_unloads)",
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
