//! The embedded Barn on a real folder: record runs, close, reopen; snapshot
//! and purge; refuse a damaged file; refuse a folder another Barn holds.

use std::path::Path;

use runink_barn::{
    Applied, Barn, BarnError, BarnOptions, ClientId, Command, EventLevel, NewRunEvent, Outcome,
    Refusal, Request, RequestId, RunCounts, RunDetail, RunEnd, RunId, RunStatus,
};
use runink_model::{DagHash, HerdName, Sha256Hex};

fn dag_hash() -> DagHash {
    DagHash(Sha256Hex::from_digest(&[1; 32]))
}

/// Options for tests: snapshots only when asked. Nothing is kept in the log
/// behind them (the embedded default, which this leaves as it is), so that a
/// snapshot purges everything it covers.
fn options() -> BarnOptions {
    BarnOptions {
        snapshot_logs_since_last: 1_000_000,
        replay_entries_max: u64::MAX,
        ..BarnOptions::default()
    }
}

async fn open(dir: &Path) -> Barn {
    Barn::open_embedded_with(dir, options())
        .await
        .expect("the barn opens")
}

async fn applied(barn: &Barn, command: Command) -> Applied {
    match barn
        .write(command)
        .await
        .expect("the write reaches the barn")
    {
        Ok(applied) => applied,
        Err(refusal) => panic!("refused: {refusal}"),
    }
}

/// Registers the scenario, then submits, starts, logs and finishes one run
/// with `message` among its events.
async fn record_run(barn: &Barn, message: &str) -> RunId {
    applied(
        barn,
        Command::RegisterScenario {
            herd: HerdName::default_herd(),
            name: "orders".into(),
            dag_hash: dag_hash(),
            at_ms: 1,
        },
    )
    .await;
    let Applied::RunSubmitted { run } = applied(
        barn,
        Command::SubmitRun {
            dag_hash: dag_hash(),
            contracts: vec![],
            start_on: None,
            bundle: None,
            at_ms: 2,
        },
    )
    .await
    else {
        panic!("expected a submitted run");
    };
    applied(
        barn,
        Command::StartRun {
            run,
            node: barn.node(),
            at_ms: 3,
        },
    )
    .await;
    let events = ["started", message]
        .iter()
        .map(|m| NewRunEvent {
            at_ms: 4,
            level: EventLevel::Info,
            message: (*m).into(),
        })
        .collect();
    applied(barn, Command::AppendRunEvents { run, events }).await;
    applied(
        barn,
        Command::FinishRun {
            run,
            end: RunEnd::Succeeded,
            counts: RunCounts {
                rows_in: 3,
                rows_out: 3,
                rows_rejected: 0,
                rows_dropped: 0,
            },
            detail: RunDetail::default(),
            summary: "3 rows written".into(),
            events: vec![],
            at_ms: 5,
        },
    )
    .await;
    run
}

async fn put_finance_herd(barn: &Barn) {
    applied(
        barn,
        Command::PutHerd {
            herd: HerdName::new("finance").expect("a valid herd name"),
            at_ms: 10,
        },
    )
    .await;
}

async fn assert_run_recorded(barn: &Barn, run: RunId, message: &str) {
    let runs = barn.runs().await.expect("runs read");
    assert_eq!(runs.len(), 1);
    let record = barn
        .run(run)
        .await
        .expect("run reads")
        .expect("the run is known");
    assert_eq!(record.status, RunStatus::Succeeded);
    assert_eq!(record.counts.rows_out, 3);
    assert_eq!(record.summary, "3 rows written");
    let events = barn
        .run_events(run)
        .await
        .expect("events read")
        .expect("the run has events");
    let messages: Vec<_> = events.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(messages, ["started", message]);
}

#[tokio::test]
async fn a_recorded_run_is_still_there_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let barn = open(dir.path()).await;
    let run = record_run(&barn, "wrote 3 rows").await;
    assert_run_recorded(&barn, run, "wrote 3 rows").await;
    barn.close().await.unwrap();

    let barn = open(dir.path()).await;
    assert_run_recorded(&barn, run, "wrote 3 rows").await;
    let next = applied(
        &barn,
        Command::SubmitRun {
            dag_hash: dag_hash(),
            contracts: vec![],
            start_on: None,
            bundle: None,
            at_ms: 9,
        },
    )
    .await;
    assert_eq!(
        next,
        Applied::RunSubmitted { run: RunId(2) },
        "numbering goes on"
    );
    barn.close().await.unwrap();
}

#[tokio::test]
async fn a_snapshot_purges_the_log_and_the_state_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let barn = open(dir.path()).await;
    let run = record_run(&barn, "before the snapshot").await;
    let status = barn.snapshot().await.unwrap();
    assert_eq!(status.snapshot_index, status.applied_index);
    assert_eq!(
        status.purged_index, status.applied_index,
        "the whole log is purged"
    );
    barn.close().await.unwrap();

    let barn = open(dir.path()).await;
    assert_run_recorded(&barn, run, "before the snapshot").await;
    let reopened = barn.status();
    assert!(reopened.purged_index >= status.purged_index);
    // The log goes on after the purged entries, and a second snapshot
    // replaces the first.
    put_finance_herd(&barn).await;
    let second = barn.snapshot().await.unwrap();
    assert!(second.snapshot_index > status.snapshot_index);
    barn.close().await.unwrap();

    let barn = open(dir.path()).await;
    let herds = barn.read(|s| s.herds().count()).await.unwrap();
    assert_eq!(herds, 2, "default and finance");
    assert_run_recorded(&barn, run, "before the snapshot").await;
    barn.close().await.unwrap();
}

#[tokio::test]
async fn closing_after_many_entries_snapshots_so_the_next_open_replays_few() {
    let dir = tempfile::tempdir().unwrap();
    let few_to_replay = BarnOptions {
        replay_entries_max: 3,
        ..options()
    };
    let barn = Barn::open_embedded_with(dir.path(), few_to_replay.clone())
        .await
        .unwrap();
    let run = record_run(&barn, "many entries").await;
    let before = barn.status();
    assert!(before.applied_index.unwrap() > 3, "{before:?}");
    assert_eq!(before.snapshot_index, None, "no snapshot yet");
    barn.close().await.unwrap();

    let barn = Barn::open_embedded_with(dir.path(), few_to_replay)
        .await
        .unwrap();
    let reopened = barn.status();
    assert!(
        reopened.snapshot_index >= before.applied_index,
        "the close built a snapshot of everything: {reopened:?}"
    );
    assert_run_recorded(&barn, run, "many entries").await;
    // Under the bound, a close builds none.
    put_finance_herd(&barn).await;
    barn.close().await.unwrap();
    let barn = open(dir.path()).await;
    assert_eq!(barn.status().snapshot_index, reopened.snapshot_index);
    barn.close().await.unwrap();
}

#[tokio::test]
async fn a_retried_request_applies_once() {
    let dir = tempfile::tempdir().unwrap();
    let barn = open(dir.path()).await;
    record_run(&barn, "first").await;
    let request = Request::new(
        RequestId::new(ClientId(42), 1),
        Command::SubmitRun {
            dag_hash: dag_hash(),
            contracts: vec![],
            start_on: None,
            bundle: None,
            at_ms: 20,
        },
    );
    let first = barn.write_request(request.clone()).await.unwrap();
    let retried = barn.write_request(request).await.unwrap();
    assert_eq!(first, Ok(Applied::RunSubmitted { run: RunId(2) }));
    assert_eq!(retried, first);
    assert_eq!(barn.runs().await.unwrap().len(), 2);
    barn.close().await.unwrap();
}

#[tokio::test]
async fn an_illegal_transition_is_an_outcome_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let barn = open(dir.path()).await;
    let run = record_run(&barn, "done").await;
    let again: Outcome = barn
        .write(Command::FinishRun {
            run,
            end: RunEnd::Failed,
            counts: RunCounts::default(),
            detail: RunDetail::default(),
            summary: String::new(),
            events: vec![],
            at_ms: 30,
        })
        .await
        .unwrap();
    assert_eq!(
        again,
        Err(Refusal::IllegalTransition {
            run,
            from: RunStatus::Succeeded,
            to: RunStatus::Failed
        })
    );
    barn.close().await.unwrap();
}

#[tokio::test]
async fn a_second_open_of_the_same_folder_waits_then_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(dir.path()).await;
    let quick = BarnOptions {
        lock_wait_ms_max: 100,
        ..options()
    };
    let second = Barn::open_embedded_with(dir.path(), quick)
        .await
        .unwrap_err();
    assert!(matches!(second, BarnError::Locked { .. }), "{second:?}");
    let message = second.to_string();
    assert!(
        message.contains(&dir.path().display().to_string()),
        "{message}"
    );
    assert!(
        message.contains(&format!("pid {}", std::process::id())),
        "{message}"
    );
    assert!(message.contains("lock_wait_ms_max"), "{message}");

    // The first Barn is unharmed, and once it closes the folder opens.
    let run = record_run(&first, "still fine").await;
    first.close().await.unwrap();
    let reopened = open(dir.path()).await;
    assert_run_recorded(&reopened, run, "still fine").await;
    reopened.close().await.unwrap();
}

/// The second open starts before the first Barn closes; the pause makes it
/// likely (not certain) that it is already waiting on the lock when the
/// first lets go. Either way it must succeed and see the first's state.
#[tokio::test]
async fn a_second_open_gets_the_folder_when_the_first_closes_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(dir.path()).await;
    let run = record_run(&first, "handed over").await;
    let patient = BarnOptions {
        lock_wait_ms_max: 60_000,
        ..options()
    };
    let path = dir.path().to_owned();
    let second = tokio::spawn(async move { Barn::open_embedded_with(&path, patient).await });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    first.close().await.unwrap();
    let second = second.await.unwrap().expect("the waiting open succeeds");
    assert_run_recorded(&second, run, "handed over").await;
    second.close().await.unwrap();
}

#[test]
fn a_barn_can_be_shared_between_tasks_and_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Barn>();
}

/// Reads a run's record and event messages, wherever it is kept.
async fn record_and_messages(barn: &Barn, run: RunId) -> (RunStatus, Vec<String>) {
    let record = barn
        .run(run)
        .await
        .expect("the run reads")
        .expect("the run is known");
    let events = barn
        .run_events(run)
        .await
        .expect("the events read")
        .expect("the run has events");
    let messages = events.into_iter().map(|e| e.message).collect();
    (record.status, messages)
}

async fn newest_first(barn: &Barn, skip: Option<RunId>, limit: usize) -> Vec<RunId> {
    barn.runs_newest_first(move |run| Some(run.id) != skip, limit)
        .await
        .expect("the runs read")
        .iter()
        .map(|run| run.id)
        .collect()
}

/// A snapshot moves finished runs out of memory into the archive; they
/// read as before, beside the runs recorded after it, and after reopening.
#[tokio::test]
async fn runs_read_the_same_from_the_archive_and_from_memory() {
    let dir = tempfile::tempdir().unwrap();
    let barn = open(dir.path()).await;
    let first = record_run(&barn, "first").await;
    let second = record_run(&barn, "second").await;
    barn.snapshot().await.unwrap();
    let held = barn.read(|state| state.runs().count()).await.unwrap();
    assert_eq!(held, 0, "both finished runs are archived");
    let third = record_run(&barn, "third").await;
    let runs = [(first, "first"), (second, "second"), (third, "third")];
    assert_reads(&barn, runs).await;
    barn.close().await.unwrap();

    let barn = open(dir.path()).await;
    assert_reads(&barn, runs).await;
    barn.close().await.unwrap();
}

/// `runs` (oldest first, each with its message) read alike one by one, in
/// lists filtered and cut, and refuse a late command alike.
async fn assert_reads(barn: &Barn, runs: [(RunId, &str); 3]) {
    let [first, second, third] = runs.map(|(run, _)| run);
    assert_eq!(newest_first(barn, None, 10).await, [third, second, first]);
    assert_eq!(newest_first(barn, None, 2).await, [third, second]);
    assert_eq!(newest_first(barn, Some(second), 10).await, [third, first]);
    assert_eq!(newest_first(barn, Some(third), 1).await, [second]);
    let all: Vec<RunId> = barn
        .runs()
        .await
        .expect("the runs read")
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(all, [first, second, third]);
    for (run, message) in runs {
        let (status, messages) = record_and_messages(barn, run).await;
        assert_eq!(status, RunStatus::Succeeded);
        assert_eq!(messages, ["started", message]);
    }
    assert_eq!(
        barn.run(RunId(99)).await.expect("an unknown run reads"),
        None
    );
    assert_eq!(
        barn.run_events(RunId(99))
            .await
            .expect("an unknown run reads"),
        None
    );
    let late = barn
        .write(Command::StartRun {
            run: first,
            node: barn.node(),
            at_ms: 9,
        })
        .await
        .expect("the write reaches the barn");
    assert!(
        matches!(
            late,
            Err(Refusal::IllegalTransition {
                from: RunStatus::Succeeded,
                ..
            })
        ),
        "{late:?}"
    );
}

/// A Barn that closes holding more finished runs than
/// `finished_runs_held_max` archives them first (as a folder written before
/// the archive existed is, on its first close).
#[tokio::test]
async fn closing_with_many_finished_runs_held_archives_them() {
    let dir = tempfile::tempdir().unwrap();
    let one_held = BarnOptions {
        finished_runs_held_max: 1,
        ..options()
    };
    let barn = Barn::open_embedded_with(dir.path(), one_held.clone())
        .await
        .unwrap();
    let first = record_run(&barn, "first").await;
    barn.close().await.unwrap();
    let barn = Barn::open_embedded_with(dir.path(), one_held.clone())
        .await
        .unwrap();
    let held = barn.read(|state| state.runs().count()).await.unwrap();
    assert_eq!(held, 1, "one finished run may stay held");
    let second = record_run(&barn, "second").await;
    barn.close().await.unwrap();

    let barn = Barn::open_embedded_with(dir.path(), one_held)
        .await
        .unwrap();
    let held = barn.read(|state| state.runs().count()).await.unwrap();
    assert_eq!(held, 0, "two were over the bound: archived at close");
    assert_eq!(newest_first(&barn, None, 10).await, [second, first]);
    barn.close().await.unwrap();
}
