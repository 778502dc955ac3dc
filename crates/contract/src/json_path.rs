//! Paths into a contract's data, written the way users read them
//! (`schema[0].properties[3].logicalType`). Schema errors and YAML positions
//! both build their paths here, so the two always agree on the spelling.

/// A path from the document root to one value, built segment by segment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct JsonPath {
    text: String,
    /// Where each segment starts in `text`; popping truncates to it.
    starts: Vec<usize>,
}

impl JsonPath {
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    pub(crate) fn push_key(&mut self, key: &str) {
        self.starts.push(self.text.len());
        if is_plain_key(key) {
            if !self.text.is_empty() {
                self.text.push('.');
            }
            self.text.push_str(key);
        } else {
            // A JSON string literal is an unambiguous bracketed key.
            self.text.push('[');
            self.text
                .push_str(&serde_json::Value::from(key).to_string());
            self.text.push(']');
        }
    }

    pub(crate) fn push_index(&mut self, index: usize) {
        self.starts.push(self.text.len());
        self.text.push('[');
        self.text.push_str(&index.to_string());
        self.text.push(']');
    }

    pub(crate) fn pop(&mut self) {
        if let Some(start) = self.starts.pop() {
            self.text.truncate(start);
        }
    }

    /// This path, then each enclosing path, ending with the root (`""`).
    pub(crate) fn self_and_ancestors(&self) -> impl Iterator<Item = &str> {
        let ends = std::iter::once(self.text.len()).chain(self.starts.iter().rev().copied());
        ends.map(|end| &self.text[..end])
    }
}

/// Keys that read unambiguously after a dot. Digits-only keys are bracketed
/// so that they never look like a list index.
fn is_plain_key(key: &str) -> bool {
    let mut chars = key.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$');
    first_ok && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spells_keys_and_indices() {
        let mut path = JsonPath::default();
        path.push_key("schema");
        path.push_index(0);
        path.push_key("properties");
        path.push_index(3);
        path.push_key("logicalType");
        assert_eq!(path.as_str(), "schema[0].properties[3].logicalType");
        path.pop();
        path.push_key("a key.with dots");
        assert_eq!(
            path.as_str(),
            r#"schema[0].properties[3]["a key.with dots"]"#
        );
        path.pop();
        path.push_key("0");
        assert_eq!(path.as_str(), r#"schema[0].properties[3]["0"]"#);
    }

    #[test]
    fn lists_ancestors_from_nearest_to_root() {
        let mut path = JsonPath::default();
        path.push_key("schema");
        path.push_index(1);
        path.push_key("name");
        let all: Vec<_> = path.self_and_ancestors().collect();
        assert_eq!(all, ["schema[1].name", "schema[1]", "schema", ""]);
    }
}
