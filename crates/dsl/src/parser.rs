//! The scenario parser: source text in, a syntax tree and diagnostics out.
//! It never fails and never panics: a line it cannot read becomes an
//! `Invalid` item with a diagnostic, and parsing goes on with the next line.

use crate::ast::{Arg, ArgValue, Document, Item, ItemKind, Keyword, StrLit, Tag};
use crate::diagnostic::Diagnostic;
use crate::span::{Span, Spanned};
use crate::suggest::did_you_mean;

/// Deepest nesting of tags inside tag arguments (`@source("x" @meta(...))`).
const TAG_NESTING_MAX: usize = 1;

pub fn parse(source: &str) -> (Document, Vec<Diagnostic>) {
    let mut parser = Parser {
        src: source,
        // A byte order mark (Windows editors write one) is not text.
        pos: if source.starts_with('\u{feff}') {
            '\u{feff}'.len_utf8()
        } else {
            0
        },
        diagnostics: Vec::new(),
        in_description: false,
    };
    let mut items = Vec::new();
    while parser.pos < source.len() {
        items.push(parser.line());
    }
    (Document { items }, parser.diagnostics)
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    diagnostics: Vec<Diagnostic>,
    /// After `Feature:` and before anything else, free text is its description.
    in_description: bool,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn rest_of_line(&self) -> &'a str {
        let rest = &self.src[self.pos..];
        let end = rest.find('\n').unwrap_or(rest.len());
        rest[..end].trim_end_matches('\r')
    }

    /// Spaces, tabs and a carriage return that ends no line (a lone `\r`
    /// is blank like a space: read as text, it was dropped by `runi fmt`,
    /// which changed what the line meant).
    fn skip_inline_space(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\r')) {
            self.pos += 1;
        }
    }

    /// Inside tag arguments a tag may continue on the next lines.
    fn skip_any_space(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\r' | '\n')) {
            self.pos += 1;
        }
    }

    fn skip_to_next_line(&mut self) {
        match self.src[self.pos..].find('\n') {
            Some(i) => self.pos += i + 1,
            None => self.pos = self.src.len(),
        }
    }

    /// After a bad tag, go on at the next line; if the tag ran onto later
    /// lines, go on at the line where reading stopped, which may be fine.
    fn resume_after_error(&mut self, tag_start: usize) {
        let line_start = self.src[..self.pos].rfind('\n').map_or(0, |i| i + 1);
        if line_start > tag_start {
            self.pos = line_start;
        } else {
            self.skip_to_next_line();
        }
    }

    fn error(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn line(&mut self) -> Item {
        let line_start = self.pos;
        self.skip_inline_space();
        let text = self.rest_of_line();
        let text_start = self.pos;
        let text_end = text_start + text.len();
        let item = |kind: ItemKind| Item {
            kind,
            span: Span::new(text_start, text_end),
            trailing_comment: None,
        };
        // Any whitespace counts as blank, not only spaces and tabs (found by fuzzing:
        // a line of `\u{b}` read as description text and did not format stably).
        if text.trim().is_empty() {
            self.skip_to_next_line();
            return Item {
                kind: ItemKind::Blank,
                span: Span::new(line_start, line_start),
                trailing_comment: None,
            };
        }
        if let Some(comment) = text.strip_prefix('#') {
            self.skip_to_next_line();
            return item(ItemKind::Comment(comment.trim_end().to_owned()));
        }
        if text.starts_with("---") && text.trim_end().chars().all(|c| c == '-') {
            self.skip_to_next_line();
            return item(ItemKind::Separator);
        }
        if text.starts_with('@') {
            self.in_description = false;
            return self.tag_line();
        }
        if let Some(name) = text.strip_prefix("Feature:") {
            self.skip_to_next_line();
            self.in_description = true;
            let name = spanned_trimmed(name, text_start + "Feature:".len());
            return item(ItemKind::Feature { name });
        }
        if let Some(name) = text.strip_prefix("Scenario:") {
            self.skip_to_next_line();
            self.in_description = false;
            let name = spanned_trimmed(name, text_start + "Scenario:".len());
            return item(ItemKind::Scenario { name });
        }
        if let Some((keyword, rest)) = prose_keyword(text) {
            self.skip_to_next_line();
            self.in_description = false;
            let offset = text_start + keyword.as_str().len();
            let text = spanned_trimmed(rest, offset);
            return item(ItemKind::Prose { keyword, text });
        }
        if self.in_description {
            self.warn_keyword_in_another_case(text, text_start);
            self.skip_to_next_line();
            return item(ItemKind::Description(text.trim_end().to_owned()));
        }
        self.unknown_line(text, text_start);
        self.skip_to_next_line();
        item(ItemKind::Invalid)
    }

    /// A description line that starts with `scenario:` (any case but the
    /// keyword's own) is most likely a scenario whose keyword was
    /// mistyped: it is read as description, and the scenario's tags then
    /// stand outside any scenario. Say so where it happened.
    fn warn_keyword_in_another_case(&mut self, text: &str, start: usize) {
        let word_len = text.find(char::is_whitespace).unwrap_or(text.len());
        let word = &text[..word_len];
        let Some(keyword) = ["Scenario:", "Feature:"]
            .into_iter()
            .find(|k| word.eq_ignore_ascii_case(k) && word != *k)
        else {
            return;
        };
        self.error(
            Diagnostic::warning(
                Span::new(start, start + word_len),
                format!("`{word}` is read as the feature's description"),
            )
            .help(format!(
                "keywords are case-sensitive: did you mean `{keyword}`?"
            )),
        );
    }

    fn unknown_line(&mut self, text: &str, start: usize) {
        let word_len = text.find(|c: char| c.is_whitespace()).unwrap_or(text.len());
        let word = &text[..word_len];
        // A space that is not one (pasted from a web page or a word
        // processor) is invisible in the line: name it.
        let look_alike = text
            .char_indices()
            .take_while(|(at, _)| *at <= word_len)
            .find(|(_, c)| look_alike_space(*c).is_some());
        if let Some((offset, space)) = look_alike {
            let at = start + offset;
            let message = match text[..offset].trim() {
                "" => format!("unexpected {} at the start of a line", shown_char(space)),
                before => format!(
                    "`{before}` is followed by a {}, not a plain space",
                    shown_char(space)
                ),
            };
            self.error(
                Diagnostic::error(Span::new(at, at + space.len_utf8()), message)
                    .expected("spaces or tabs")
                    .help(LOOK_ALIKE_HELP),
            );
            return;
        }
        let keywords = [
            "Feature:",
            "Scenario:",
            "Given",
            "When",
            "Then",
            "And",
            "But",
            "Do",
        ];
        let help = did_you_mean(word, keywords.iter().copied());
        let help = help.or_else(|| {
            (word == "Background:" || word == "Scenario" || word.starts_with("Examples"))
                .then(|| "Runink scenarios have no Background or Examples blocks".to_owned())
        });
        self.error(
            Diagnostic::error(
                Span::new(start, start + word_len.max(1)),
                format!("unexpected `{word}` at the start of a line"),
            )
            .expected("a tag (`@step(...)`), `Scenario:`, a Given/When/Then line or a `#` comment")
            .help_opt(help),
        );
    }

    fn tag_line(&mut self) -> Item {
        let start = self.pos;
        let mut tags = Vec::new();
        loop {
            match self.tag(0) {
                Ok(tag) => tags.push(tag),
                Err(diagnostic) => {
                    self.error(diagnostic);
                    let span = Span::new(start, self.pos);
                    self.resume_after_error(start);
                    return Item {
                        kind: ItemKind::Invalid,
                        span,
                        trailing_comment: None,
                    };
                }
            }
            self.skip_inline_space();
            match self.peek() {
                Some('@') => continue,
                Some('#') => {
                    let comment = self.rest_of_line()[1..].trim_end().to_owned();
                    let span = Span::new(start, self.pos);
                    self.skip_to_next_line();
                    return Item {
                        kind: ItemKind::Tags(tags),
                        span,
                        trailing_comment: Some(comment),
                    };
                }
                None | Some('\n' | '\r') => {
                    let span = Span::new(start, self.pos);
                    self.skip_to_next_line();
                    return Item {
                        kind: ItemKind::Tags(tags),
                        span,
                        trailing_comment: None,
                    };
                }
                Some(other) => {
                    let at = self.pos;
                    self.error(
                        Diagnostic::error(
                            Span::new(at, at + other.len_utf8()),
                            format!("unexpected `{other}` after a tag"),
                        )
                        .expected("another tag, a `#` comment or the end of the line"),
                    );
                    let span = Span::new(start, self.pos);
                    self.skip_to_next_line();
                    return Item {
                        kind: ItemKind::Invalid,
                        span,
                        trailing_comment: None,
                    };
                }
            }
        }
    }

    /// `@name` or `@name(args)`; the cursor is on `@`.
    fn tag(&mut self, depth: usize) -> Result<Tag, Diagnostic> {
        let start = self.pos;
        self.bump();
        let name_start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            self.pos += 1;
        }
        let name = &self.src[name_start..self.pos];
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(Diagnostic::error(
                Span::new(start, self.pos.max(start + 1)),
                "a tag needs a name after `@`",
            )
            .expected("a tag such as `@step(\"filter\", where=\"amount > 0\")`"));
        }
        let name = Spanned::new(name.to_owned(), Span::new(name_start, self.pos));
        let mut args = Vec::new();
        if self.peek() == Some('(') {
            self.bump();
            args = self.args(depth)?;
        }
        Ok(Tag {
            name,
            args,
            span: Span::new(start, self.pos),
        })
    }

    /// Arguments up to and including the closing `)`.
    fn args(&mut self, depth: usize) -> Result<Vec<Arg>, Diagnostic> {
        let open = self.pos - 1;
        let mut args = Vec::new();
        loop {
            self.skip_space_in_args(open)?;
            match self.peek() {
                None => {
                    return Err(Diagnostic::error(
                        Span::new(open, open + 1),
                        "this `(` is never closed",
                    )
                    .expected("`)` after the last argument"));
                }
                Some(')') => {
                    self.bump();
                    return Ok(args);
                }
                Some(_) => args.extend(self.arg(depth)?),
            }
            self.skip_space_in_args(open)?;
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some(')') => {}
                // Original-docs spellings separate some arguments by a space:
                // `@sink("URI" when "EXPR")`, `@source("URI" @meta(...))`.
                Some('@') => {}
                Some(_) if self.at_legacy_keyword() => {}
                Some(other) => {
                    return Err(Diagnostic::error(
                        Span::new(self.pos, self.pos + other.len_utf8()),
                        format!("unexpected {} in tag arguments", shown_char(other)),
                    )
                    .expected("`,` between arguments or `)` to close the tag")
                    .help_opt(look_alike_space(other).map(|_| LOOK_ALIKE_HELP.to_owned())));
                }
                None => {}
            }
        }
    }

    /// Skips spaces and line breaks between arguments; a line that starts
    /// something new means the `(` at `open` was never closed.
    fn skip_space_in_args(&mut self, open: usize) -> Result<(), Diagnostic> {
        let before = self.pos;
        self.skip_any_space();
        let crossed_line = self.src[before..self.pos].contains('\n');
        if crossed_line && self.starts_new_line_item() {
            return Err(
                Diagnostic::error(Span::new(open, open + 1), "this `(` is never closed")
                    .expected("`)` after the last argument"),
            );
        }
        Ok(())
    }

    /// Whether the cursor, at the start of a line, stands on something that
    /// cannot continue tag arguments: a tag, a comment or a keyword line.
    fn starts_new_line_item(&self) -> bool {
        let rest = &self.src[self.pos..];
        rest.starts_with(['@', '#'])
            || rest.starts_with("Feature:")
            || rest.starts_with("Scenario:")
            || prose_keyword(rest).is_some()
    }

    fn at_legacy_keyword(&self) -> bool {
        let rest = &self.src[self.pos..];
        ["when", "with"].iter().any(|word| {
            rest.strip_prefix(word)
                .is_some_and(|after| after.trim_start_matches([' ', '\t']).starts_with('"'))
        })
    }

    /// A value in single quotes (`'csv://a.csv'`), as SQL and YAML write
    /// strings: refused with the double-quoted form to write instead.
    fn single_quoted(&self) -> Diagnostic {
        let rest = &self.src[self.pos..];
        let line_end = rest.find('\n').unwrap_or(rest.len());
        let close = rest[1..line_end].find('\'').map(|i| i + 2);
        let len = close.unwrap_or(1);
        let inner = close.map_or("…", |end| &rest[1..end - 1]);
        Diagnostic::error(
            Span::new(self.pos, self.pos + len),
            "tag arguments are written in double quotes",
        )
        .expected(format!("\"{inner}\""))
    }

    /// One argument; original-docs forms may expand to several.
    fn arg(&mut self, depth: usize) -> Result<Vec<Arg>, Diagnostic> {
        let start = self.pos;
        match self.peek() {
            Some('\'') => Err(self.single_quoted()),
            Some('"') => {
                let value = self.string()?;
                Ok(vec![Arg {
                    key: None,
                    span: value.span,
                    value: ArgValue::Str(value),
                }])
            }
            Some('@') => self.nested_tag(depth),
            _ => {
                let word = self.bare_token();
                if word.value.is_empty() {
                    let found = self.peek().unwrap_or(' ');
                    return Err(Diagnostic::error(
                        Span::new(start, start + found.len_utf8()),
                        format!("unexpected {} in tag arguments", shown_char(found)),
                    )
                    .expected("a quoted string, `key=value`, or `)`")
                    .help_opt(look_alike_space(found).map(|_| LOOK_ALIKE_HELP.to_owned())));
                }
                self.skip_inline_space();
                if self.peek() == Some('=') {
                    self.bump();
                    return self.keyed_value(word).map(|arg| vec![arg]);
                }
                if matches!(word.value.as_str(), "when" | "with") && self.peek() == Some('"') {
                    return self.legacy_keyword_arg(word);
                }
                Ok(vec![Arg {
                    key: None,
                    span: word.span,
                    value: ArgValue::Bare(word),
                }])
            }
        }
    }

    fn keyed_value(&mut self, key: Spanned<String>) -> Result<Arg, Diagnostic> {
        if !is_key(&key.value) {
            return Err(Diagnostic::error(
                key.span,
                format!("`{}` is not a valid argument name", key.value),
            )
            .expected("a name of letters, digits and `_`, like `where` or `meta.region`"));
        }
        self.skip_inline_space();
        let value = match self.peek() {
            Some('"') => ArgValue::Str(self.string()?),
            Some('\'') => return Err(self.single_quoted()),
            Some(',' | ')') | None => ArgValue::Empty(Span::new(self.pos, self.pos)),
            Some(_) => {
                let token = self.bare_token();
                if token.value.is_empty() {
                    let found = self.peek().unwrap_or(' ');
                    return Err(Diagnostic::error(
                        Span::new(self.pos, self.pos + found.len_utf8()),
                        format!("unexpected `{found}` after `{}=`", key.value),
                    )
                    .expected("a quoted string, a number, `true` or `false`"));
                }
                ArgValue::Bare(token)
            }
        };
        Ok(Arg {
            span: key.span.to(value.span()),
            key: Some(key),
            value,
        })
    }

    /// `when "EXPR"` and `with "role=ops"`.
    fn legacy_keyword_arg(&mut self, word: Spanned<String>) -> Result<Vec<Arg>, Diagnostic> {
        let value = self.string()?;
        if word.value == "when" {
            return Ok(vec![Arg {
                key: Some(word.clone()),
                span: word.span.to(value.span),
                value: ArgValue::Str(value),
            }]);
        }
        let mut args = Vec::new();
        let mut offset = 0;
        for pair in value.value.split(',') {
            let pair_span = value.sub_span(offset, offset + pair.len());
            offset += pair.len() + 1;
            let Some((key, val)) = pair.split_once('=') else {
                return Err(
                    Diagnostic::error(pair_span, format!("`{pair}` is not `key=value`"))
                        .expected("`with \"role=NAME\"`"),
                );
            };
            args.push(Arg {
                key: Some(Spanned::new(key.trim().to_owned(), pair_span)),
                value: ArgValue::Str(StrLit {
                    value: val.trim().to_owned(),
                    span: pair_span,
                    verbatim: false,
                }),
                span: pair_span,
            });
        }
        Ok(args)
    }

    /// `@meta(k=v, ...)` becomes `meta.k=v`; `@window(...)` becomes `window="..."`.
    fn nested_tag(&mut self, depth: usize) -> Result<Vec<Arg>, Diagnostic> {
        if depth >= TAG_NESTING_MAX {
            return Err(Diagnostic::error(
                Span::new(self.pos, self.pos + 1),
                "tags nest only one level deep",
            )
            .expected("`@meta(...)` or `@window(...)` directly inside a tag"));
        }
        let tag = self.tag(depth + 1)?;
        match tag.name.value.as_str() {
            "meta" => tag
                .args
                .into_iter()
                .map(|arg| match arg.key {
                    Some(key) => Ok(Arg {
                        key: Some(Spanned::new(format!("meta.{}", key.value), key.span)),
                        value: arg.value,
                        span: arg.span,
                    }),
                    None => Err(
                        Diagnostic::error(arg.span, "`@meta` takes `key=value` arguments")
                            .expected("`@meta(region=\"us\")`"),
                    ),
                })
                .collect(),
            "window" => {
                let words: Vec<String> = tag.args.iter().map(Arg::window_word).collect();
                Ok(vec![Arg {
                    key: Some(Spanned::new("window".to_owned(), tag.name.span)),
                    value: ArgValue::Str(StrLit {
                        value: words.join(","),
                        span: tag.span,
                        verbatim: false,
                    }),
                    span: tag.span,
                }])
            }
            other => Err(Diagnostic::error(
                tag.name.span,
                format!("`@{other}` cannot stand inside another tag"),
            )
            .expected("`@meta(...)` or `@window(...)`")),
        }
    }

    fn bare_token(&mut self) -> Spanned<String> {
        let start = self.pos;
        while self.peek().is_some_and(|c| {
            !(c.is_whitespace() || matches!(c, ',' | '(' | ')' | '"' | '=' | '@' | '#'))
        }) {
            self.bump();
        }
        Spanned::new(
            self.src[start..self.pos].to_owned(),
            Span::new(start, self.pos),
        )
    }

    /// A double-quoted string with `\"`, `\\`, `\n` and `\t` escapes, on one line.
    fn string(&mut self) -> Result<StrLit, Diagnostic> {
        let start = self.pos;
        self.bump();
        let mut value = String::new();
        let mut verbatim = true;
        loop {
            match self.bump() {
                None | Some('\n') => {
                    return Err(Diagnostic::error(
                        Span::new(start, start + 1),
                        "this string is never closed",
                    )
                    .expected("a closing `\"` on the same line"));
                }
                Some('"') => break,
                Some('\\') => {
                    verbatim = false;
                    let escape_start = self.pos - 1;
                    match self.bump() {
                        Some('"') => value.push('"'),
                        Some('\\') => value.push('\\'),
                        Some('n') => value.push('\n'),
                        Some('t') => value.push('\t'),
                        other => {
                            let shown = other.map_or(String::new(), String::from);
                            return Err(Diagnostic::error(
                                Span::new(escape_start, self.pos),
                                format!("unknown escape `\\{shown}` in a string"),
                            )
                            .expected("one of `\\\"`, `\\\\`, `\\n`, `\\t`"));
                        }
                    }
                }
                Some(c) => value.push(c),
            }
        }
        Ok(StrLit {
            value,
            span: Span::new(start, self.pos),
            verbatim,
        })
    }
}

/// What to do about a look-alike space.
const LOOK_ALIKE_HELP: &str = "it looks like a space but is not one (web pages and word processors paste these); type a plain space instead";

/// The name of a character that looks like a space, or is invisible, but
/// is not the space or tab the language reads.
fn look_alike_space(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{00A0}' => "no-break space",
        '\u{2000}'..='\u{200A}' => "typographic space",
        '\u{200B}' => "zero-width space",
        '\u{202F}' => "narrow no-break space",
        '\u{205F}' => "mathematical space",
        '\u{3000}' => "ideographic space",
        '\u{FEFF}' => "zero-width no-break space",
        _ => return None,
    })
}

/// A character for a message: quoted, or by name and code point when it
/// could not be seen.
fn shown_char(c: char) -> String {
    match look_alike_space(c) {
        Some(name) => format!("{name} (U+{:04X})", u32::from(c)),
        None if c.is_whitespace() || c.is_control() => format!("U+{:04X}", u32::from(c)),
        None => format!("`{c}`"),
    }
}

fn is_key(text: &str) -> bool {
    text.split('.').all(|part| {
        part.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

fn prose_keyword(text: &str) -> Option<(Keyword, &str)> {
    Keyword::ALL.iter().find_map(|keyword| {
        let rest = text.strip_prefix(keyword.as_str())?;
        (rest.is_empty() || rest.starts_with([' ', '\t'])).then_some((*keyword, rest))
    })
}

/// `text` trimmed, with its span, given the offset where `text` starts.
fn spanned_trimmed(text: &str, offset: usize) -> Spanned<String> {
    let leading = text.len() - text.trim_start().len();
    let trimmed = text.trim();
    let start = offset + leading;
    Spanned::new(trimmed.to_owned(), Span::new(start, start + trimmed.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags_of(source: &str) -> Vec<Tag> {
        let (doc, diagnostics) = parse(source);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        doc.items
            .into_iter()
            .flat_map(|item| match item.kind {
                ItemKind::Tags(tags) => tags,
                _ => Vec::new(),
            })
            .collect()
    }

    fn keys(tag: &Tag) -> Vec<String> {
        tag.args
            .iter()
            .map(|a| a.key.as_ref().map_or("_".to_owned(), |k| k.value.clone()))
            .collect()
    }

    #[test]
    fn reads_lines_of_every_kind() {
        let source = "# top\nFeature: Orders\n  Some description.\n\n@herd(\"finance\")\nScenario: One\n  @step(\"filter\", where=\"a > 0\") # keep positive\n  Given the contract: c.yaml\n---\n";
        let (doc, diagnostics) = parse(source);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let kinds: Vec<_> = doc
            .items
            .iter()
            .map(|i| std::mem::discriminant(&i.kind))
            .collect();
        assert_eq!(kinds.len(), 9);
        assert!(
            matches!(doc.items[2].kind, ItemKind::Description(ref d) if d == "Some description.")
        );
        assert_eq!(
            doc.items[6].trailing_comment.as_deref(),
            Some(" keep positive")
        );
        assert!(matches!(doc.items[8].kind, ItemKind::Separator));
    }

    #[test]
    fn legacy_spellings_become_canonical_arguments() {
        let tags = tags_of(
            "@sink(\"jsonl://a\" when \"x > 1\")\n@sink(\"csv://b\" with \"role=ops\")\n@source(\"csv://c\" @meta(region=\"us\"))\n@source(\"csv://d\", @window(sliding:10m, every:2m))\n",
        );
        assert_eq!(keys(&tags[0]), ["_", "when"]);
        assert_eq!(keys(&tags[1]), ["_", "role"]);
        assert_eq!(keys(&tags[2]), ["_", "meta.region"]);
        assert_eq!(keys(&tags[3]), ["_", "window"]);
        let ArgValue::Str(window) = &tags[3].args[1].value else {
            panic!("window is a string")
        };
        assert_eq!(window.value, "sliding:10m,every:2m");
    }

    #[test]
    fn tags_may_span_lines_and_values_may_be_empty() {
        let tags = tags_of(
            "@step(\"derive\",\n  a=\"1\",\n  b=\"2\")\n@module(layer=\"bronze\", domain=)\n",
        );
        assert_eq!(keys(&tags[0]), ["_", "a", "b"]);
        assert!(matches!(tags[1].args[1].value, ArgValue::Empty(_)));
    }

    #[test]
    fn strings_unescape() {
        let tags = tags_of(r#"@step("sql", query="SELECT \"a\\b\" FROM input")"#);
        let ArgValue::Str(query) = &tags[0].args[1].value else {
            panic!("query is a string")
        };
        assert_eq!(query.value, r#"SELECT "a\b" FROM input"#);
        assert!(!query.verbatim);
    }

    #[test]
    fn bad_lines_are_reported_and_parsing_goes_on() {
        let (doc, diagnostics) = parse(
            "Feature: f\nScenario: s\n  Gven x\n  @step(\"a\"\n  @sink(\"b\") junk\n  Then ok\n",
        );
        assert_eq!(diagnostics.len(), 3, "{diagnostics:?}");
        assert!(
            diagnostics[0]
                .help
                .as_deref()
                .unwrap_or("")
                .contains("Given")
        );
        assert!(matches!(
            doc.items.last().map(|i| &i.kind),
            Some(ItemKind::Prose { .. })
        ));
    }
}
