//! Herds, scenario versions and contract versions: what runs are of.

use std::collections::BTreeMap;

use runink_model::{DagHash, HerdName, Sha256Hex};
use serde::{Deserialize, Serialize};

use super::BarnState;
use crate::outcome::{Applied, Outcome, Refusal};

/// A tenant, and the history of each of its scenarios.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Herd {
    pub name: HerdName,
    pub created_at_ms: u64,
    /// Per scenario name, its `dag_hash`es in version order (version 1
    /// first).
    pub scenarios: BTreeMap<String, Vec<DagHash>>,
}

impl Herd {
    pub(crate) fn new(name: HerdName, created_at_ms: u64) -> Self {
        Self {
            name,
            created_at_ms,
            scenarios: BTreeMap::new(),
        }
    }
}

/// One version of a scenario, found by its `dag_hash`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioVersion {
    pub herd: HerdName,
    pub name: String,
    pub version: u32,
    pub dag_hash: DagHash,
    pub registered_at_ms: u64,
}

/// A contract as it was when a scenario used it, found by its canonical
/// hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractVersion {
    pub name: String,
    /// The version the contract declares (ODCS `version`).
    pub version: String,
    pub hash: Sha256Hex,
    pub registered_at_ms: u64,
}

impl BarnState {
    pub(super) fn put_herd(&mut self, herd: HerdName, at_ms: u64) -> Applied {
        let created = !self.herds.contains_key(&herd);
        if created {
            self.herds.insert(herd.clone(), Herd::new(herd, at_ms));
        }
        Applied::HerdPut { created }
    }

    /// A `dag_hash` identifies what runs, and scenario names are cosmetic
    /// (renaming does not change the hash). So a known hash keeps the
    /// version it was first registered as, whatever name it comes with.
    pub(super) fn register_scenario(
        &mut self,
        herd: HerdName,
        name: String,
        dag_hash: DagHash,
        at_ms: u64,
    ) -> Outcome {
        if let Some(known) = self.scenarios.get(&dag_hash) {
            return Ok(Applied::ScenarioRegistered {
                herd: known.herd.clone(),
                name: known.name.clone(),
                version: known.version,
                created: false,
            });
        }
        self.check_name("scenario name", &name)?;
        let Some(herd_record) = self.herds.get_mut(&herd) else {
            return Err(Refusal::UnknownHerd { herd });
        };
        let history = herd_record.scenarios.entry(name.clone()).or_default();
        history.push(dag_hash.clone());
        let version = u32::try_from(history.len()).unwrap_or(u32::MAX);
        self.scenarios.insert(
            dag_hash.clone(),
            ScenarioVersion {
                herd: herd.clone(),
                name: name.clone(),
                version,
                dag_hash,
                registered_at_ms: at_ms,
            },
        );
        Ok(Applied::ScenarioRegistered {
            herd,
            name,
            version,
            created: true,
        })
    }

    pub(super) fn register_contract(
        &mut self,
        name: String,
        version: String,
        hash: Sha256Hex,
        at_ms: u64,
    ) -> Outcome {
        if self.contracts.contains_key(&hash) {
            return Ok(Applied::ContractRegistered { created: false });
        }
        self.check_name("contract name", &name)?;
        self.check_name("contract version", &version)?;
        self.contracts.insert(
            hash.clone(),
            ContractVersion {
                name,
                version,
                hash,
                registered_at_ms: at_ms,
            },
        );
        Ok(Applied::ContractRegistered { created: true })
    }
}
