//! `runi logs RUN`: a run's log lines, oldest first, from `--level` up.

use runink_barn::{EventLevel, RunId};

use crate::barn_client::{history, history_failure};
use crate::cli::{GlobalOptions, LogLevelArg, LogsArgs};
use crate::commands::status::unknown_run;
use crate::exit::{Exit, Failure, Outcome};
use crate::output::print_json;
use crate::run_text::log_text;

pub fn logs(global: &GlobalOptions, args: &LogsArgs) -> Outcome {
    let history = history(&args.history)?;
    let id = RunId(args.run);
    let Some(mut events) = history.events(id).map_err(history_failure)? else {
        return Err(Failure::usage(unknown_run(id, history.as_ref())));
    };
    let floor = level(args.level);
    events.retain(|event| event.level >= floor);
    if global.json {
        print_json(&events).map_err(Failure::infra)?;
    } else {
        out!("{}", log_text(&events));
    }
    Ok(Exit::Ok)
}

fn level(arg: LogLevelArg) -> EventLevel {
    match arg {
        LogLevelArg::Debug => EventLevel::Debug,
        LogLevelArg::Info => EventLevel::Info,
        LogLevelArg::Warn => EventLevel::Warn,
        LogLevelArg::Error => EventLevel::Error,
    }
}
