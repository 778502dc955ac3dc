//! `runi slice-worker`: the process inside a slice of built-in steps. The
//! run that started it talks to it over stdin and stdout
//! (`runink_engine::serve_step_slice`); a step that fails is reported to
//! that run, which fails with the step's message, so nothing is printed
//! here then.

use runink_engine::Served;

use crate::exit::{Exit, Failure, Outcome};

pub fn slice_worker() -> Outcome {
    runink_engine::keep_freed_memory();
    let served = runink_engine::serve_step_slice(std::io::stdin().lock(), std::io::stdout().lock())
        .map_err(Failure::infra)?;
    Ok(match served {
        Served::Finished => Exit::Ok,
        Served::FailureReported => Exit::Failures,
    })
}
