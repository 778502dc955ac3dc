//! The fault test: a 3-node cluster of real `runi barn start` processes
//! while several clients write and read registers and a nemesis kills
//! nodes with SIGKILL, pauses them (SIGSTOP, then SIGCONT), restarts
//! them (SIGTERM, then start) and, as root, partitions one from the
//! others (each node in a network namespace; `barn_support/netns.rs`). The history is checked for
//! linearizability (`runink_lincheck`, per key), and every acknowledged
//! write must survive. It prints its seed, the operations, the faults by
//! type, the violations and the acknowledged writes lost.
//!
//! A register is a made-up node's address (`RegisterNode` replaces it, a
//! read of `/v1/nodes/{id}` returns it), so the workload goes through the
//! Barn's real commands, Raft log and state machine.
//!
//! CI runs it for `DEFAULT_SECS`; `RUNINK_FAULT_SECS=600` (or
//! `bench/barn/faults.sh`) runs the long version, and `RUNINK_FAULT_SEED`
//! replays a seed's choices (the timing of a real cluster still varies).

#![allow(clippy::unwrap_used)] // test fixtures: a failure here is a broken test

mod barn_support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use barn_support::{Cluster, Net, require_partitions};
use runink_barn::cluster::{ApiErrorKind, BarnClient, Consistency};
use runink_barn::{ClientId, Command, NodeId, Request, RequestId};
use runink_lincheck::{
    KvInput, KvModel, KvOutput, Operation, SearchBudget, Verdict, check_partitioned,
};

/// The short run's length, in seconds.
const DEFAULT_SECS: u64 = 20;
const CLIENTS: u64 = 4;
/// Registers written and read; few, so that operations contend.
const KEYS: u64 = 4;
const NODES: u64 = 3;
/// The first register's node id (far from the cluster's own ids).
const KEY_BASE: u64 = 1_000_000;
/// Between two faults, and how long a fault lasts, in milliseconds.
const FAULT_GAP_MS: (u64, u64) = (800, 2_000);
const FAULT_LENGTH_MS: (u64, u64) = (300, 1_500);
/// A client's pause after a failed call, so that it does not spin on a
/// node that is down.
const FAILED_CALL_PAUSE_MS: u64 = 20;
/// Tries of each final read after the faults stop.
const FINAL_READ_TRIES_MAX: u32 = 100;

type Op = Operation<KvInput, KvOutput>;

/// SplitMix64: a small seeded generator, so a seed names the choices.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn between(&mut self, (low, high): (u64, u64)) -> u64 {
        low + self.below(high - low)
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| {
        v.parse()
            .unwrap_or_else(|_| panic!("`{name}={v}` is not a number"))
    })
}

fn micros(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_micros()).unwrap()
}

fn key_name(key: u64) -> String {
    format!("k{key}")
}

#[derive(Debug, Default)]
struct ClientTally {
    history: Vec<Op>,
    /// The node each operation went to, by (client, call time).
    served_by: BTreeMap<(u64, u64), u64>,
    writes_acked: u64,
    writes_unknown: u64,
    writes_not_applied: u64,
    reads_ok: u64,
    reads_failed: u64,
    refused: Vec<String>,
}

/// One client: random reads and writes on random nodes until `until`.
async fn client(
    index: u64,
    seed: u64,
    nodes: Arc<Vec<BarnClient>>,
    start: Instant,
    until: Duration,
) -> ClientTally {
    let mut rng = Rng(seed ^ (index + 1).wrapping_mul(0x1234_5678_9abc_def1));
    let id = ClientId(rng.next());
    let mut tally = ClientTally::default();
    let mut seq = 0;
    while start.elapsed() < until {
        let key = rng.below(KEYS);
        let node_index = rng.below(NODES);
        let node = &nodes[usize::try_from(node_index).unwrap()];
        let call = micros(start);
        tally.served_by.insert((index, call), node_index + 1);
        if rng.below(2) == 0 {
            seq += 1;
            let value = index * 1_000_000 + seq;
            let request = Request::new(
                RequestId::new(id, seq),
                Command::RegisterNode {
                    node: NodeId(KEY_BASE + key),
                    addr: format!("v{value}"),
                    agent: false,
                    at_ms: 0,
                },
            );
            let answer = node.write(&request).await;
            let (output, ret) = match answer {
                Ok(Ok(_)) => {
                    tally.writes_acked += 1;
                    (KvOutput::Written, micros(start))
                }
                Ok(Err(refusal)) => {
                    tally.refused.push(refusal.to_string());
                    (KvOutput::Unknown, Op::NEVER_RETURNED)
                }
                // Not applied: it has no place in the history.
                Err(e) if e.kind == ApiErrorKind::Unavailable => {
                    tally.writes_not_applied += 1;
                    tokio::time::sleep(Duration::from_millis(FAILED_CALL_PAUSE_MS)).await;
                    continue;
                }
                Err(_) => {
                    tally.writes_unknown += 1;
                    (KvOutput::Unknown, Op::NEVER_RETURNED)
                }
            };
            let input = KvInput::Write {
                key: key_name(key),
                value,
            };
            tally.history.push(Operation {
                client: index,
                input,
                output,
                call,
                ret,
            });
        } else {
            match node
                .node(NodeId(KEY_BASE + key), Consistency::Linearizable)
                .await
            {
                Ok(found) => {
                    tally.reads_ok += 1;
                    let value = found.map(|n| n.addr[1..].parse::<u64>().unwrap());
                    let input = KvInput::Read { key: key_name(key) };
                    let output = KvOutput::Read(value);
                    tally.history.push(Operation {
                        client: index,
                        input,
                        output,
                        call,
                        ret: micros(start),
                    });
                }
                // A failed read changed nothing: it needs no place in the history.
                Err(_) => {
                    tally.reads_failed += 1;
                    tokio::time::sleep(Duration::from_millis(FAILED_CALL_PAUSE_MS)).await;
                }
            }
        }
    }
    tally
}

/// Faults until `until`, one at a time, so that a quorum is usually up;
/// half of them hit the leader. Returns the count of each kind.
async fn nemesis(
    cluster: &mut Cluster,
    rng: &mut Rng,
    start: Instant,
    until: Duration,
    events: &mut Vec<(u64, String)>,
) -> BTreeMap<&'static str, u64> {
    let mut faults = BTreeMap::new();
    while start.elapsed() < until {
        tokio::time::sleep(Duration::from_millis(rng.between(FAULT_GAP_MS))).await;
        let leader = cluster.client(1).status().await.ok().and_then(|s| s.leader);
        let target = match leader {
            Some(leader) if rng.below(2) == 0 => leader,
            _ => 1 + rng.below(NODES),
        };
        let length = Duration::from_millis(rng.between(FAULT_LENGTH_MS));
        let kinds = if cluster.net.is_some() { 4 } else { 3 };
        let began = micros(start);
        let kind = match rng.below(kinds) {
            0 => {
                cluster.kill9(target);
                tokio::time::sleep(length).await;
                cluster.start(target);
                "kill -9"
            }
            1 => {
                cluster.pause(target);
                tokio::time::sleep(length).await;
                cluster.resume(target);
                "pause"
            }
            2 => {
                cluster.stop(target);
                cluster.start(target);
                "restart"
            }
            _ => {
                let net = cluster
                    .net
                    .as_ref()
                    .expect("partitions only on a private network");
                net.isolate(target);
                tokio::time::sleep(length).await;
                net.rejoin(target);
                "partition"
            }
        };
        events.push((
            began,
            format!(
                "{kind} node {target} (leader {leader:?}) until {}",
                micros(start)
            ),
        ));
        *faults.entry(kind).or_insert(0) += 1;
    }
    faults
}

/// What a violation report says besides the operations.
struct Report<'a> {
    seed: u64,
    /// The wall-clock time of the history's zero (node logs are stamped in
    /// UTC).
    started_at: SystemTime,
    served_by: &'a BTreeMap<(u64, u64), u64>,
    /// Each fault: when it began (µs from the start) and what it was.
    faults: &'a [(u64, String)],
}

/// Writes what a violation needs to be understood: the faults, the failing
/// key's operations in call order (times in µs from the start, with the
/// node each went to) and every node's whole log, to a file under the
/// target's temporary folder. Returns its path.
fn violation_report(
    report: &Report<'_>,
    key: &str,
    operations: &[usize],
    history: &[Op],
    cluster: &Cluster,
) -> String {
    let zero_ms = report
        .started_at
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let mut text = format!(
        "seed {}, key {key}; times in µs from unix ms {zero_ms}\nfaults:\n",
        report.seed
    );
    for (at, fault) in report.faults {
        text.push_str(&format!("{at} {fault}\n"));
    }
    text.push_str("operations: call ret client node input output\n");
    let mut ops: Vec<&Op> = operations.iter().map(|i| &history[*i]).collect();
    ops.sort_by_key(|op| (op.call, op.ret));
    for op in ops {
        let ret = if op.ret == Op::NEVER_RETURNED {
            "-".to_owned()
        } else {
            op.ret.to_string()
        };
        // The final reads go to node 1.
        let node = report
            .served_by
            .get(&(op.client, op.call))
            .copied()
            .unwrap_or(1);
        text.push_str(&format!(
            "{} {ret} c{} n{node} {:?} {:?}\n",
            op.call, op.client, op.input, op.output
        ));
    }
    for id in 1..=NODES {
        let log = std::fs::read_to_string(cluster.log(id)).unwrap_or_default();
        text.push_str(&format!("--- node {id} log\n{log}\n"));
    }
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("barn_faults_violation_{}.txt", report.seed));
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Leaves out the writes whose outcome is unknown and whose value no read
/// returned. The search would have to try each of them at every place
/// after its call, which blows up with hundreds of them; and leaving them
/// out changes no verdict: such a write may take effect at the very end of
/// any order (its answer says nothing), where it explains nothing and
/// contradicts nothing, and no read needs it, since none returned its value.
fn without_unseen_unknown_writes(history: Vec<Op>) -> Vec<Op> {
    let seen: std::collections::BTreeSet<(String, u64)> = history
        .iter()
        .filter_map(|op| match (&op.input, &op.output) {
            (KvInput::Read { key }, KvOutput::Read(Some(value))) => Some((key.clone(), *value)),
            _ => None,
        })
        .collect();
    history
        .into_iter()
        .filter(|op| match (&op.input, &op.output) {
            (KvInput::Write { key, value }, KvOutput::Unknown) => {
                seen.contains(&(key.clone(), *value))
            }
            _ => true,
        })
        .collect()
}

/// Acknowledged writes that a later state lost: for each key, every
/// acknowledged write that began after the write of the final value had
/// returned (so it must have replaced it), or every acknowledged write if
/// the key reads as never written.
fn acked_writes_lost(history: &[Op], finals: &BTreeMap<String, Option<u64>>) -> u64 {
    let mut lost = 0;
    for (key, last) in finals {
        let writes: Vec<&Op> = history
            .iter()
            .filter(|op| matches!(&op.input, KvInput::Write { key: k, .. } if k == key))
            .collect();
        let acked = writes.iter().filter(|op| op.output == KvOutput::Written);
        let source = last.and_then(|v| {
            writes
                .iter()
                .find(|op| matches!(op.input, KvInput::Write { value, .. } if value == v))
        });
        lost += match (last, source) {
            (None, _) => acked.count(),
            (Some(_), None) => acked.count(), // a value no one wrote: everything is suspect
            (Some(_), Some(source)) => acked.filter(|op| op.call > source.ret).count(),
        } as u64;
    }
    lost
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_under_kills_pauses_restarts_and_partitions_stays_linearizable_and_loses_no_acknowledged_write()
 {
    let seed = env_u64("RUNINK_FAULT_SEED").unwrap_or_else(|| {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        u64::try_from(now.as_nanos() % u128::from(u64::MAX)).unwrap()
    });
    let secs = env_u64("RUNINK_FAULT_SECS").unwrap_or(DEFAULT_SECS);
    println!("seed: {seed} (replay with RUNINK_FAULT_SEED={seed}), {secs} s");
    let mut rng = Rng(seed);
    // Partitions need each node in a network namespace (root); without
    // them the other faults still run, and the test says so.
    let mut cluster = match Net::unavailable() {
        None => Cluster::on_private_network(NODES, NODES),
        Some(why) => {
            require_partitions(&why);
            println!("partitions: off, {why}");
            Cluster::new(NODES, NODES, false)
        }
    };
    // Snapshots (and log purges) happen during the run, so that a node
    // restarted far behind catches up from one.
    cluster.extra = ["--snapshot-logs", "200", "--logs-kept-after-snapshot", "50"]
        .map(String::from)
        .to_vec();
    // Elections, leaders and snapshot installs in the nodes' logs, stamped,
    // for the report a violation writes.
    cluster.log_filter = Some("warn,openraft=info,runink_barn=info".to_owned());
    cluster.start_voters();
    cluster.leader().await;

    let nodes = Arc::new((1..=NODES).map(|id| cluster.client(id)).collect::<Vec<_>>());
    let start = Instant::now();
    let started_at = SystemTime::now();
    let until = Duration::from_secs(secs);
    let clients: Vec<_> = (0..CLIENTS)
        .map(|index| tokio::spawn(client(index, seed, Arc::clone(&nodes), start, until)))
        .collect();
    let mut fault_events = Vec::new();
    let faults = nemesis(&mut cluster, &mut rng, start, until, &mut fault_events).await;
    let mut history = Vec::new();
    let mut tally = ClientTally::default();
    for handle in clients {
        let one = handle.await.unwrap();
        history.extend(one.history);
        tally.served_by.extend(one.served_by);
        tally.writes_acked += one.writes_acked;
        tally.writes_unknown += one.writes_unknown;
        tally.writes_not_applied += one.writes_not_applied;
        tally.reads_ok += one.reads_ok;
        tally.reads_failed += one.reads_failed;
        tally.refused.extend(one.refused);
    }

    // Every node is up again: read each register's final value.
    cluster.leader().await;
    let mut finals = BTreeMap::new();
    for key in 0..KEYS {
        let mut tries = 0;
        loop {
            let call = micros(start);
            match nodes[0]
                .node(NodeId(KEY_BASE + key), Consistency::Linearizable)
                .await
            {
                Ok(found) => {
                    let value = found.map(|n| n.addr[1..].parse::<u64>().unwrap());
                    finals.insert(key_name(key), value);
                    let input = KvInput::Read { key: key_name(key) };
                    history.push(Operation {
                        client: CLIENTS,
                        input,
                        output: KvOutput::Read(value),
                        call,
                        ret: micros(start),
                    });
                    break;
                }
                Err(e) => {
                    tries += 1;
                    assert!(
                        tries < FINAL_READ_TRIES_MAX,
                        "the final read of k{key} kept failing: {e}\n{}",
                        cluster.logs()
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    let recorded = history.len();
    let history = without_unseen_unknown_writes(history);
    let unknown_writes_unseen = recorded - history.len();
    let verdict = check_partitioned(&KvModel, &history, SearchBudget::default());
    let violations = match &verdict {
        Verdict::Linearizable => 0,
        Verdict::NotLinearizable { .. } => 1,
        Verdict::Unknown { key } => {
            panic!("the checker ran out of budget on `{key}`: neither a pass nor a failure")
        }
    };
    let lost = acked_writes_lost(&history, &finals);
    println!(
        "operations: {} ({} writes acknowledged, {} writes unknown of which {} never read and left out, {} writes not applied, {} reads, {} reads failed)",
        history.len() + unknown_writes_unseen,
        tally.writes_acked,
        tally.writes_unknown,
        unknown_writes_unseen,
        tally.writes_not_applied,
        tally.reads_ok,
        tally.reads_failed
    );
    let faults_text: Vec<String> = faults
        .iter()
        .map(|(kind, n)| format!("{kind} {n}"))
        .collect();
    println!("faults: {}", faults_text.join(", "));
    println!("violations: {violations}");
    println!("acknowledged writes lost: {lost}");

    if let Verdict::NotLinearizable { key, operations } = &verdict {
        let report = violation_report(
            &Report {
                seed,
                started_at,
                served_by: &tally.served_by,
                faults: &fault_events,
            },
            key,
            operations,
            &history,
            &cluster,
        );
        panic!("seed {seed}: no order explains the history of {key}; see {report}");
    }
    assert_eq!(
        lost, 0,
        "seed {seed}: acknowledged writes lost; finals {finals:?}"
    );
    assert!(
        tally.refused.is_empty(),
        "seed {seed}: refused: {:?}",
        tally.refused
    );
    assert!(
        tally.writes_acked > 0 && tally.reads_ok > 0,
        "seed {seed}: no work got through\n{}",
        cluster.logs()
    );
    assert!(
        faults.values().sum::<u64>() > 0,
        "seed {seed}: the nemesis did nothing"
    );
}

#[test]
fn lost_writes_are_those_a_final_read_cannot_explain() {
    let write = |value, call, ret, output| Operation {
        client: 0,
        input: KvInput::Write {
            key: "k0".into(),
            value,
        },
        output,
        call,
        ret,
    };
    let history = vec![
        write(1, 0, 10, KvOutput::Written),
        write(2, 20, 30, KvOutput::Written),
        write(3, 25, Op::NEVER_RETURNED, KvOutput::Unknown),
    ];
    let finals = |v: Option<u64>| BTreeMap::from([("k0".to_owned(), v)]);
    // Write 2 began after write 1 returned: ending on 1 lost 2.
    assert_eq!(acked_writes_lost(&history, &finals(Some(1))), 1);
    assert_eq!(acked_writes_lost(&history, &finals(Some(2))), 0);
    // The unknown write 3 may have landed last.
    assert_eq!(acked_writes_lost(&history, &finals(Some(3))), 0);
    assert_eq!(acked_writes_lost(&history, &finals(None)), 2);
    assert_eq!(acked_writes_lost(&history, &finals(Some(9))), 2);
}

#[test]
fn only_unknown_writes_that_no_read_returned_are_left_out() {
    let op = |input, output| Operation {
        client: 0,
        input,
        output,
        call: 0,
        ret: 1,
    };
    let write = |value| KvInput::Write {
        key: "k0".into(),
        value,
    };
    let history = vec![
        op(write(1), KvOutput::Unknown),
        op(write(2), KvOutput::Unknown),
        op(write(3), KvOutput::Written),
        op(KvInput::Read { key: "k0".into() }, KvOutput::Read(Some(2))),
    ];
    let kept = without_unseen_unknown_writes(history.clone());
    assert_eq!(kept, history[1..].to_vec());
}
