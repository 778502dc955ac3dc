//! The syntax tree of a scenario file: every line in order, comments and
//! prose included, so that `runi fmt` can rewrite a file without losing any.

use crate::span::{Span, Spanned};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Document {
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub kind: ItemKind,
    pub span: Span,
    /// A `# comment` after the tags on the same line.
    pub trailing_comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemKind {
    Blank,
    /// A whole-line comment: the text after `#`.
    Comment(String),
    /// A `---` line between scenarios (original-docs spelling), ignored.
    Separator,
    Feature {
        name: Spanned<String>,
    },
    /// Free text under `Feature:`.
    Description(String),
    Scenario {
        name: Spanned<String>,
    },
    Tags(Vec<Tag>),
    Prose {
        keyword: Keyword,
        text: Spanned<String>,
    },
    /// A line that did not parse; its diagnostic says why.
    Invalid,
}

/// The Gherkin step keywords; all of them introduce prose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    Given,
    When,
    Then,
    And,
    But,
    /// Original-docs spelling of `And`.
    Do,
}

impl Keyword {
    pub const ALL: [Keyword; 6] = [
        Keyword::Given,
        Keyword::When,
        Keyword::Then,
        Keyword::And,
        Keyword::But,
        Keyword::Do,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Keyword::Given => "Given",
            Keyword::When => "When",
            Keyword::Then => "Then",
            Keyword::And => "And",
            Keyword::But => "But",
            Keyword::Do => "Do",
        }
    }

    /// The spelling `runi fmt` writes.
    pub fn canonical(self) -> Keyword {
        match self {
            Keyword::Do => Keyword::And,
            other => other,
        }
    }
}

/// `@name(args)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub name: Spanned<String>,
    pub args: Vec<Arg>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    /// `None` for a positional argument.
    pub key: Option<Spanned<String>>,
    pub value: ArgValue,
    pub span: Span,
}

impl Arg {
    /// The argument as a window word: `5m`, `sliding:10m`, `every:2m`.
    /// `key=value` and `key:value` mean the same inside `@window(...)`.
    pub fn window_word(&self) -> String {
        let value = match &self.value {
            ArgValue::Str(s) => s.value.as_str(),
            ArgValue::Bare(b) => b.value.as_str(),
            ArgValue::Empty(_) => "",
        };
        match &self.key {
            Some(key) => format!("{}:{value}", key.value),
            None => value.to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgValue {
    Str(StrLit),
    /// An unquoted token: a number, `true`/`false`, or a window word like `sliding:10m`.
    Bare(Spanned<String>),
    /// `key=` with nothing after it: means unset.
    Empty(Span),
}

impl ArgValue {
    pub fn span(&self) -> Span {
        match self {
            ArgValue::Str(s) => s.span,
            ArgValue::Bare(b) => b.span,
            ArgValue::Empty(span) => *span,
        }
    }
}

/// A double-quoted string, unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrLit {
    pub value: String,
    /// Includes the quotes.
    pub span: Span,
    /// True when the source text held no escapes, so that offsets in `value`
    /// map one to one onto the source.
    pub verbatim: bool,
}

impl StrLit {
    /// The source span of `value[start..end]`, or the whole string when
    /// escapes make the mapping inexact.
    pub fn sub_span(&self, start: usize, end: usize) -> Span {
        if self.verbatim && end <= self.value.len() && start <= end {
            let content = self.span.start + 1;
            Span::new(content + start, content + end)
        } else {
            self.span
        }
    }
}
