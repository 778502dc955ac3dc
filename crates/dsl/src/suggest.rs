//! "Did you mean ...?" hints for misspelled names.

/// The closest candidate to `word`, phrased as a hint, when one is close enough.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// The candidate nearest to `word` by edit distance, if within a third of its length.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (strsim::osa_distance(&lower, &c.to_lowercase()), c))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let steps = ["mask", "filter", "derive"];
        assert_eq!(closest("filtr", steps), Some("filter"));
        assert_eq!(closest("Filter", steps), Some("filter"));
        assert_eq!(closest("zzzzzz", steps), None);
        assert_eq!(closest("cvs", ["csv", "jsonl"]), Some("csv"));
    }
}
