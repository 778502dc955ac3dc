//! `runi completions SHELL`: a completion script on stdout.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::exit::{Exit, Outcome};

pub fn completions(args: &CompletionsArgs) -> Outcome {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "runi", &mut std::io::stdout());
    Ok(Exit::Ok)
}
