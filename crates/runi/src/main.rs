//! `runi`: Runink's one binary. This file parses the command line, sets up
//! logging, runs the command and turns its outcome into an exit code. The
//! commands hold no logic of their own; they call the library crates.

#[macro_use]
mod stdout;

mod agent;
mod barn_client;
mod bundle;
mod cli;
mod commands;
mod contract_cache;
mod exit;
mod interrupt;
mod ledger;
mod output;
mod progress_bar;
mod run_id;
mod run_settings;
mod run_text;
mod scenario_file;
mod state_dir;
mod summary;
mod write_atomically;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::exit::Exit;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // clap prints help and version on stdout (exit 0) and usage errors on stderr (exit 2).
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() {
                Exit::Usage as u8
            } else {
                Exit::Ok as u8
            });
        }
    };
    let log_time = match &cli.command {
        cli::Command::Barn(cli::BarnCommand::Start(_)) => output::LogTime::Stamped,
        _ => output::LogTime::Unstamped,
    };
    output::init_logging(&cli.global, log_time);
    // The slice worker reads no contract and may write nowhere.
    let known_valid = match cli.command {
        cli::Command::SliceWorker => None,
        _ => state_dir::state_dir()
            .ok()
            .map(|state| (contract_cache::load(&state), state)),
    };
    let outcome = commands::run(&cli);
    // Every run of this process has ended: its slices' cgroups go with it.
    runink_engine::release_slice_cgroups();
    if let Some((loaded, state)) = known_valid {
        contract_cache::save(&state, &loaded);
    }
    let exit = match outcome {
        Ok(exit) => exit,
        Err(failure) => {
            output::print_error(&cli.global, &failure.error);
            failure.exit
        }
    };
    // Output that could not be written is an infrastructure failure, unless
    // the command failed for a reason of its own.
    let exit = match exit {
        Exit::Ok if stdout::stdout_failed() => Exit::Infra,
        other => other,
    };
    ExitCode::from(exit as u8)
}
