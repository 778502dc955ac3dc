//! Which part of the file each line belongs to: the feature, a scenario's
//! header (tags above `Scenario:`), or a scenario's body. The formatter and
//! the compiler share this so that they never disagree.

use crate::ast::{Document, ItemKind};

/// Tags that build the pipeline and so belong in a scenario's body.
pub const PIPELINE_TAGS: [&str; 4] = ["source", "step", "sink", "dlq"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    /// Outside any scenario: the `Feature:` line, comments before it, stray lines.
    Top,
    /// Free text under `Feature:`.
    Description,
    /// Tag lines directly above the `Scenario:` line of scenario N (0-based).
    Header(usize),
    /// The `Scenario:` line of scenario N and everything under it.
    Body(usize),
}

pub fn regions(doc: &Document) -> Vec<Region> {
    let items = &doc.items;
    let mut regions = vec![Region::Top; items.len()];
    let scenario_lines: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, item)| matches!(item.kind, ItemKind::Scenario { .. }))
        .map(|(i, _)| i)
        .collect();

    let mut current = Region::Top;
    for (i, item) in items.iter().enumerate() {
        current = match (&item.kind, current) {
            (ItemKind::Feature { .. }, _) => Region::Top,
            (ItemKind::Description(_), _) => Region::Description,
            (ItemKind::Scenario { .. }, _) => {
                let n = scenario_lines.partition_point(|&line| line < i);
                Region::Body(n)
            }
            (_, Region::Description) => Region::Top,
            (_, other) => other,
        };
        regions[i] = if matches!(item.kind, ItemKind::Feature { .. }) {
            Region::Top
        } else {
            current
        };
    }

    for (n, &line) in scenario_lines.iter().enumerate() {
        let mut start = line;
        // `---` lines are ignored like comments: a tag above one still
        // heads the scenario below it.
        while start > 0
            && matches!(
                items[start - 1].kind,
                ItemKind::Tags(_) | ItemKind::Comment(_) | ItemKind::Separator
            )
        {
            start -= 1;
        }
        // Inside an earlier scenario, pipeline tags written just above the
        // next `Scenario:` still belong to the earlier one.
        if n > 0
            && let Some(last_pipeline) = (start..line)
                .rev()
                .find(|&i| has_pipeline_tag(&items[i].kind))
        {
            start = last_pipeline + 1;
        }
        for region in &mut regions[start..line] {
            *region = Region::Header(n);
        }
    }
    regions
}

fn has_pipeline_tag(kind: &ItemKind) -> bool {
    match kind {
        ItemKind::Tags(tags) => tags
            .iter()
            .any(|t| PIPELINE_TAGS.contains(&t.name.value.as_str())),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    #[test]
    fn splits_headers_from_bodies() {
        let source = "Feature: f\n  text\n\n@herd(\"a\")\nScenario: one\n  @source(\"csv://a.csv\")\n  @sink(\"csv://b.csv\")\n@herd(\"b\")\nScenario: two\n  Given x\n";
        let (doc, _) = parse(source);
        let regions = regions(&doc);
        assert_eq!(
            regions,
            vec![
                Region::Top,
                Region::Description,
                Region::Top,
                Region::Header(0),
                Region::Body(0),
                Region::Body(0),
                Region::Body(0),
                Region::Header(1),
                Region::Body(1),
                Region::Body(1),
            ]
        );
    }
}
