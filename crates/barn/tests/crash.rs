//! kill -9 in the middle of writes (and of snapshots and purges): every
//! write the Barn acknowledged is there after reopening.
//!
//! The test binary runs itself again as the writer: with `WRITE_FOLDER_ENV`
//! set, this test writes herds `h-1`, `h-2`, … and prints `acked N` after
//! each acknowledged write, until it is killed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};

use runink_barn::{Barn, BarnOptions, Command, unix_now_ms};
use runink_model::HerdName;

const WRITE_FOLDER_ENV: &str = "RUNINK_BARN_TEST_WRITE_FOLDER";
const TEST_NAME: &str = "acknowledged_writes_survive_kill_9";
/// Writes acknowledged before the kill.
const ACKED_BEFORE_KILL: u64 = 60;
/// The writer's upper bound, should the kill never come.
const WRITES_MAX: u64 = 100_000;

/// Snapshots (and purges) every few entries, so that the kill can land in
/// the middle of one.
fn options() -> BarnOptions {
    BarnOptions {
        snapshot_logs_since_last: 7,
        logs_kept_after_snapshot: 2,
        ..BarnOptions::default()
    }
}

fn herd(i: u64) -> HerdName {
    HerdName::new(&format!("h-{i}")).expect("a valid herd name")
}

async fn write_until_killed(dir: &Path) {
    let barn = Barn::open_embedded_with(dir, options())
        .await
        .expect("the writer opens the folder");
    for i in 1..=WRITES_MAX {
        let put = Command::PutHerd {
            herd: herd(i),
            at_ms: unix_now_ms(),
        };
        barn.write(put)
            .await
            .expect("the write reaches the barn")
            .expect("the write is applied");
        println!("acked {i}");
    }
}

#[expect(
    clippy::disallowed_methods,
    reason = "a crash test must start a process to kill; it runs this test binary, not user code"
)]
fn spawn_writer(dir: &Path) -> Child {
    let exe = std::env::current_exe().expect("the test binary's path");
    std::process::Command::new(exe)
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env(WRITE_FOLDER_ENV, dir)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the writer process starts")
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_9() {
    if let Some(dir) = std::env::var_os(WRITE_FOLDER_ENV) {
        write_until_killed(Path::new(&dir)).await;
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut writer = spawn_writer(dir.path());
    let stdout = BufReader::new(writer.stdout.take().unwrap());
    let mut acked = 0;
    for line in stdout.lines().map_while(Result::ok) {
        if let Some(n) = line.split("acked ").nth(1) {
            acked = n.trim().parse().unwrap();
            if acked >= ACKED_BEFORE_KILL {
                break;
            }
        }
    }
    assert_eq!(acked, ACKED_BEFORE_KILL, "the writer got that far");
    writer.kill().unwrap(); // SIGKILL
    writer.wait().unwrap();

    let barn = Barn::open_embedded_with(dir.path(), options())
        .await
        .unwrap();
    let missing: Vec<u64> = barn
        .read(|state| {
            (1..=acked)
                .filter(|i| state.herd(&herd(*i)).is_none())
                .collect()
        })
        .await
        .unwrap();
    assert_eq!(missing, Vec::<u64>::new(), "acknowledged writes lost");
    let status = barn.status();
    assert!(
        status.snapshot_index.is_some(),
        "snapshots were taken: {status:?}"
    );
    barn.close().await.unwrap();
}
