//! Where the leader places runs submitted to a cluster: a pure function
//! of the Barn's state and the nodes alive now, so that the scheduler that
//! replaces it later has the same shape. Today's rule: the node with an
//! agent that has the fewest unfinished runs (placed or running), ties to
//! the lowest id. What it decides is written to the log as `PlaceRun`.

use std::collections::{BTreeMap, BTreeSet};

use crate::ids::{NodeId, RunId};
use crate::state::{BarnState, Run, RunStatus};

/// One decision: put `run` on `node`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub run: RunId,
    pub node: NodeId,
}

/// The placements to make now, at most `placements_max`, oldest run first.
///
/// A run needs placing when it is pending, has a bundle (an agent can run
/// it), and is not on a node that is `alive` with an agent: never placed,
/// or placed on a node that left or stopped answering. `alive` is the
/// cluster's members that answer the leader now; any other node gets
/// nothing.
pub fn placements(
    state: &BarnState,
    alive: &BTreeSet<NodeId>,
    placements_max: usize,
) -> Vec<Placement> {
    let mut load: BTreeMap<NodeId, usize> = state
        .nodes()
        .filter(|node| node.agent && alive.contains(&node.id))
        .map(|node| (node.id, 0))
        .collect();
    for run in state.runs().filter(|run| !run.status.is_terminal()) {
        if let Some(count) = run.node.and_then(|node| load.get_mut(&node)) {
            *count += 1;
        }
    }
    let waiting: Vec<RunId> = awaiting_agents(state)
        .filter(|run| run.node.is_none_or(|node| !load.contains_key(&node)))
        .map(|run| run.id)
        .take(placements_max)
        .collect();
    let mut chosen = Vec::new();
    for run in waiting {
        let Some(node) = least_loaded(&load) else {
            break;
        };
        *load.entry(node).or_default() += 1;
        chosen.push(Placement { run, node });
    }
    chosen
}

/// The runs an agent may still take: pending, with a bundle.
pub fn awaiting_agents(state: &BarnState) -> impl Iterator<Item = &Run> {
    state
        .runs()
        .filter(|run| run.status == RunStatus::Pending && state.run_bundle(run.id).is_some())
}

/// The node with the fewest runs, the lowest id among equals.
pub fn least_loaded(load: &BTreeMap<NodeId, usize>) -> Option<NodeId> {
    load.iter()
        .min_by_key(|(node, runs)| (**runs, **node))
        .map(|(node, _)| *node)
}

#[cfg(test)]
mod tests {
    use runink_model::{DagHash, HerdName, Sha256Hex};

    use super::*;
    use crate::command::{Command, Request};
    use crate::ids::{ClientId, RequestId};
    use crate::state::{RunEnd, RunSettings, ScenarioBundle};

    /// Applies commands in order from one client; each must apply.
    struct Barn {
        state: BarnState,
        seq: u64,
    }

    impl Barn {
        fn new() -> Self {
            let mut barn = Self {
                state: BarnState::default(),
                seq: 0,
            };
            barn.apply(Command::RegisterScenario {
                herd: HerdName::default_herd(),
                name: "orders".into(),
                dag_hash: dag_hash(),
                at_ms: 1,
            });
            barn
        }

        fn apply(&mut self, command: Command) {
            self.seq += 1;
            let request = Request::new(RequestId::new(ClientId(7), self.seq), command);
            self.state.apply(request).expect("the command applies");
        }

        fn node(&mut self, id: u64, agent: bool) {
            self.apply(Command::RegisterNode {
                node: NodeId(id),
                addr: format!("n{id}:7000"),
                agent,
                at_ms: 1,
            });
        }

        fn submit(&mut self, bundle: bool) -> RunId {
            self.apply(Command::SubmitRun {
                dag_hash: dag_hash(),
                contracts: vec![],
                start_on: None,
                bundle: bundle.then(bundle_of_orders),
                at_ms: 2,
            });
            RunId(self.state.runs().count() as u64)
        }

        fn place(&mut self, placements: &[Placement]) {
            for p in placements {
                self.apply(Command::PlaceRun {
                    run: p.run,
                    node: p.node,
                    at_ms: 3,
                });
            }
        }
    }

    fn dag_hash() -> DagHash {
        DagHash(Sha256Hex::from_digest(&[9; 32]))
    }

    fn bundle_of_orders() -> ScenarioBundle {
        ScenarioBundle {
            file: "orders.dsl".into(),
            base_dir: "/data".into(),
            source: "Feature: orders".into(),
            scenario: "orders".into(),
            steps_path: vec![],
            files: Default::default(),
            settings: RunSettings {
                batch_rows_max: 8192,
                queue_len_max: 4,
                unique_keys_max: 1000,
                all_violations: false,
                block_on_drift: false,
                isolated: true,
                sql_rows_max: None,
            },
        }
    }

    fn alive(ids: &[u64]) -> BTreeSet<NodeId> {
        ids.iter().map(|id| NodeId(*id)).collect()
    }

    fn nodes_of(placements: &[Placement]) -> Vec<u64> {
        placements.iter().map(|p| p.node.0).collect()
    }

    #[test]
    fn runs_spread_over_agents_least_loaded_first_ties_to_the_lowest_id() {
        let mut barn = Barn::new();
        barn.node(1, true);
        barn.node(2, true);
        barn.node(3, false);
        for _ in 0..5 {
            barn.submit(true);
        }
        let chosen = placements(&barn.state, &alive(&[1, 2, 3]), 10);
        assert_eq!(nodes_of(&chosen), [1, 2, 1, 2, 1]);
        let runs: Vec<u64> = chosen.iter().map(|p| p.run.0).collect();
        assert_eq!(runs, [1, 2, 3, 4, 5], "oldest first");
        barn.place(&chosen);
        assert!(placements(&barn.state, &alive(&[1, 2, 3]), 10).is_empty());

        // Node 1 finishes two of its three runs: it is now the least loaded.
        for run in [1, 3] {
            barn.apply(Command::StartRun {
                run: RunId(run),
                node: NodeId(1),
                at_ms: 4,
            });
            barn.apply(Command::FinishRun {
                run: RunId(run),
                end: RunEnd::Succeeded,
                counts: Default::default(),
                detail: Default::default(),
                summary: String::new(),
                events: vec![],
                at_ms: 5,
            });
        }
        barn.submit(true);
        barn.submit(true);
        let chosen = placements(&barn.state, &alive(&[1, 2, 3]), 10);
        assert_eq!(nodes_of(&chosen), [1, 1], "1 has one run, 2 has two");
    }

    #[test]
    fn only_pending_runs_with_a_bundle_are_placed_and_at_most_the_bound() {
        let mut barn = Barn::new();
        barn.node(1, true);
        barn.submit(false);
        for _ in 0..3 {
            barn.submit(true);
        }
        let chosen = placements(&barn.state, &alive(&[1]), 2);
        let runs: Vec<u64> = chosen.iter().map(|p| p.run.0).collect();
        assert_eq!(runs, [2, 3], "run 1 has no bundle; the bound is 2");
    }

    #[test]
    fn no_agent_alive_places_nothing() {
        let mut barn = Barn::new();
        barn.node(1, false);
        barn.node(2, true);
        barn.submit(true);
        assert!(placements(&barn.state, &alive(&[1]), 10).is_empty());
        assert!(placements(&barn.state, &alive(&[1, 3]), 10).is_empty());
    }

    #[test]
    fn a_run_on_a_node_that_left_is_placed_again_elsewhere() {
        let mut barn = Barn::new();
        barn.node(1, true);
        barn.node(2, true);
        barn.submit(true);
        let first = placements(&barn.state, &alive(&[1, 2]), 10);
        assert_eq!(nodes_of(&first), [1]);
        barn.place(&first);
        // Node 1 left the cluster: the run goes to 2.
        let again = placements(&barn.state, &alive(&[2]), 10);
        assert_eq!(nodes_of(&again), [2]);
        barn.place(&again);
        assert_eq!(barn.state.run(RunId(1)).unwrap().node, Some(NodeId(2)));
    }
}
