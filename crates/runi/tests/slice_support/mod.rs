//! What the tests that start slices share.

/// True when slices can run here; otherwise says why the test skips (or
/// fails, when `RUNINK_REQUIRE_ISOLATION` is set, as in CI).
pub fn isolation_available(test: &str) -> bool {
    let probe = runink_slice::probe();
    let Some(missing) = probe.missing() else {
        return true;
    };
    let why = format!(
        "{test}: the kernel cannot give isolation here: {} is missing",
        missing.feature
    );
    assert!(
        std::env::var_os("RUNINK_REQUIRE_ISOLATION").is_none(),
        "{why}; RUNINK_REQUIRE_ISOLATION is set"
    );
    eprintln!("SKIPPED {why}");
    false
}

/// The run's report from `runi --json run`'s output.
pub fn report(output: &std::process::Output) -> serde_json::Value {
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    value["report"].clone()
}
