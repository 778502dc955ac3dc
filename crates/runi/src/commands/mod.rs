//! One module per command; each turns arguments into library calls and
//! prints the result.

mod barn;
mod cancel;
mod check;
mod completions;
mod contract;
mod contract_detokenize;
mod contract_diff;
mod contract_infer;
mod contract_synth;
mod contract_validate;
mod explain;
mod fmt;
mod graph;
mod logs;
mod run;
mod run_remote;
mod runs;
mod slice_worker;
mod status;
mod test;

use crate::cli::{Cli, Command};
use crate::exit::Outcome;

pub fn run(cli: &Cli) -> Outcome {
    match &cli.command {
        Command::Check(args) => check::check(&cli.global, args),
        Command::Explain(args) => explain::explain(&cli.global, args),
        Command::Graph(args) => graph::graph(&cli.global, args),
        Command::Fmt(args) => fmt::fmt(&cli.global, args),
        Command::Run(args) => run::run(&cli.global, args),
        Command::Test(args) => test::test(&cli.global, args),
        Command::Runs(args) => runs::runs(&cli.global, args),
        Command::Status(args) => status::status(&cli.global, args),
        Command::Logs(args) => logs::logs(&cli.global, args),
        Command::Cancel(args) => cancel::cancel(&cli.global, args),
        Command::Contract(command) => contract::contract(&cli.global, command),
        Command::Barn(command) => barn::barn(&cli.global, command),
        Command::Completions(args) => completions::completions(args),
        Command::SliceWorker => slice_worker::slice_worker(),
    }
}
