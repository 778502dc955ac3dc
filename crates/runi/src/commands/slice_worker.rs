//! `runi slice-worker`: the process inside a slice of built-in steps. The
//! run that started it talks to it over stdin and stdout
//! (`runink_engine::serve_step_slice`); a step that fails is reported to
//! that run, which fails with the step's message, so nothing is printed
//! here then.

use std::os::fd::AsFd;

use runink_engine::{LendingPipeWriter, Served};

use crate::exit::{Exit, Failure, Outcome};

pub fn slice_worker() -> Outcome {
    runink_engine::keep_freed_memory();
    // Answers are lent to the stdout pipe rather than copied into it.
    let stdout = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| {
            Failure::infra(anyhow::anyhow!(
                "a slice worker cannot take its stdout: {e}"
            ))
        })?;
    let output = LendingPipeWriter::new(stdout);
    let served =
        runink_engine::serve_step_slice(std::io::stdin().lock(), output).map_err(Failure::infra)?;
    Ok(match served {
        Served::Finished => Exit::Ok,
        Served::FailureReported => Exit::Failures,
    })
}
