//! `runi contract diff OLD NEW`: every change between two versions of a
//! contract, each classified as compatible or breaking for readers.

use runink_contract::{Change, Impact, diff as diff_contracts};

use super::contract::load_valid;
use crate::cli::{ContractDiffArgs, FailOn, GlobalOptions};
use crate::exit::{Exit, Failure, Outcome};
use crate::output::print_json;

pub fn diff(global: &GlobalOptions, args: &ContractDiffArgs) -> Outcome {
    let old = load_valid(&args.old)?;
    let new = load_valid(&args.new)?;
    let changes = diff_contracts(&old, &new);
    let breaking = changes
        .iter()
        .filter(|c| c.impact == Impact::Breaking)
        .count();
    let compatible = changes.len() - breaking;
    let same_hash = old.hash == new.hash;
    if global.json {
        print_json(&serde_json::json!({
            "old": { "file": args.old.display().to_string(), "hash": old.hash.to_string() },
            "new": { "file": args.new.display().to_string(), "hash": new.hash.to_string() },
            "identical": same_hash,
            "breaking": breaking,
            "compatible": compatible,
            "changes": changes,
        }))
        .map_err(Failure::infra)?;
    } else if !global.quiet {
        out!("{}", render(&changes, same_hash, breaking, compatible));
    }
    let fail = match args.fail_on {
        FailOn::Never => false,
        FailOn::Breaking => breaking > 0,
        FailOn::Any => !changes.is_empty() || !same_hash,
    };
    Ok(if fail { Exit::Failures } else { Exit::Ok })
}

fn render(changes: &[Change], same_hash: bool, breaking: usize, compatible: usize) -> String {
    let mut out = String::new();
    if changes.is_empty() {
        out.push_str(if same_hash {
            "no changes: the contracts have the same canonical hash\n"
        } else {
            "no changes to objects, columns, types, rules or classifications \
             (descriptions or other fields differ, so the hashes do)\n"
        });
        return out;
    }
    for change in changes {
        let place = match (&change.object, &change.column) {
            (object, Some(column)) => format!("{object}.{column}"),
            (object, None) if object.is_empty() => "(contract)".to_owned(),
            (object, None) => object.clone(),
        };
        let shown = |v: &Option<String>| v.as_deref().map_or("-".to_owned(), |v| format!("`{v}`"));
        out.push_str(&format!(
            "{:<10}  {place}  {}: {} -> {}  ({})\n",
            change.impact.name(),
            change.aspect,
            shown(&change.old),
            shown(&change.new),
            change.reason
        ));
    }
    out.push_str(&format!(
        "{} change{}: {breaking} breaking, {compatible} compatible\n",
        changes.len(),
        if changes.len() == 1 { "" } else { "s" }
    ));
    out
}
