//! Reading a tag's arguments against what the tag accepts: unknown and
//! repeated arguments, missing required ones, and typed values.

use crate::ast::{Arg, ArgValue, StrLit, Tag};
use crate::diagnostic::Diagnostic;
use crate::span::{Span, Spanned};
use crate::suggest::did_you_mean;

/// A tag's arguments split into positional and named, repeats reported.
pub struct Args<'t> {
    pub tag: &'t Tag,
    pub positional: Vec<&'t Arg>,
    pub named: Vec<(&'t Spanned<String>, &'t ArgValue)>,
}

impl<'t> Args<'t> {
    pub fn new(tag: &'t Tag, diagnostics: &mut Vec<Diagnostic>) -> Self {
        let mut positional = Vec::new();
        let mut named: Vec<(&Spanned<String>, &ArgValue)> = Vec::new();
        for arg in &tag.args {
            match &arg.key {
                None => positional.push(arg),
                Some(key) => {
                    if named.iter().any(|(k, _)| k.value == key.value) {
                        diagnostics.push(
                            Diagnostic::error(
                                key.span,
                                format!("argument `{}` is given twice", key.value),
                            )
                            .expected("each argument at most once"),
                        );
                    } else {
                        named.push((key, &arg.value));
                    }
                }
            }
        }
        Self {
            tag,
            positional,
            named,
        }
    }

    /// Where to point when something is missing: the tag's name.
    pub fn tag_span(&self) -> Span {
        self.tag.span
    }

    /// The one positional string the tag needs (`@source("URI")`).
    pub fn single_positional(
        &self,
        what: &str,
        example: &str,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Option<&'t StrLit> {
        let name = &self.tag.name.value;
        for extra in self.positional.iter().skip(1) {
            diagnostics.push(
                Diagnostic::error(extra.span, format!("`@{name}` takes one {what}")).expected(
                    format!("`key=value` arguments after the {what}, like {example}"),
                ),
            );
        }
        match self.positional.first() {
            None => {
                diagnostics.push(
                    Diagnostic::error(self.tag.span, format!("`@{name}` needs a {what}"))
                        .expected(example.to_owned()),
                );
                None
            }
            Some(arg) => expect_str(&arg.value, what, diagnostics),
        }
    }

    /// Reports positional arguments on a tag that takes only named ones.
    pub fn no_positional(&self, example: &str, diagnostics: &mut Vec<Diagnostic>) {
        for arg in &self.positional {
            diagnostics.push(
                Diagnostic::error(
                    arg.span,
                    format!(
                        "`@{}` takes only `key=value` arguments",
                        self.tag.name.value
                    ),
                )
                .expected(example.to_owned()),
            );
        }
    }

    /// Reports every named argument not in `allowed` (or under `prefix.`).
    pub fn only_keys(
        &self,
        allowed: &[&str],
        prefix: Option<&str>,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        for (key, _) in &self.named {
            let under_prefix = prefix.is_some_and(|p| {
                key.value
                    .strip_prefix(p)
                    .is_some_and(|rest| rest.starts_with('.') && rest.len() > 1)
            });
            if allowed.contains(&key.value.as_str()) || under_prefix {
                continue;
            }
            let expected = if allowed.is_empty() {
                "no arguments here".to_owned()
            } else {
                format!("one of {}", backticked(allowed))
            };
            diagnostics.push(
                Diagnostic::error(
                    key.span,
                    format!("unknown argument `{}` for {}", key.value, self.describe()),
                )
                .expected(expected)
                .help_opt(did_you_mean(&key.value, allowed.iter().copied())),
            );
        }
    }

    fn describe(&self) -> String {
        match (self.tag.name.value.as_str(), self.positional.first()) {
            (
                "step",
                Some(Arg {
                    value: ArgValue::Str(s),
                    ..
                }),
            ) => format!("step `{}`", s.value),
            (name, _) => format!("`@{name}`"),
        }
    }

    pub fn get(&self, key: &str) -> Option<&'t ArgValue> {
        self.named
            .iter()
            .find(|(k, _)| k.value == key)
            .map(|(_, v)| *v)
            .filter(|v| !matches!(v, ArgValue::Empty(_)))
    }

    pub fn get_str(&self, key: &str, diagnostics: &mut Vec<Diagnostic>) -> Option<&'t StrLit> {
        self.get(key)
            .and_then(|v| expect_str(v, &format!("`{key}`"), diagnostics))
    }

    /// A required string argument; reports its absence.
    pub fn require_str(
        &self,
        key: &str,
        example: &str,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Option<&'t StrLit> {
        if self.get(key).is_none() {
            diagnostics.push(
                Diagnostic::error(self.tag.span, format!("{} needs `{key}=`", self.describe()))
                    .expected(example.to_owned()),
            );
            return None;
        }
        self.get_str(key, diagnostics)
    }

    pub fn get_bool(&self, key: &str, diagnostics: &mut Vec<Diagnostic>) -> Option<bool> {
        let value = self.get(key)?;
        let text = value_text(value);
        match text {
            "true" => Some(true),
            "false" => Some(false),
            _ => {
                diagnostics.push(
                    Diagnostic::error(value.span(), format!("`{key}` must be `true` or `false`"))
                        .expected("`true` or `false`"),
                );
                None
            }
        }
    }
}

/// The text of a value, quoted or not.
pub fn value_text(value: &ArgValue) -> &str {
    match value {
        ArgValue::Str(s) => &s.value,
        ArgValue::Bare(b) => &b.value,
        ArgValue::Empty(_) => "",
    }
}

pub fn expect_str<'v>(
    value: &'v ArgValue,
    what: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<&'v StrLit> {
    match value {
        ArgValue::Str(s) => Some(s),
        other => {
            diagnostics.push(
                Diagnostic::error(other.span(), format!("{what} must be a quoted string"))
                    .expected(format!("\"{}\"", value_text(other))),
            );
            None
        }
    }
}

pub fn backticked(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Splits `"a, b ,c"` into names with their spans inside the string.
pub fn split_list(lit: &StrLit) -> Vec<Spanned<String>> {
    let mut out = Vec::new();
    let mut offset = 0;
    for part in lit.value.split(',') {
        let leading = part.len() - part.trim_start().len();
        let name = part.trim();
        if !name.is_empty() {
            let start = offset + leading;
            out.push(Spanned::new(
                name.to_owned(),
                lit.sub_span(start, start + name.len()),
            ));
        }
        offset += part.len() + 1;
    }
    out
}
