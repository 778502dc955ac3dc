//! Remote runs through the real binary: `runi run --server` submits a
//! scenario to a 3-node cluster of `runi barn start` processes; the leader
//! places it on a node with an agent, which runs it on real files with the
//! contract the run brought, and records it; `runi runs|status|logs
//! --server` read it from any node, and `runi cancel` ends a waiting run.

#![allow(clippy::unwrap_used)] // test fixtures: a failure here is a broken test

mod barn_support;

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use barn_support::{Cluster, POLL_MS, runi};
use runink_barn::cluster::{ApiErrorKind, Consistency, RunsParams};
use runink_barn::{NodeId, Run, RunId, RunStatus};
use runink_testkit::{copy_tree, repo_root};
use serde_json::Value;

/// How long a test waits for a run to end.
const RUN_WAIT_MS_MAX: u64 = 60_000;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn succeeded(out: &Output, cluster: &Cluster) {
    assert!(
        out.status.success(),
        "exit {:?}\n{}\n{}",
        out.status.code(),
        stderr(out),
        cluster.logs()
    );
}

fn path_arg(path: &Path) -> String {
    path.display().to_string()
}

/// Reads run `run` through node `via` until `done` holds of it.
async fn wait_for_run(cluster: &Cluster, via: u64, run: u64, done: impl Fn(&Run) -> bool) -> Run {
    let deadline = Instant::now() + Duration::from_millis(RUN_WAIT_MS_MAX);
    loop {
        let seen = cluster
            .client(via)
            .run(RunId(run), Consistency::Linearizable)
            .await;
        if let Ok(Some(record)) = &seen
            && done(record)
        {
            return record.clone();
        }
        assert!(
            Instant::now() < deadline,
            "run {run} did not get there: {seen:?}\n{}",
            cluster.logs()
        );
        tokio::time::sleep(Duration::from_millis(POLL_MS)).await;
    }
}

/// A copy of the orders example in a temporary folder, with `extra`
/// scenario files beside it (name, text).
fn orders_copy(extra: &[(&str, &str)]) -> (tempfile::TempDir, std::path::PathBuf) {
    let work = tempfile::tempdir().unwrap();
    let orders = work.path().join("orders");
    copy_tree(&repo_root().join("examples/orders"), &orders);
    for (name, text) in extra {
        std::fs::write(orders.join(name), text).unwrap();
    }
    (work, orders)
}

/// A 3-node cluster whose nodes 1 and 2 run no agent; node 3 (which has
/// one) is started only with `start_3`.
/// Creates herd `finance`, the one the test scenarios run in.
fn with_finance_herd(cluster: &Cluster) {
    let out = runi(&["barn", "herd", "finance", "--server", &cluster.url(1)]);
    succeeded(&out, cluster);
}

async fn agent_on_3_only(start_3: bool) -> Cluster {
    let mut cluster = Cluster::new(3, 3, false);
    cluster.start_as(1, &["--no-agent"]);
    cluster.start_as(2, &["--no-agent"]);
    if start_3 {
        cluster.start(3);
        cluster.leader().await;
    } else {
        cluster.leader_among(&[1, 2]).await;
    }
    with_finance_herd(&cluster);
    cluster
}

/// A scenario beside the orders example whose assert fails.
const FAILING: &str = r#"Feature: Orders that cannot pass

@herd("finance")
Scenario: Too few orders
  @source("csv://data/orders.csv")
  @sink("jsonl://out/too_few.jsonl")
  @assert("rows_out >= 1000")

  Given the contract: contracts/orders.yaml
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submitted_run_waits_for_an_agent_runs_there_with_its_contract_and_is_read_anywhere() {
    // Node 3, the only one with an agent, starts later.
    let mut cluster = agent_on_3_only(false).await;
    let (_work, orders) = orders_copy(&[("failing.dsl", FAILING)]);
    let scenario = path_arg(&orders.join("orders.dsl"));

    let url1 = cluster.url(1);
    let out = runi(&["run", "--server", &url1, "--detach", &scenario]);
    succeeded(&out, &cluster);
    let run: u64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();

    // No agent is up: the run waits, placed nowhere.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let waiting = wait_for_run(&cluster, 2, run, |_| true).await;
    assert_eq!((waiting.status, waiting.node), (RunStatus::Pending, None));

    // A second one, waiting too, is cancelled before it starts.
    let out = runi(&["run", "--server", &url1, "--detach", &scenario]);
    succeeded(&out, &cluster);
    let cancelled = (run + 1).to_string();
    let out = runi(&["cancel", &cancelled, "--server", &cluster.url(2)]);
    succeeded(&out, &cluster);
    let out = runi(&["cancel", &cancelled, "--server", &url1]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("already ended (cancelled)"),
        "{}",
        stderr(&out)
    );

    // The contract leaves this machine's disk: the run brought its text.
    let contract = orders.join("contracts/orders.yaml");
    let contract_text = std::fs::read_to_string(&contract).unwrap();
    std::fs::remove_file(&contract).unwrap();

    cluster.start(3);
    let ended = wait_for_run(&cluster, 1, run, |r| r.status.is_terminal()).await;
    assert_eq!(
        ended.status,
        RunStatus::Succeeded,
        "{}\n{}",
        ended.summary,
        cluster.logs()
    );
    assert_eq!(ended.node, Some(NodeId(3)));
    assert!(ended.placed_at_ms.is_some() && ended.started_at_ms.is_some());
    assert_eq!(
        (
            ended.counts.rows_in,
            ended.counts.rows_out,
            ended.counts.rows_rejected
        ),
        (24, 16, 6),
        "the example's counts"
    );
    // The outputs are where the scenario names them, and the DLQ rows
    // carry the run's id.
    assert!(orders.join("out/orders.parquet").is_file());
    let dlq = std::fs::read_to_string(orders.join("out/orders.dlq.jsonl")).unwrap();
    let rows: Vec<Value> = dlq
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 6);
    assert!(
        rows.iter()
            .all(|r| r["_runink"]["run_id"].as_str() == Some(run.to_string().as_str())),
        "{dlq}"
    );
    std::fs::write(&contract, contract_text).unwrap();

    // A run that fails: `runi run --server` follows it and exits 1 with the reason.
    let failing = path_arg(&orders.join("failing.dsl"));
    let out = runi(&["run", "--server", &cluster.url(2), &failing]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("failed on node 3"), "{err}");
    assert!(err.contains("rows_out >= 1000"), "{err}");

    // A run that succeeds, followed to its end.
    let out = runi(&["run", "--server", &cluster.url(3), &scenario]);
    succeeded(&out, &cluster);
    assert!(stderr(&out).contains("succeeded"), "{}", stderr(&out));

    // Every node lists the three runs, newest first.
    for id in 1..=3 {
        let out = runi(&["--json", "runs", "--server", &cluster.url(id)]);
        succeeded(&out, &cluster);
        let runs: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        let statuses: Vec<&str> = runs.iter().map(|r| r["status"].as_str().unwrap()).collect();
        assert_eq!(
            statuses,
            ["succeeded", "failed", "cancelled", "succeeded"],
            "node {id}"
        );
    }
    // The node filters: by status, newest first up to the limit.
    let out = runi(&[
        "--json",
        "runs",
        "--server",
        &url1,
        "--status",
        "failed,cancelled",
        "--limit",
        "1",
    ]);
    succeeded(&out, &cluster);
    let runs: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["status"], "failed");
    let client = cluster.client(2);
    let answered = client
        .runs_with(&RunsParams {
            status: Some("succeeded".into()),
            limit: Some(1),
            ..RunsParams::default()
        })
        .await
        .unwrap();
    let ids: Vec<u64> = answered.iter().map(|r| r.id.0).collect();
    assert_eq!(ids, [run + 3], "the newest succeeded run only");
    let refused = client
        .runs_with(&RunsParams {
            status: Some("done".into()),
            ..RunsParams::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.kind, ApiErrorKind::BadRequest, "{refused}");
    assert!(refused.message.contains("`status=done`"), "{refused}");

    let failed_run = (run + 2).to_string();
    let out = runi(&["status", &failed_run, "--server", &url1]);
    succeeded(&out, &cluster);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("failed") && text.contains("node       3"),
        "{text}"
    );
    let out = runi(&["--json", "logs", &failed_run, "--server", &cluster.url(2)]);
    succeeded(&out, &cluster);
    let events: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        events
            .iter()
            .any(|e| e["message"].as_str().unwrap().contains("rows_out >= 1000")),
        "{events:?}"
    );
    // A run that has ended cannot be cancelled.
    let out = runi(&["cancel", &failed_run, "--server", &url1]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = runi(&["status", "99", "--server", &url1]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no run `99` in the barn at"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn remote_options_that_cannot_work_are_refused_before_anything_is_sent() {
    let scenario = path_arg(&repo_root().join("examples/orders/orders.dsl"));
    // Nothing listens there: each refusal must come before any call.
    let url = "http://127.0.0.1:9";
    for args in [
        vec!["run", "--server", url, "--dry-run", &scenario],
        vec!["run", "--detach", &scenario],
        vec!["run", "--server", "https://127.0.0.1:9", &scenario],
        vec!["run", "--server", url, "--mask-salt", "s", &scenario],
        vec!["run", "--server", url, "--isolation", "none", &scenario],
        vec!["runs", "--server", "https://127.0.0.1:9"],
    ] {
        let out = runi(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
    // A scenario with errors is reported here, not sent.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.dsl");
    std::fs::write(
        &broken,
        "Feature: x\nScenario: y\n  @source(\"csv://nowhere.csv\")\n",
    )
    .unwrap();
    let out = runi(&["run", "--server", url, &path_arg(&broken)]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!stderr(&out).contains("submitted"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_does_not_answer_gets_no_runs() {
    let mut cluster = Cluster::new(3, 3, false);
    cluster.start_as(1, &["--no-agent"]);
    cluster.start(2);
    cluster.start(3);
    cluster.leader().await;
    with_finance_herd(&cluster);
    // Both agents are recorded before node 2 stops answering.
    for id in [2, 3] {
        let deadline = Instant::now() + Duration::from_millis(RUN_WAIT_MS_MAX);
        loop {
            let node = cluster.client(1).node(NodeId(id), Consistency::Stale).await;
            if matches!(&node, Ok(Some(n)) if n.agent) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "node {id} never recorded its agent: {node:?}"
            );
            tokio::time::sleep(Duration::from_millis(POLL_MS)).await;
        }
    }
    // Node 2 would win the tie (lowest id); paused, it must not get the run.
    cluster.pause(2);
    let leader = cluster.leader_among(&[1, 3]).await;
    let (_work, orders) = orders_copy(&[]);
    let scenario = path_arg(&orders.join("orders.dsl"));
    let out = runi(&[
        "run",
        "--server",
        &cluster.url(leader),
        "--wait-s",
        "30",
        &scenario,
    ]);
    cluster.resume(2);
    succeeded(&out, &cluster);
    // Node 2 woke up and may be calling an election: read until answered.
    let run = wait_for_run(&cluster, 1, 1, |_| true).await;
    assert_eq!(run.node, Some(NodeId(3)), "{run:?}");
}

/// The orders example with a step that takes its time.
const SLOW: &str = r#"Feature: Slow orders

@herd("finance")
Scenario: Slow orders
  @source("csv://data/orders.csv")
  @step("exec", cmd="sleep 60; cat")
  @sink("jsonl://out/slow.jsonl")

  Given the contract: contracts/orders.yaml
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_node_was_killed_is_ended_failed_when_the_node_is_back() {
    let mut cluster = agent_on_3_only(true).await;
    let (_work, orders) = orders_copy(&[("slow.dsl", SLOW)]);
    let slow = path_arg(&orders.join("slow.dsl"));
    let out = runi(&["run", "--server", &cluster.url(1), "--detach", &slow]);
    succeeded(&out, &cluster);
    let run: u64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    wait_for_run(&cluster, 1, run, |r| r.status == RunStatus::Running).await;

    cluster.kill9(3);
    cluster.start(3);
    let ended = wait_for_run(&cluster, 1, run, |r| r.status.is_terminal()).await;
    assert_eq!(ended.status, RunStatus::Failed);
    assert!(
        ended
            .summary
            .contains("node 3 stopped while the run was running"),
        "{}",
        ended.summary
    );
    assert!(
        !orders.join("out/slow.jsonl").exists(),
        "nothing of the killed run is committed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_in_a_herd_the_cluster_lacks_is_refused_until_an_operator_creates_it() {
    let mut cluster = Cluster::new(3, 3, false);
    cluster.start_voters();
    cluster.leader().await;
    let (_work, orders) = orders_copy(&[]);
    let scenario = path_arg(&orders.join("orders.dsl"));
    let url = cluster.url(2);

    let refused = runi(&["run", "--server", &url, "--detach", &scenario]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("herd `finance`, which the cluster")
            && stderr(&refused).contains("runi barn herd finance --server"),
        "{}",
        stderr(&refused)
    );

    let bad = runi(&["barn", "herd", "Finance!", "--server", &url]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    let created = runi(&["barn", "herd", "finance", "--server", &url]);
    succeeded(&created, &cluster);
    assert!(stderr(&created).contains("herd `finance` created"));
    let again = runi(&["barn", "herd", "finance", "--server", &cluster.url(1)]);
    succeeded(&again, &cluster);
    assert!(stderr(&again).contains("exists already"));
    let json = runi(&["--json", "barn", "herd", "finance", "--server", &url]);
    succeeded(&json, &cluster);
    let answer: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        answer,
        serde_json::json!({"herd": "finance", "created": false})
    );

    let accepted = runi(&["run", "--server", &url, "--detach", &scenario]);
    succeeded(&accepted, &cluster);
}
