//! The attribute's arguments: none, `ex`, `device`, `driver`, `wdf`,
//! `parent = device | queue`, `rundown = PATH`, `unsafe(never_unloads)`,
//! `crate = path`.

use proc_macro2::{Span, TokenStream, TokenTree};
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

impl StatedRole {
    pub(crate) fn keyword(self) -> &'static str {
        match self {
            StatedRole::Ex => "ex",
            StatedRole::Device => "device",
            StatedRole::Driver => "driver",
            StatedRole::Wdf => "wdf",
        }
    }
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
    /// count nowhere; the `unsafe` token, which the expansion puts on an
    /// `unsafe impl` so that `forbid(unsafe_code)` sees it.
    pub(crate) never_unloads: Option<proc_macro2::Ident>,
}

const EXPECTED: &str = "expected `ex`, `device`, `driver`, `wdf`, `parent = device | queue`, `rundown = STATIC`, `unsafe(never_unloads)` or `crate = path::to::ntwork`";

/// Parses `args`, recording every error (each at its own token) in `errors`.
pub(crate) fn parse(args: TokenStream, errors: &mut Errors) -> Args {
    let mut parsed = Args::default();
    let mut crate_span: Option<Span> = None;
    let mut chunk: Vec<TokenTree> = Vec::new();
    let mut tokens = args.into_iter().peekable();
    loop {
        let next = tokens.next();
        match next {
            Some(TokenTree::Punct(ref punct)) if punct.as_char() == ',' => {
                if chunk.is_empty() {
                    errors.push(syn::Error::new(
                        punct.span(),
                        format!("expected an argument before `,`: {EXPECTED}"),
                    ));
                } else {
                    argument(
                        std::mem::take(&mut chunk),
                        &mut parsed,
                        &mut crate_span,
                        errors,
                    );
                }
            }
            Some(token) => chunk.push(token),
            None => {
                if !chunk.is_empty() {
                    argument(chunk, &mut parsed, &mut crate_span, errors);
                }
                return parsed;
            }
        }
    }
}

/// One comma-separated argument.
fn argument(
    chunk: Vec<TokenTree>,
    parsed: &mut Args,
    crate_span: &mut Option<Span>,
    errors: &mut Errors,
) {
    let first = &chunk[0];
    let TokenTree::Ident(ident) = first else {
        errors.push(syn::Error::new(
            first.span(),
            format!("unknown `#[work_item]` argument: {EXPECTED}"),
        ));
        return;
    };
    let name = ident.to_string();
    let role = match name.as_str() {
        "ex" => Some(StatedRole::Ex),
        "device" => Some(StatedRole::Device),
        "driver" => Some(StatedRole::Driver),
        "wdf" => Some(StatedRole::Wdf),
        "crate" => None,
        "parent" => {
            parent_argument(ident, &chunk[1..], parsed, errors);
            return;
        }
        "rundown" => {
            rundown_argument(ident, &chunk[1..], parsed, errors);
            return;
        }
        "unsafe" => {
            never_unloads_argument(ident, &chunk[1..], parsed, errors);
            return;
        }
        _ => {
            errors.push(syn::Error::new(
                ident.span(),
                format!("unknown `#[work_item]` argument `{name}`: {EXPECTED}"),
            ));
            return;
        }
    };
    if let Some(role) = role {
        if let Some(extra) = chunk.get(1) {
            errors.push(syn::Error::new(
                extra.span(),
                format!("unexpected tokens after `{name}`: the role takes no value, write `#[work_item({name})]`"),
            ));
            return;
        }
        match parsed.role {
            Some((previous, _)) if previous == role => errors.push(syn::Error::new(
                ident.span(),
                format!("duplicate `#[work_item]` argument `{name}`"),
            )),
            Some((previous, _)) => errors.push(syn::Error::new(
                ident.span(),
                format!(
                    "conflicting `#[work_item]` arguments: `{}` and `{name}`; a routine is an Ex routine, a device-bound one or a driver-bound one",
                    previous.keyword()
                ),
            )),
            None => parsed.role = Some((role, ident.span())),
        }
        return;
    }
    // `crate = path`
    let eq = match chunk.get(1) {
        Some(TokenTree::Punct(punct)) if punct.as_char() == '=' => punct.span(),
        _ => {
            errors.push(syn::Error::new(
                ident.span(),
                "`crate` needs a path to the ntwork crate: `#[work_item(crate = path::to::ntwork)]`",
            ));
            return;
        }
    };
    if chunk.len() == 2 {
        errors.push(syn::Error::new(
            eq,
            "expected a path after `crate =`: `#[work_item(crate = path::to::ntwork)]`",
        ));
        return;
    }
    let rest: TokenStream = chunk[2..].iter().cloned().collect();
    let path = match Path::parse_mod_style.parse2(rest) {
        Ok(path) => path,
        Err(error) => {
            let message = format!("expected a path to the ntwork crate after `crate =`: {error}");
            errors.push(syn::Error::new(error.span(), message));
            return;
        }
    };
    if crate_span.is_some() {
        errors.push(syn::Error::new(
            ident.span(),
            "duplicate `#[work_item]` argument `crate`",
        ));
        return;
    }
    *crate_span = Some(ident.span());
    parsed.krate = Some(path);
}

/// `rundown = PATH`: the static the routine's one-shot items count in.
fn rundown_argument(
    ident: &proc_macro2::Ident,
    rest: &[TokenTree],
    parsed: &mut Args,
    errors: &mut Errors,
) {
    const USAGE: &str = "`rundown` names the `static Rundown` an Ex routine's items count in: `#[work_item(rundown = WORK)]`";
    let path = match rest {
        [TokenTree::Punct(eq), path @ ..] if eq.as_char() == '=' && !path.is_empty() => {
            match Path::parse_mod_style.parse2(path.iter().cloned().collect()) {
                Ok(path) => path,
                Err(error) => {
                    errors.push(syn::Error::new(error.span(), USAGE));
                    return;
                }
            }
        }
        _ => {
            errors.push(syn::Error::new(ident.span(), USAGE));
            return;
        }
    };
    if parsed.rundown.is_some() {
        errors.push(syn::Error::new(
            ident.span(),
            "duplicate `#[work_item]` argument `rundown`",
        ));
        return;
    }
    parsed.rundown = Some((path, ident.span()));
}

/// `unsafe(never_unloads)`: the caller states that the driver cannot be
/// unloaded (it has no DriverUnload), as `Rundown::never_unloads` does.
fn never_unloads_argument(
    ident: &proc_macro2::Ident,
    rest: &[TokenTree],
    parsed: &mut Args,
    errors: &mut Errors,
) {
    const USAGE: &str = "`unsafe(never_unloads)` states that the driver cannot be unloaded (it has no DriverUnload), so Ex work needs no rundown: `#[work_item(unsafe(never_unloads))]`";
    let stated = match rest {
        [TokenTree::Group(group)] if group.delimiter() == proc_macro2::Delimiter::Parenthesis => {
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
        errors.push(syn::Error::new(
            ident.span(),
            "duplicate `#[work_item]` argument `unsafe(never_unloads)`",
        ));
        return;
    }
    parsed.never_unloads = Some(ident.clone());
}

/// `parent = device | queue`.
fn parent_argument(
    ident: &proc_macro2::Ident,
    rest: &[TokenTree],
    parsed: &mut Args,
    errors: &mut Errors,
) {
    const USAGE: &str = "`parent` names a KMDF work item's parent kind: `#[work_item(wdf, parent = device)]` or `#[work_item(wdf, parent = queue)]`";
    let kind = match rest {
        [TokenTree::Punct(eq), TokenTree::Ident(kind)] if eq.as_char() == '=' => {
            match kind.to_string().as_str() {
                "device" => WdfParent::Device,
                "queue" => WdfParent::Queue,
                _ => {
                    errors.push(syn::Error::new(kind.span(), USAGE));
                    return;
                }
            }
        }
        _ => {
            errors.push(syn::Error::new(ident.span(), USAGE));
            return;
        }
    };
    if parsed.parent.is_some() {
        errors.push(syn::Error::new(
            ident.span(),
            "duplicate `#[work_item]` argument `parent`",
        ));
        return;
    }
    parsed.parent = Some((kind, ident.span()));
}
