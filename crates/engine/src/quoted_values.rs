//! Error messages of the query engine quote the value that failed
//! (`Cannot cast string '123-45-6789' to value of Int32 type`). When a
//! scenario has sensitive columns such a message must not carry the value
//! to the terminal, the run's log and the Barn: the engine does not say
//! which column the value came from, so every quoted value is hidden.

/// `message` with each single-quoted stretch replaced by `'***'`, and only
/// its first line: some errors quote the value unquoted on the lines after
/// (the regex library shows the pattern it could not parse).
pub fn hide_quoted_values(message: &str) -> String {
    let first_line = message.lines().next().unwrap_or_default();
    let mut hidden = hide_between(first_line, '\'');
    if message.lines().nth(1).is_some() {
        hidden.push_str(" (the rest of the message is withheld: it may quote a sensitive value)");
    }
    hidden
}

/// `message` as a failure shows it: hidden as [`hide_quoted_values`] does
/// when the scenario `hides_values` (it has sensitive columns), else whole.
pub fn shown(message: String, hides_values: bool) -> String {
    match hides_values {
        true => hide_quoted_values(&message),
        false => message,
    }
}

/// A line a program wrote on stderr, with every single- or double-quoted
/// stretch hidden: programs quote values either way (Python's `repr`,
/// JSON), and a program's stderr is kept in the run's record.
pub fn hide_quoted_text(line: &str) -> String {
    hide_between(&hide_between(line, '"'), '\'')
}

fn hide_between(message: &str, quote: char) -> String {
    let mut hidden = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find(quote) {
        let Some(close) = rest[open + 1..].find(quote) else {
            break;
        };
        hidden.push_str(&rest[..open]);
        hidden.push(quote);
        hidden.push_str("***");
        hidden.push(quote);
        rest = &rest[open + 1 + close + 1..];
    }
    hidden.push_str(rest);
    hidden
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_are_hidden_and_the_rest_is_kept() {
        assert_eq!(
            hide_quoted_values(
                "Cast error: Cannot cast string '123-45-6789' to value of Int32 type"
            ),
            "Cast error: Cannot cast string '***' to value of Int32 type"
        );
        assert_eq!(hide_quoted_values("'a' and 'b'"), "'***' and '***'");
        assert_eq!(
            hide_quoted_values("Divide by zero error"),
            "Divide by zero error"
        );
        // A lone quote has nothing after it to hide.
        assert_eq!(hide_quoted_values("it's"), "it's");
        assert_eq!(hide_quoted_values("'é' x"), "'***' x");
        let regex = "regex parse error:\n    SECRET(@x.com\n          ^\nerror: unclosed group";
        let shown = hide_quoted_values(regex);
        assert!(shown.starts_with("regex parse error:"), "{shown}");
        assert!(!shown.contains("SECRET"), "{shown}");
    }

    #[test]
    fn stderr_lines_hide_single_and_double_quoted_values() {
        assert_eq!(
            hide_quoted_text("ValueError: could not convert string to float: 'a@b.c'"),
            "ValueError: could not convert string to float: '***'"
        );
        assert_eq!(
            hide_quoted_text(r#"bad row {"email": "a@b.c"}"#),
            r#"bad row {"***": "***"}"#
        );
    }
}
