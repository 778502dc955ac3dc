//! Two processes on one data folder: the second fails clearly, naming the
//! folder and the first's pid, and succeeds once the first has closed.
//!
//! The test binary runs itself again as the first process: with
//! `HOLD_FOLDER_ENV` set, this test opens the folder, says it is ready, and
//! holds it until its stdin closes.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Stdio};

use runink_barn::{Barn, BarnError, BarnOptions, Command, unix_now_ms};
use runink_model::HerdName;

const HOLD_FOLDER_ENV: &str = "RUNINK_BARN_TEST_HOLD_FOLDER";
const READY: &str = "holder-ready";
const TEST_NAME: &str = "a_second_process_is_refused_naming_the_first_then_gets_the_folder";

fn options(lock_wait_ms_max: u64) -> BarnOptions {
    BarnOptions {
        lock_wait_ms_max,
        ..BarnOptions::default()
    }
}

/// The first process: hold the folder until told to let go.
async fn hold(dir: &Path) {
    let barn = Barn::open_embedded_with(dir, options(0))
        .await
        .expect("the holder opens the folder");
    let herd = HerdName::new("held").expect("a valid herd name");
    barn.write(Command::PutHerd {
        herd,
        at_ms: unix_now_ms(),
    })
    .await
    .expect("the holder writes")
    .expect("the write is applied");
    // libtest prints the test's name on the same line first.
    println!("{READY}");
    tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new()))
        .await
        .expect("the stdin reader finishes")
        .expect("stdin reads to its end");
    barn.close().await.expect("the holder closes");
}

#[expect(
    clippy::disallowed_methods,
    reason = "a test of two processes must start one; it runs this test binary, not user code"
)]
fn spawn_holder(dir: &Path) -> Child {
    let exe = std::env::current_exe().expect("the test binary's path");
    std::process::Command::new(exe)
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env(HOLD_FOLDER_ENV, dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the holder process starts")
}

#[tokio::test]
async fn a_second_process_is_refused_naming_the_first_then_gets_the_folder() {
    if let Some(dir) = std::env::var_os(HOLD_FOLDER_ENV) {
        hold(Path::new(&dir)).await;
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut holder = spawn_holder(dir.path());
    // Kept open to the end: the holder writes its test result there.
    let mut stdout = BufReader::new(holder.stdout.take().unwrap());
    let ready = stdout
        .by_ref()
        .lines()
        .map_while(Result::ok)
        .any(|line| line.ends_with(READY));
    assert!(ready, "the holder opened the folder");

    let refused = Barn::open_embedded_with(dir.path(), options(100))
        .await
        .unwrap_err();
    assert!(matches!(refused, BarnError::Locked { .. }), "{refused:?}");
    let message = refused.to_string();
    assert!(
        message.contains(&dir.path().display().to_string()),
        "{message}"
    );
    assert!(
        message.contains(&format!("another process (pid {})", holder.id())),
        "{message}"
    );

    // Closing the holder's stdin lets it close; the waiting open then
    // succeeds and sees what the holder wrote.
    drop(holder.stdin.take());
    let barn = Barn::open_embedded_with(dir.path(), options(60_000))
        .await
        .unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(
        holder.wait().unwrap().success(),
        "the holder closed cleanly: {rest}"
    );
    let held = HerdName::new("held").unwrap();
    assert!(barn.read(|s| s.herd(&held).is_some()).await.unwrap());
    barn.close().await.unwrap();
}
