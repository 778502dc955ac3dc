//! The file's outline: its feature and, per scenario, the header tags and
//! the body lines in order. Lines that belong nowhere are reported here.

use crate::ast::{Document, ItemKind, Keyword, Tag};
use crate::diagnostic::Diagnostic;
use crate::span::{Span, Spanned};
use crate::structure::{Region, regions};

pub struct Outline<'d> {
    pub feature: String,
    pub scenarios: Vec<Draft<'d>>,
}

pub struct Draft<'d> {
    pub name: &'d Spanned<String>,
    pub header: Vec<&'d Tag>,
    pub body: Vec<BodyLine<'d>>,
    /// A line of this scenario did not parse; checks that the whole
    /// scenario has something are then skipped, as that line may hold it.
    pub has_invalid_lines: bool,
}

pub enum BodyLine<'d> {
    Tag(&'d Tag),
    Prose(Keyword, &'d Spanned<String>),
}

pub fn outline<'d>(doc: &'d Document, diagnostics: &mut Vec<Diagnostic>) -> Outline<'d> {
    let mut feature: Option<&Spanned<String>> = None;
    let mut scenarios: Vec<Draft<'d>> = Vec::new();
    let mut pending_header: Vec<(usize, &Tag)> = Vec::new();

    for (item, region) in doc.items.iter().zip(regions(doc)) {
        match (&item.kind, region) {
            (ItemKind::Feature { name }, _) => {
                if feature.is_some() {
                    diagnostics.push(
                        Diagnostic::error(item.span, "a file holds one `Feature:`")
                            .expected("`Scenario:` blocks under the one feature")
                            .help("move these scenarios into a file of their own"),
                    );
                } else {
                    if name.value.is_empty() {
                        diagnostics.push(
                            Diagnostic::error(item.span, "the feature has no name")
                                .expected("`Feature: NAME`"),
                        );
                    }
                    feature = Some(name);
                }
            }
            (ItemKind::Scenario { name }, _) => {
                if feature.is_none() {
                    diagnostics.push(
                        Diagnostic::error(item.span, "`Scenario:` before any `Feature:`")
                            .expected("a `Feature: NAME` line at the top of the file"),
                    );
                }
                if name.value.is_empty() {
                    diagnostics.push(
                        Diagnostic::error(item.span, "the scenario has no name")
                            .expected("`Scenario: NAME`"),
                    );
                }
                if scenarios.iter().any(|s| s.name.value == name.value) {
                    diagnostics.push(
                        Diagnostic::error(
                            name.span,
                            format!("a second scenario is named `{}`", name.value),
                        )
                        .expected("a name that no other scenario in this file has"),
                    );
                }
                let n = scenarios.len();
                let header = pending_header
                    .drain(..)
                    .filter(|(owner, _)| *owner == n)
                    .map(|(_, tag)| tag)
                    .collect();
                scenarios.push(Draft {
                    name,
                    header,
                    body: Vec::new(),
                    has_invalid_lines: false,
                });
            }
            (ItemKind::Tags(tags), Region::Header(n)) => {
                pending_header.extend(tags.iter().map(|t| (n, t)));
            }
            (ItemKind::Tags(tags), Region::Body(_)) => {
                if let Some(draft) = scenarios.last_mut() {
                    draft.body.extend(tags.iter().map(BodyLine::Tag));
                }
            }
            (ItemKind::Prose { keyword, text }, Region::Body(_)) => {
                if let Some(draft) = scenarios.last_mut() {
                    draft.body.push(BodyLine::Prose(*keyword, text));
                }
            }
            (ItemKind::Invalid, Region::Body(_)) => {
                if let Some(draft) = scenarios.last_mut() {
                    draft.has_invalid_lines = true;
                }
            }
            (ItemKind::Tags(_) | ItemKind::Prose { .. }, _) => {
                let what = if matches!(item.kind, ItemKind::Tags(_)) {
                    "this tag stands outside any scenario"
                } else {
                    "this line stands outside any scenario"
                };
                diagnostics.push(
                    Diagnostic::error(item.span, what)
                        .expected("tags directly above `Scenario:` or lines inside a scenario"),
                );
            }
            _ => {}
        }
    }

    let first_line = doc
        .items
        .iter()
        .find(|i| !matches!(i.kind, ItemKind::Blank | ItemKind::Comment(_)))
        .map_or(Span::default(), |i| i.span);
    if feature.is_none() && scenarios.is_empty() {
        diagnostics.push(
            Diagnostic::error(first_line, "the file holds no `Feature:`")
                .expected("`Feature: NAME` followed by at least one `Scenario: NAME`"),
        );
    } else if scenarios.is_empty() {
        diagnostics.push(
            Diagnostic::error(
                feature.map_or(first_line, |f| f.span),
                "the feature holds no `Scenario:`",
            )
            .expected("at least one `Scenario: NAME` with its tags"),
        );
    }
    Outline {
        feature: feature.map(|f| f.value.clone()).unwrap_or_default(),
        scenarios,
    }
}
