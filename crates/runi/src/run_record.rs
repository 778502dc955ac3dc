//! The record of a run in the local state folder
//! (`<state>/runs/<run id>.json`), read by `runi runs`, `runi status` and
//! `runi logs`. This is the one place runs are stored; the embedded Barn
//! takes it over.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use runink_engine::RunReport;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunRecord {
    pub run_id: String,
    pub scenario: String,
    pub file: String,
    pub herd: String,
    pub dag_hash: String,
    /// (path, canonical hash) of each contract the run checked against.
    pub contracts: Vec<(String, String)>,
    pub started_at: String,
    pub ended_at: String,
    pub status: RunStatus,
    pub error: Option<String>,
    pub report: RunReport,
}

/// `20261126T093012Z-3f9a1c`: sortable by time, unique by its random tail.
pub fn new_run_id() -> String {
    let mut tail = [0u8; 3];
    // Without randomness the time alone still names the run.
    let _ = getrandom::fill(&mut tail);
    format!(
        "{}-{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
        hex::encode(tail)
    )
}

pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn runs_dir(state: &Path) -> PathBuf {
    state.join("runs")
}

/// Writes the record atomically (temporary file, then rename).
pub fn save_record(state: &Path, record: &RunRecord) -> anyhow::Result<()> {
    let folder = runs_dir(state);
    fs::create_dir_all(&folder).with_context(|| format!("cannot create `{}`", folder.display()))?;
    let target = folder.join(format!("{}.json", record.run_id));
    let temp = folder.join(format!(".{}.json.tmp", record.run_id));
    let mut file =
        fs::File::create(&temp).with_context(|| format!("cannot write `{}`", temp.display()))?;
    file.write_all(serde_json::to_string_pretty(record)?.as_bytes())?;
    file.sync_all()?;
    fs::rename(&temp, &target).with_context(|| format!("cannot write `{}`", target.display()))?;
    Ok(())
}
