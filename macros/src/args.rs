//! The attribute's arguments. `ARGUMENTS` is the one list: what `argument`
//! accepts and what the errors name, so the two cannot drift apart.

use proc_macro2::{Delimiter, Ident, Span, TokenStream, TokenTree};
use syn::Path;
use syn::parse::Parser;

use crate::errors::Errors;
use crate::model::WdfParent;

/// A role stated in the attribute.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum StatedRole {
    /// `#[work_item(ex)]`.
    Ex,
    /// `#[work_item(device)]`.
    Device,
    /// `#[work_item(driver)]`.
    Driver,
    /// `#[work_item(wdf)]`: a KMDF work item.
    Wdf,
}

/// The parsed arguments. Each error has been recorded; what could be read is kept.
#[derive(Default)]
pub(crate) struct Args {
    /// The stated role and the span of its keyword.
    pub(crate) role: Option<(StatedRole, Span)>,
    /// `crate = path`: where the runtime is, instead of `::ntwork`.
    pub(crate) krate: Option<Path>,
    /// `parent = device | queue` (KMDF): the work item's parent kind.
    pub(crate) parent: Option<(WdfParent, Span)>,
    /// `rundown = PATH` (Ex): the `static Rundown` the routine's items count in.
    pub(crate) rundown: Option<(Path, Span)>,
    /// `unsafe(never_unloads)` (Ex): the driver cannot unload, so its items
    /// count nowhere; the `unsafe` token, at which the expansion writes the
    /// `unsafe` block so that `forbid(unsafe_code)` sees it.
    pub(crate) never_unloads: Option<Ident>,
}

/// What follows an argument's name.
#[derive(Clone, Copy)]
enum Form {
    /// A role keyword, alone.
    Role(StatedRole),
    /// `name = value`.
    Value(Value),
    /// `unsafe(never_unloads)`.
    NeverUnloads,
}

/// The `name = value` arguments.
#[derive(Clone, Copy)]
enum Value {
    Parent,
    Rundown,
    Crate,
}

/// One accepted argument: its name and how errors show it.
struct Argument {
    name: &'static str,
    shown: &'static str,
    form: Form,
}

/// Every accepted argument, in the order errors list them.
const ARGUMENTS: &[Argument] = &[
    Argument {
        name: "ex",
        shown: "`ex`",
        form: Form::Role(StatedRole::Ex),
    },
    Argument {
        name: "device",
        shown: "`device`",
        form: Form::Role(StatedRole::Device),
    },
    Argument {
        name: "driver",
        shown: "`driver`",
        form: Form::Role(StatedRole::Driver),
    },
    Argument {
        name: "wdf",
        shown: "`wdf`",
        form: Form::Role(StatedRole::Wdf),
    },
    Argument {
        name: "parent",
        shown: "`parent = device | queue`",
        form: Form::Value(Value::Parent),
    },
    Argument {
        name: "rundown",
        shown: "`rundown = STATIC`",
        form: Form::Value(Value::Rundown),
    },
    Argument {
        name: "unsafe",
        shown: "`unsafe(never_unloads)`",
        form: Form::NeverUnloads,
    },
    Argument {
        name: "crate",
        shown: "`crate = path::to::ntwork`",
        form: Form::Value(Value::Crate),
    },
];

/// "expected `ex`, `device`, ... or `crate = path::to::ntwork`".
fn expected() -> String {
    let shown: Vec<&str> = ARGUMENTS.iter().map(|argument| argument.shown).collect();
    let (last, rest) = shown.split_last().expect("arguments");
    format!("expected {} or {last}", rest.join(", "))
}

/// Parses `args`, recording every error (each at its own token) in `errors`.
pub(crate) fn parse(args: TokenStream, errors: &mut Errors) -> Args {
    let mut parsed = Args::default();
    let mut chunk: Vec<TokenTree> = Vec::new();
    for token in args {
        match token {
            TokenTree::Punct(punct) if punct.as_char() == ',' => {
                if chunk.is_empty() {
                    let message = format!("expected an argument before `,`: {}", expected());
                    errors.push(syn::Error::new(punct.span(), message));
                } else {
                    argument(&std::mem::take(&mut chunk), &mut parsed, errors);
                }
            }
            token => chunk.push(token),
        }
    }
    if !chunk.is_empty() {
        argument(&chunk, &mut parsed, errors);
    }
    parsed
}

/// One comma-separated argument: its name, then what its form takes.
fn argument(chunk: &[TokenTree], parsed: &mut Args, errors: &mut Errors) {
    let (first, rest) = chunk.split_first().expect("a non-empty argument");
    let TokenTree::Ident(ident) = first else {
        let message = format!("unknown `#[work_item]` argument: {}", expected());
        errors.push(syn::Error::new(first.span(), message));
        return;
    };
    let name = ident.to_string();
    let Some(known) = ARGUMENTS.iter().find(|argument| argument.name == name) else {
        let message = format!("unknown `#[work_item]` argument `{name}`: {}", expected());
        errors.push(syn::Error::new(ident.span(), message));
        return;
    };
    match known.form {
        Form::Role(role) => role_argument(ident, role, rest, parsed, errors),
        Form::Value(value) => {
            if let Some(tokens) = name_value(ident, value, rest, errors) {
                value_argument(ident, value, tokens, parsed, errors);
            }
        }
        Form::NeverUnloads => never_unloads_argument(ident, rest, parsed, errors),
    }
}

/// `ex`, `device`, `driver`, `wdf`: one role, stated once.
fn role_argument(
    ident: &Ident,
    role: StatedRole,
    rest: &[TokenTree],
    parsed: &mut Args,
    errors: &mut Errors,
) {
    if let Some(extra) = rest.first() {
        errors.push(syn::Error::new(
            extra.span(),
            format!("unexpected tokens after `{ident}`: the role takes no value, write `#[work_item({ident})]`"),
        ));
        return;
    }
    match parsed.role {
        Some((previous, _)) if previous == role => errors.push(duplicate(ident, &ident.to_string())),
        Some((previous, _)) => errors.push(syn::Error::new(
            ident.span(),
            format!(
                "conflicting `#[work_item]` arguments: `{}` and `{ident}`; a routine has one role: Ex (`ex`), device-bound (`device`), driver-bound (`driver`) or KMDF (`wdf`)",
                keyword(previous)
            ),
        )),
        None => parsed.role = Some((role, ident.span())),
    }
}

/// A stated role's keyword.
pub(crate) fn keyword(role: StatedRole) -> &'static str {
    let found = ARGUMENTS
        .iter()
        .find(|argument| matches!(argument.form, Form::Role(r) if r == role));
    found.map_or("", |argument| argument.name)
}

impl Value {
    /// The argument written right, and what it means: the one message for
    /// every malformed form of it.
    fn usage(self) -> &'static str {
        match self {
            Value::Parent => {
                "expected `parent = device` or `parent = queue`: a KMDF work item's parent kind, as in `#[work_item(wdf, parent = queue)]`"
            }
            Value::Rundown => {
                "expected `rundown = STATIC`: the `static Rundown` an Ex routine's one-shot items count in, as in `#[work_item(rundown = WORK)]`"
            }
            Value::Crate => {
                "expected `crate = path::to::ntwork`: where the ntwork crate is, for crates that re-export it"
            }
        }
    }
}

/// The value of `name = value`, or the argument's usage at the token that
/// is missing or wrong.
fn name_value(
    ident: &Ident,
    value: Value,
    rest: &[TokenTree],
    errors: &mut Errors,
) -> Option<TokenStream> {
    match rest {
        [TokenTree::Punct(eq), value_tokens @ ..] if eq.as_char() == '=' => {
            if value_tokens.is_empty() {
                errors.push(syn::Error::new(eq.span(), value.usage()));
                return None;
            }
            Some(value_tokens.iter().cloned().collect())
        }
        _ => {
            errors.push(syn::Error::new(ident.span(), value.usage()));
            None
        }
    }
}

/// Reads a `name = value` argument's value and records it once; a value
/// that does not read is the argument's usage, at the value.
fn value_argument(
    ident: &Ident,
    value: Value,
    tokens: TokenStream,
    parsed: &mut Args,
    errors: &mut Errors,
) {
    let span = ident.span();
    let read = match value {
        Value::Parent => parent_kind(tokens)
            .map(|kind| set_once(&mut parsed.parent, (kind, span), ident, errors)),
        Value::Rundown => {
            path(tokens).map(|path| set_once(&mut parsed.rundown, (path, span), ident, errors))
        }
        Value::Crate => path(tokens).map(|path| set_once(&mut parsed.krate, path, ident, errors)),
    };
    if let Err(at) = read {
        errors.push(syn::Error::new(at, value.usage()));
    }
}

/// A path (`WORK`, `crate::WORK`, `::ntwork`), or where it stops reading.
fn path(tokens: TokenStream) -> Result<Path, Span> {
    Path::parse_mod_style
        .parse2(tokens)
        .map_err(|error| error.span())
}

/// `device` or `queue`, or the token that is neither.
fn parent_kind(tokens: TokenStream) -> Result<WdfParent, Span> {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    match &tokens[..] {
        [TokenTree::Ident(kind)] if kind == "device" => Ok(WdfParent::Device),
        [TokenTree::Ident(kind)] if kind == "queue" => Ok(WdfParent::Queue),
        _ => Err(tokens.first().map_or_else(Span::call_site, TokenTree::span)),
    }
}

/// `unsafe(never_unloads)`: the caller states that the driver cannot be
/// unloaded (it has no DriverUnload), as `Rundown::never_unloads` does.
fn never_unloads_argument(
    ident: &Ident,
    rest: &[TokenTree],
    parsed: &mut Args,
    errors: &mut Errors,
) {
    const USAGE: &str = "`unsafe(never_unloads)` states that the driver cannot be unloaded (it has no DriverUnload), so Ex work needs no rundown: `#[work_item(unsafe(never_unloads))]`";
    let stated = match rest {
        [TokenTree::Group(group)] if group.delimiter() == Delimiter::Parenthesis => {
            let inner: Vec<TokenTree> = group.stream().into_iter().collect();
            matches!(&inner[..], [TokenTree::Ident(what)] if what == "never_unloads")
        }
        _ => false,
    };
    if !stated {
        errors.push(syn::Error::new(ident.span(), USAGE));
        return;
    }
    if parsed.never_unloads.is_some() {
        errors.push(duplicate(ident, "unsafe(never_unloads)"));
        return;
    }
    parsed.never_unloads = Some(ident.clone());
}

/// Records an argument's value, or the error that it was given twice.
fn set_once<T>(slot: &mut Option<T>, value: T, ident: &Ident, errors: &mut Errors) {
    if slot.is_some() {
        errors.push(duplicate(ident, &ident.to_string()));
    } else {
        *slot = Some(value);
    }
}

fn duplicate(ident: &Ident, shown: &str) -> syn::Error {
    syn::Error::new(
        ident.span(),
        format!("duplicate `#[work_item]` argument `{shown}`"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(args: &str) -> (Args, usize) {
        let mut errors = Errors::default();
        let parsed = parse(args.parse().expect("tokens"), &mut errors);
        (parsed, errors.count())
    }

    /// Every argument the errors name is accepted, written as they show it.
    #[test]
    fn every_listed_argument_is_accepted() {
        for argument in ARGUMENTS {
            let written = argument
                .shown
                .trim_matches('`')
                .replace(" | queue", "")
                .replace("path::to::ntwork", "::x")
                .replace("STATIC", "WORK");
            let (_, count) = parse_str(&written);
            assert_eq!(count, 0, "`{written}` is listed but rejected");
        }
        assert_eq!(
            expected(),
            "expected `ex`, `device`, `driver`, `wdf`, `parent = device | queue`, `rundown = STATIC`, `unsafe(never_unloads)` or `crate = path::to::ntwork`"
        );
    }

    /// The attribute's documented argument list names every argument.
    #[test]
    fn the_documented_list_is_the_accepted_one() {
        let doc = include_str!("lib.rs");
        for argument in ARGUMENTS {
            assert!(
                doc.contains(argument.shown),
                "{} is not documented",
                argument.shown
            );
        }
    }

    #[test]
    fn values_are_read() {
        let (parsed, count) = parse_str("wdf, parent = queue, crate = a::b");
        assert_eq!(count, 0);
        assert_eq!(parsed.role.map(|(role, _)| role), Some(StatedRole::Wdf));
        assert_eq!(parsed.parent.map(|(kind, _)| kind), Some(WdfParent::Queue));
        assert!(parsed.krate.is_some());
        let (parsed, count) = parse_str("rundown = self::WORK, unsafe(never_unloads)");
        assert_eq!(count, 0);
        assert!(parsed.rundown.is_some() && parsed.never_unloads.is_some());
    }

    #[test]
    fn each_malformed_argument_is_one_error() {
        for args in [
            "parent",
            "parent =",
            "parent = pool",
            "parent = device queue",
            "rundown",
            "rundown = 1",
            "crate",
            "crate =",
            "crate = 3",
            "unsafe",
            "unsafe(never)",
            "ex = 1",
            "ex, ex",
            "ex, wdf",
            "parent = device, parent = queue",
            "rundown = A, rundown = B",
            "unsafe(never_unloads), unsafe(never_unloads)",
            "crate = a, crate = b",
            "bogus",
            "1",
            ",",
        ] {
            let (_, count) = parse_str(args);
            assert_eq!(count, 1, "{args}");
        }
    }
}
