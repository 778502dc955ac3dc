//! A damaged database is refused when the Barn opens, with an error naming
//! the file and saying what to do, rather than served. The archive of
//! finished runs, which grows with the runs kept, is checked as it is read.

use std::collections::BTreeMap;
use std::path::Path;

use runink_barn::cluster::{ClusterNode, ClusterOptions};
use runink_barn::{
    Applied, Barn, BarnError, BarnOptions, Command, EventLevel, NewRunEvent, RunCounts, RunDetail,
    RunEnd, RunId,
};
use runink_model::{DagHash, HerdName, Sha256Hex};

const DB_FILE: &str = "barn.redb";

fn options() -> BarnOptions {
    BarnOptions {
        snapshot_logs_since_last: 1_000_000,
        logs_kept_after_snapshot: 0,
        ..BarnOptions::default()
    }
}

/// Opens a Barn in `dir` and records one running run with `marker` as an
/// event message.
async fn barn_with_marker(dir: &Path, marker: &str) -> Barn {
    let barn = Barn::open_embedded_with(dir, options())
        .await
        .expect("a new barn opens");
    let dag_hash = DagHash(Sha256Hex::from_digest(&[2; 32]));
    let register = Command::RegisterScenario {
        herd: HerdName::default_herd(),
        name: "orders".into(),
        dag_hash: dag_hash.clone(),
        at_ms: 1,
    };
    barn.write(register)
        .await
        .expect("the write reaches the barn")
        .expect("the write is applied");
    let submit = Command::SubmitRun {
        dag_hash,
        contracts: vec![],
        start_on: None,
        bundle: None,
        at_ms: 2,
    };
    assert_eq!(
        barn.write(submit)
            .await
            .expect("the write reaches the barn"),
        Ok(Applied::RunSubmitted { run: RunId(1) })
    );
    let start = Command::StartRun {
        run: RunId(1),
        node: barn.node(),
        at_ms: 3,
    };
    barn.write(start)
        .await
        .expect("the write reaches the barn")
        .expect("the write is applied");
    let events = vec![NewRunEvent {
        at_ms: 4,
        level: EventLevel::Warn,
        message: marker.into(),
    }];
    let append = Command::AppendRunEvents {
        run: RunId(1),
        events,
    };
    barn.write(append)
        .await
        .expect("the write reaches the barn")
        .expect("the write is applied");
    barn
}

/// Ends the run `barn_with_marker` started.
async fn finish_run_1(barn: &Barn) {
    let finish = Command::FinishRun {
        run: RunId(1),
        end: RunEnd::Succeeded,
        counts: RunCounts::default(),
        detail: RunDetail::default(),
        summary: String::new(),
        events: vec![],
        at_ms: 5,
    };
    barn.write(finish)
        .await
        .expect("the write reaches the barn")
        .expect("the write is applied");
}

/// Flips one byte in every copy of `marker` in the database file (redb
/// copies on write, so stale copies may sit in freed pages too). Returns how
/// many copies it changed.
fn damage(dir: &Path, marker: &str) -> usize {
    let path = dir.join(DB_FILE);
    let mut bytes = std::fs::read(&path).expect("the database file reads");
    let marker = marker.as_bytes();
    let mut changed = 0;
    let mut at = 0;
    while let Some(offset) = bytes[at..].windows(marker.len()).position(|w| w == marker) {
        let start = at + offset;
        bytes[start] ^= 0x01;
        changed += 1;
        at = start + marker.len();
    }
    std::fs::write(&path, bytes).expect("the database file writes");
    changed
}

fn assert_refused(error: &BarnError, dir: &Path, what: &str) {
    let message = error.to_string();
    assert!(matches!(error, BarnError::Corrupted { .. }), "{error:?}");
    let file = dir.join(DB_FILE).display().to_string();
    assert!(message.contains(&file), "names the file: {message}");
    assert!(
        message.contains(what),
        "says what is damaged ({what}): {message}"
    );
    assert!(
        message.contains("Restore the folder from a backup"),
        "says what to do: {message}"
    );
}

#[tokio::test]
async fn a_damaged_log_entry_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let barn = barn_with_marker(dir.path(), "marker-in-the-log").await;
    barn.close().await.unwrap();
    assert!(damage(dir.path(), "marker-in-the-log") > 0);

    let error = Barn::open_embedded_with(dir.path(), options())
        .await
        .unwrap_err();
    assert_refused(&error, dir.path(), "log entry");
}

/// A file emptied (a full disk, a copy cut short) is not a new node: a
/// node that started afresh would forget its vote and every run.
#[tokio::test]
async fn an_emptied_file_is_refused_not_started_afresh() {
    let dir = tempfile::tempdir().unwrap();
    let barn = barn_with_marker(dir.path(), "marker").await;
    barn.close().await.unwrap();
    std::fs::write(dir.path().join(DB_FILE), b"").unwrap();
    let error = Barn::open_embedded_with(dir.path(), options())
        .await
        .unwrap_err();
    assert_refused(&error, dir.path(), "it is empty (0 bytes)");
}

/// Damage that trips one of redb's own assertions (a file cut to half its
/// length) is refused as damage, naming the file, not a crash.
#[tokio::test]
async fn a_file_cut_short_is_refused_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let barn = barn_with_marker(dir.path(), "marker").await;
    finish_run_1(&barn).await;
    barn.close().await.unwrap();
    let path = dir.path().join(DB_FILE);
    let length = std::fs::metadata(&path).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(length / 2).unwrap();
    drop(file);
    let error = Barn::open_embedded_with(dir.path(), options())
        .await
        .unwrap_err();
    assert_refused(&error, dir.path(), "");
}

#[tokio::test]
async fn a_damaged_snapshot_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let barn = barn_with_marker(dir.path(), "marker-in-the-snapshot").await;
    let status = barn.snapshot().await.unwrap();
    assert_eq!(
        status.purged_index, status.applied_index,
        "the marker is only in the snapshot now"
    );
    barn.close().await.unwrap();
    assert!(damage(dir.path(), "marker-in-the-snapshot") > 0);

    let error = Barn::open_embedded_with(dir.path(), options())
        .await
        .unwrap_err();
    assert_refused(&error, dir.path(), "snapshot");
}

#[tokio::test]
async fn a_damaged_archived_run_is_refused_when_read() {
    let dir = tempfile::tempdir().unwrap();
    let barn = barn_with_marker(dir.path(), "marker-in-the-archive").await;
    finish_run_1(&barn).await;
    barn.snapshot().await.unwrap();
    barn.close().await.unwrap();
    assert!(damage(dir.path(), "marker-in-the-archive") > 0);

    let barn = Barn::open_embedded_with(dir.path(), options())
        .await
        .expect("the archive is not read at open");
    let run = barn
        .run(RunId(1))
        .await
        .unwrap()
        .expect("its record is whole");
    assert_eq!(run.id, RunId(1));
    let error = barn.run_events(RunId(1)).await.unwrap_err();
    assert_refused(&error, dir.path(), "archived run 1's events");
    barn.close().await.unwrap();
}

/// A cluster node lives long enough to check the whole archive once: it
/// refuses to start on a damaged record.
#[tokio::test]
async fn a_cluster_node_refuses_to_start_on_a_damaged_archive() {
    let dir = tempfile::tempdir().unwrap();
    let barn = barn_with_marker(dir.path(), "marker-for-the-node").await;
    finish_run_1(&barn).await;
    barn.snapshot().await.unwrap();
    barn.close().await.unwrap();
    assert!(damage(dir.path(), "marker-for-the-node") > 0);

    let node = ClusterOptions {
        id: 1,
        listen: "127.0.0.1:0".into(),
        peers: BTreeMap::from([(1, "127.0.0.1:0".to_owned())]),
        join: None,
        data: dir.path().to_owned(),
        tls: None,
        storage: options(),
        timing: Default::default(),
        limits: Default::default(),
        batching: Default::default(),
        agent: false,
        placing: Default::default(),
    };
    let error = ClusterNode::start(node).await.unwrap_err();
    assert_refused(&error, dir.path(), "archived run 1's events");
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(DB_FILE), vec![0xab; 64 * 1024]).unwrap();
    let error = Barn::open_embedded_with(dir.path(), options())
        .await
        .unwrap_err();
    assert_refused(&error, dir.path(), "header");
}

#[tokio::test]
async fn a_refused_open_releases_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let barn = barn_with_marker(dir.path(), "marker-released").await;
    barn.close().await.unwrap();
    damage(dir.path(), "marker-released");
    Barn::open_embedded_with(dir.path(), options())
        .await
        .unwrap_err();
    // Refused again for the same reason, not for a lock left behind.
    let again = Barn::open_embedded_with(dir.path(), options())
        .await
        .unwrap_err();
    assert!(matches!(again, BarnError::Corrupted { .. }), "{again:?}");
}
