//! Ids for work that is not recorded in the run ledger (`runi contract
//! validate`, `synth`): the UTC time and six random hex digits. They name
//! the work in DLQ rows (`_runink.run_id`) and temporary files; recorded
//! runs take their ids from the ledger instead.

pub fn new_run_id() -> String {
    let mut tail = [0u8; 3];
    // Without randomness the time alone still names the work.
    let _ = getrandom::fill(&mut tail);
    format!(
        "{}-{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
        hex::encode(tail)
    )
}
