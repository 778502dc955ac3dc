//! What a run submitted to a cluster brings with it, so that any node's
//! agent can run it: the scenario's text, the texts of the files its
//! compilation read (contracts, named steps), and the run's settings.
//! The Barn keeps a run's bundle until the run ends, then forgets it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A scenario as its submitter compiled it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioBundle {
    /// The scenario file as the submitter named it (for messages).
    pub file: String,
    /// The scenario file's folder on the submitting machine, absolute.
    /// Data paths in the scenario are relative to it, on the node that
    /// runs it: shared storage, or one machine.
    pub base_dir: String,
    /// The scenario file's text.
    pub source: String,
    /// Which scenario of the file to run.
    pub scenario: String,
    /// `$RUNINK_STEPS_PATH` as the submitter had it.
    pub steps_path: Vec<String>,
    /// Every file the compiler read as text, by its absolute path.
    pub files: BTreeMap<String, String>,
    pub settings: RunSettings,
}

impl ScenarioBundle {
    /// Bytes of text the bundle carries, as its bound counts them.
    pub fn text_bytes(&self) -> usize {
        let files: usize = self.files.iter().map(|(k, v)| k.len() + v.len()).sum();
        let steps: usize = self.steps_path.iter().map(String::len).sum();
        self.file.len()
            + self.base_dir.len()
            + self.source.len()
            + self.scenario.len()
            + steps
            + files
    }
}

/// The engine settings a submitter chose (`runi run`'s options).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSettings {
    pub batch_rows_max: u32,
    pub queue_len_max: u32,
    pub unique_keys_max: u64,
    pub all_violations: bool,
    pub block_on_drift: bool,
    /// Confine step programs in slices (`--isolation slice`).
    pub isolated: bool,
    /// Rows a `sql` step may hold (`--sql-rows-max`); `None`: the engine's
    /// default (bundles made before the option have none).
    #[serde(default)]
    pub sql_rows_max: Option<u64>,
}
