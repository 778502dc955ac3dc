//! The plan's identity: a hash of what a run executes and of nothing else.

use std::collections::BTreeMap;

use runink_model::{DagHash, HerdName, Sha256Hex};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{ContractRef, OptionValue, Placement, Plan, Slice, StepKind, Window};

/// What a run does, borrowed from the plan. Names, prose, line numbers,
/// catalog metadata (`@module`, `meta.*`) and test settings (`@golden`) are
/// left out on purpose: changing them does not change what a run does.
#[derive(Serialize)]
struct Executable<'a> {
    herd: &'a HerdName,
    schedule: &'a Option<String>,
    windows: &'a [Window],
    emits: &'a [String],
    defaults: &'a Placement,
    input_contract: Option<ContractIdentity<'a>>,
    output_contract: Option<ContractIdentity<'a>>,
    sources: Vec<SourceIdentity<'a>>,
    steps: Vec<&'a StepKind>,
    slices: Vec<SliceIdentity<'a>>,
    sinks: Vec<SinkIdentity<'a>>,
    dlq: &'a str,
    asserts: &'a [String],
}

#[derive(Serialize)]
struct ContractIdentity<'a> {
    hash: &'a Sha256Hex,
    object: &'a str,
}

#[derive(Serialize)]
struct SourceIdentity<'a> {
    uri: &'a str,
    options: &'a BTreeMap<String, OptionValue>,
    window: &'a Option<Window>,
}

#[derive(Serialize)]
struct SliceIdentity<'a> {
    steps: &'a [usize],
    placement: &'a Placement,
}

#[derive(Serialize)]
struct SinkIdentity<'a> {
    uri: &'a str,
    when: &'a Option<String>,
    role: &'a Option<String>,
    options: &'a BTreeMap<String, OptionValue>,
}

fn contract_identity(contract: &Option<ContractRef>) -> Option<ContractIdentity<'_>> {
    contract.as_ref().map(|c| ContractIdentity {
        hash: &c.hash,
        object: &c.object,
    })
}

/// Hashes the executable part of `plan`; the plan's own `dag_hash` is ignored.
pub fn compute_dag_hash(plan: &Plan) -> DagHash {
    let executable = Executable {
        herd: &plan.herd,
        schedule: &plan.schedule,
        windows: &plan.windows,
        emits: &plan.emits,
        defaults: &plan.defaults,
        input_contract: contract_identity(&plan.input_contract),
        output_contract: contract_identity(&plan.output_contract),
        sources: plan
            .sources
            .iter()
            .map(|s| SourceIdentity {
                uri: &s.endpoint.uri,
                options: &s.options,
                window: &s.window,
            })
            .collect(),
        steps: plan.steps.iter().map(|s| &s.kind).collect(),
        slices: plan.slices.iter().map(slice_identity).collect(),
        sinks: plan
            .sinks
            .iter()
            .map(|s| SinkIdentity {
                uri: &s.endpoint.uri,
                when: &s.when,
                role: &s.role,
                options: &s.options,
            })
            .collect(),
        dlq: &plan.dlq.endpoint.uri,
        asserts: &plan.asserts,
    };
    let canonical =
        serde_json::to_vec(&executable).expect("plan parts are plain data and always serialise");
    DagHash(Sha256Hex::from_digest(&Sha256::digest(&canonical)))
}

fn slice_identity(slice: &Slice) -> SliceIdentity<'_> {
    SliceIdentity {
        steps: &slice.steps,
        placement: &slice.placement,
    }
}
