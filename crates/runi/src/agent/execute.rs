//! One run on an agent: compile the bundle's scenario as its submitter
//! did (`crate::bundle::BundleLoader`), check that it is the plan that was
//! submitted (same `dag_hash`), run it with the engine, and say how it
//! ended as the run's record. Every failure becomes a failed run with its
//! reason: nothing here stops the agent.

use std::path::{Path, PathBuf};

use runink_barn::{NodeId, RunId, ScenarioBundle, unix_now_ms};
use runink_contract::Masker;
use runink_dsl::diagnostic::render;
use runink_dsl::{Colour, CompileOptions, compile};
use runink_engine::{RunRequest, execute as run_engine};
use runink_model::DagHash;
use runink_plan::Plan;

use crate::bundle::BundleLoader;
use crate::ledger::{RunFinish, RunStart};
use crate::run_settings::engine_options;
use crate::state_dir::mask_keys;

/// Runs the bundle's scenario on node `me`; `state_dir` holds the herds'
/// masking keys.
pub fn execute(
    me: NodeId,
    run: RunId,
    dag_hash: &DagHash,
    bundle: &ScenarioBundle,
    state_dir: &Path,
) -> RunFinish {
    // A client may not ask a node to run programs unconfined as the node's
    // user (root, often): the client checks this too, but a bundle may
    // come from any client holding a certificate.
    if !bundle.settings.isolated {
        let reason = format!(
            "node {me} runs remote scenarios in slices only; `--isolation none` is refused (run the scenario locally to opt out)"
        );
        return RunFinish::failed(reason, unix_now_ms());
    }
    let plan = match plan_of(me, dag_hash, bundle) {
        Ok(plan) => plan,
        Err(reason) => return RunFinish::failed(reason, unix_now_ms()),
    };
    let keys = match mask_keys(state_dir, plan.herd.as_str(), None) {
        Ok(keys) => keys,
        Err(e) => {
            let reason = format!(
                "node {me} cannot read herd `{}`'s masking keys in `{}`: {e:#}",
                plan.herd,
                state_dir.display()
            );
            return RunFinish::failed(reason, unix_now_ms());
        }
    };
    let start = RunStart::of(&plan, &bundle.file, bundle.settings.isolated, unix_now_ms());
    let base_dir = PathBuf::from(&bundle.base_dir);
    let mut options = engine_options(&bundle.settings);
    options.contract_texts = bundle.files.clone();
    let request = RunRequest {
        plan: &plan,
        base_dir: &base_dir,
        run_id: run.to_string(),
        masker: Masker::new(keys),
        options,
    };
    let (report, error) = match run_engine(request) {
        Ok(report) => (report, None),
        Err(failure) => (failure.report, Some(failure.error)),
    };
    let error_source = error
        .as_ref()
        .map(|e| e as &(dyn std::error::Error + 'static));
    RunFinish::from_report(&start, &report, error_source, unix_now_ms())
}

/// The bundle's scenario compiled here, if it is the plan submitted.
fn plan_of(me: NodeId, dag_hash: &DagHash, bundle: &ScenarioBundle) -> Result<Plan, String> {
    let options = CompileOptions {
        steps_path: bundle.steps_path.iter().map(PathBuf::from).collect(),
    };
    let compilation = compile(
        &bundle.file,
        &bundle.source,
        Path::new(&bundle.base_dir),
        &BundleLoader::new(&bundle.files),
        &options,
    );
    if let Some(error) = compilation.diagnostics.iter().find(|d| d.is_error()) {
        return Err(format!(
            "the scenario does not compile on node {me}:\n{}",
            render(&bundle.file, &bundle.source, error, Colour::Never)
        ));
    }
    let plan = compilation
        .plans
        .into_iter()
        .find(|plan| plan.scenario == bundle.scenario)
        .ok_or_else(|| {
            format!(
                "`{}` has no scenario `{}` on node {me}",
                bundle.file, bundle.scenario
            )
        })?;
    if plan.dag_hash != *dag_hash {
        return Err(format!(
            "on node {me} the scenario compiles to another plan (dag_hash {}, submitted {dag_hash}): a step's program differs on this node from the submitter's; install the same one, or run where it is",
            plan.dag_hash
        ));
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use runink_barn::{RunEnd, RunSettings};

    use super::*;

    #[test]
    fn a_bundle_asking_for_no_isolation_fails_without_running() {
        let bundle = ScenarioBundle {
            file: "s.dsl".into(),
            base_dir: "/nowhere".into(),
            source: String::new(),
            scenario: "s".into(),
            steps_path: Vec::new(),
            files: BTreeMap::new(),
            settings: RunSettings {
                batch_rows_max: 1,
                queue_len_max: 1,
                unique_keys_max: 1,
                all_violations: false,
                block_on_drift: false,
                isolated: false,
                sql_rows_max: None,
            },
        };
        let state = tempfile::tempdir().unwrap();
        let finish = execute(
            NodeId(1),
            RunId(1),
            &DagHash(runink_model::Sha256Hex::from_digest(&[1; 32])),
            &bundle,
            state.path(),
        );
        assert_eq!(finish.end, RunEnd::Failed);
        assert!(
            finish.summary.contains("`--isolation none` is refused"),
            "{}",
            finish.summary
        );
    }
}
