//! Error messages of the query engine quote the value that failed
//! (`Cannot cast string '123-45-6789' to value of Int32 type`). When a
//! scenario has sensitive columns such a message must not carry the value
//! to the terminal, the run's log and the Barn: the engine does not say
//! which column the value came from, so every quoted value is hidden.

/// `message` with each single-quoted stretch replaced by `'***'`.
pub fn hide_quoted_values(message: &str) -> String {
    let mut hidden = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find('\'') {
        let Some(close) = rest[open + 1..].find('\'') else {
            break;
        };
        hidden.push_str(&rest[..open]);
        hidden.push_str("'***'");
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
    }
}
