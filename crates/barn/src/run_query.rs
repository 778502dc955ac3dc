//! Which runs a listing returns: those in some statuses, of a scenario, in
//! a herd, or with a `dag_hash` that starts with some hex digits; the
//! newest first, up to a limit. Pure: `runi runs` filters an embedded
//! Barn's runs with it, and the REST API a cluster's.

use runink_model::HerdName;

use crate::state::{Run, RunStatus};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunQuery {
    /// Only runs in one of these statuses (any status when empty).
    pub statuses: Vec<RunStatus>,
    pub scenario: Option<String>,
    pub herd: Option<HerdName>,
    /// Only runs whose `dag_hash` starts with these (lowercase) hex digits.
    pub dag_hash_prefix: Option<String>,
    /// At most this many, the newest.
    pub limit: usize,
}

impl Default for RunQuery {
    /// Every run.
    fn default() -> Self {
        Self {
            statuses: Vec::new(),
            scenario: None,
            herd: None,
            dag_hash_prefix: None,
            limit: usize::MAX,
        }
    }
}

impl RunQuery {
    /// Whether it leaves out some runs (besides the limit).
    pub fn narrows(&self) -> bool {
        !self.statuses.is_empty()
            || self.scenario.is_some()
            || self.herd.is_some()
            || self.dag_hash_prefix.is_some()
    }

    pub fn admits(&self, run: &Run) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(&run.status))
            && self.scenario.as_ref().is_none_or(|s| *s == run.scenario)
            && self.herd.as_ref().is_none_or(|h| *h == run.herd)
            && self
                .dag_hash_prefix
                .as_ref()
                .is_none_or(|p| run.dag_hash.0.as_str().starts_with(p.as_str()))
    }

    /// `text` as a `dag_hash` prefix (lowercase), or `None` if it is not
    /// 1 to 64 hex digits.
    pub fn dag_hash_prefix(text: &str) -> Option<String> {
        let valid =
            !text.is_empty() && text.len() <= 64 && text.chars().all(|c| c.is_ascii_hexdigit());
        valid.then(|| text.to_ascii_lowercase())
    }

    /// The runs it admits among `runs` (in submission order), newest first,
    /// at most `limit`.
    pub fn newest_first<'a>(&self, runs: impl DoubleEndedIterator<Item = &'a Run>) -> Vec<Run> {
        runs.rev()
            .filter(|run| self.admits(run))
            .take(self.limit)
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use runink_model::{DagHash, Sha256Hex};

    use super::*;
    use crate::ids::RunId;
    use crate::state::{RunCounts, RunDetail};

    fn run(id: u64, scenario: &str, status: RunStatus) -> Run {
        Run {
            id: RunId(id),
            herd: HerdName::default_herd(),
            scenario: scenario.into(),
            version: 1,
            dag_hash: DagHash(Sha256Hex::from_digest(&[1; 32])),
            contracts: vec![],
            status,
            node: None,
            submitted_at_ms: id,
            placed_at_ms: None,
            started_at_ms: None,
            finished_at_ms: None,
            counts: RunCounts::default(),
            detail: RunDetail::default(),
            summary: String::new(),
            events_total: 0,
            events_dropped: 0,
        }
    }

    fn ids(runs: Vec<Run>) -> Vec<u64> {
        runs.iter().map(|r| r.id.0).collect()
    }

    #[test]
    fn a_query_keeps_the_newest_matching_runs_first() {
        let runs = [
            run(1, "orders", RunStatus::Succeeded),
            run(2, "orders", RunStatus::Failed),
            run(3, "users", RunStatus::Failed),
            run(4, "orders", RunStatus::Failed),
            run(5, "orders", RunStatus::Succeeded),
        ];
        let failed_orders = RunQuery {
            statuses: vec![RunStatus::Failed],
            scenario: Some("orders".into()),
            limit: 10,
            ..RunQuery::default()
        };
        assert!(failed_orders.narrows());
        assert_eq!(ids(failed_orders.newest_first(runs.iter())), [4, 2]);

        let newest_two = RunQuery {
            limit: 2,
            ..RunQuery::default()
        };
        assert!(!newest_two.narrows());
        assert_eq!(ids(newest_two.newest_first(runs.iter())), [5, 4]);

        let by_hash = RunQuery {
            dag_hash_prefix: Some(runs[0].dag_hash.0.as_str()[..6].to_owned()),
            ..RunQuery::default()
        };
        assert_eq!(ids(by_hash.newest_first(runs.iter())), [5, 4, 3, 2, 1]);
        assert_eq!(RunQuery::dag_hash_prefix("AB12").as_deref(), Some("ab12"));
        for bad in ["", "xyz", &"a".repeat(65)] {
            assert_eq!(RunQuery::dag_hash_prefix(bad), None, "{bad:?}");
        }
        let other_hash = RunQuery {
            dag_hash_prefix: Some("zz".into()),
            ..RunQuery::default()
        };
        assert!(other_hash.newest_first(runs.iter()).is_empty());
    }
}
