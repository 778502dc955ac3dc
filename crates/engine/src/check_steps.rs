//! Planning a scenario's built-in steps without a row, for `runi check`:
//! the steps are planned on the input contract's columns as a run plans
//! them before its first batch, so an expression that cannot run on those
//! columns (`amount + currency`, an unknown function, a `where` that is
//! not a condition) is found before any data is read. Then the sinks'
//! `when` conditions are planned on what reaches them (through the output
//! contract when there is one), and the `@assert`s on the run's metrics.
//! Stops before the first `sql` or `exec` step, whose output is known only
//! by running it; then no sink is planned. Without an input contract the
//! columns are known only from the data: only the asserts are planned.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use datafusion::prelude::SessionContext;
use runink_contract::CheckOptions;
use runink_plan::{Plan, StepKind};

use arrow::datatypes::SchemaRef;

use crate::EngineError;
use crate::asserts::check_asserts;
use crate::exec_step::ExecSettings;
use crate::isolation::Isolation;
use crate::run::{RunOptions, load_contract, row_checker, sensitive_columns, sink_condition};
use crate::steps::{PlannedStep, StepContext};

/// Why a scenario cannot be planned: the error a run would fail with, and
/// the line of the step it names in the scenario file (none when the
/// contract itself is at fault).
#[derive(Debug)]
pub struct StepPlanFailure {
    pub line: Option<usize>,
    pub error: EngineError,
}

/// What of `plan` cannot be planned, each as the error a run would fail
/// with; empty when everything can. Every `@assert` and every sink's
/// `when` is planned on its own, so all their errors are found at once;
/// the steps stop at the first that fails (the ones after it see columns
/// it did not make), and the sinks are then not planned.
pub fn check_steps(plan: &Plan, base_dir: &Path) -> Vec<StepPlanFailure> {
    let unplaced = |error| StepPlanFailure { line: None, error };
    let session = SessionContext::new();
    let sink_names: Vec<&str> = plan.sinks.iter().map(|sink| sink.name.as_str()).collect();
    let mut failures: Vec<StepPlanFailure> = check_asserts(&session, &plan.asserts, &sink_names)
        .into_iter()
        .map(|message| unplaced(EngineError::Plan(message)))
        .collect();
    let reaching_sinks =
        match check_built_in_steps(plan, base_dir, &session).and_then(|after_steps| {
            after_steps
                .map(|s| through_output_contract(plan, base_dir, s))
                .transpose()
        }) {
            Ok(Some(schema)) => schema,
            Ok(None) => return failures,
            Err(failure) => {
                failures.push(failure);
                return failures;
            }
        };
    failures.extend(
        plan.sinks
            .iter()
            .filter_map(|sink| sink_condition(&session, sink, &reaching_sinks).err())
            .map(unplaced),
    );
    failures
}

/// The columns that reach the sinks when the steps output `after_steps`:
/// the output contract's, when there is one.
fn through_output_contract(
    plan: &Plan,
    base_dir: &Path,
    after_steps: SchemaRef,
) -> Result<SchemaRef, StepPlanFailure> {
    let unplaced = |error| StepPlanFailure { line: None, error };
    let Some(reference) = &plan.output_contract else {
        return Ok(after_steps);
    };
    let (_, object) = load_contract(reference, base_dir, &BTreeMap::new()).map_err(unplaced)?;
    Ok(row_checker(
        &object,
        &after_steps,
        &CheckOptions::default(),
        Some(reference),
    )
    .map_err(unplaced)?
    .output_schema())
}

/// Plans the built-in steps on the input contract's columns; the schema
/// they output, or `None` when it is known only from the data (no input
/// contract, or a `sql` or `exec` step).
fn check_built_in_steps(
    plan: &Plan,
    base_dir: &Path,
    session: &SessionContext,
) -> Result<Option<SchemaRef>, StepPlanFailure> {
    let Some(reference) = &plan.input_contract else {
        return Ok(None);
    };
    let unplaced = |error| StepPlanFailure { line: None, error };
    let (_, object) = load_contract(reference, base_dir, &BTreeMap::new()).map_err(unplaced)?;
    let raw = Arc::new(object.text_schema());
    let checker =
        row_checker(&object, &raw, &CheckOptions::default(), Some(reference)).map_err(unplaced)?;
    // What a run with the default options would plan with.
    let options = RunOptions::default();
    let sensitive = sensitive_columns(std::iter::once(&object), options.default_mask);
    let context = StepContext {
        session,
        sensitive: &sensitive,
        default_mask: options.default_mask,
        unique_keys_max: options.limits.unique_keys_max,
        sql_rows_max: options.limits.sql_rows_max,
        exec: ExecSettings {
            base_dir,
            limits: options.limits,
            output_columns: &[],
            column_kinds: &[],
            hides_values: false,
            resources: Default::default(),
            isolation: Isolation::None,
        },
        slices: &plan.slices,
        digests: &[],
    };
    let mut schema = checker.output_schema();
    for step in &plan.steps {
        if matches!(step.kind, StepKind::Sql { .. } | StepKind::Exec { .. }) {
            return Ok(None);
        }
        schema = PlannedStep::plan(step, &schema, &context)
            .map_err(|error| StepPlanFailure {
                line: Some(step.line),
                error,
            })?
            .output_schema;
    }
    Ok(Some(schema))
}
