//! The command line, declared with clap. Doc comments here are the help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Runink: data pipelines with contracts, isolation and lineage, in one binary.
#[derive(Debug, Parser)]
#[command(name = "runi", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 ok; 1 the run or check found failures; 2 usage or input error; 3 infrastructure error."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOptions,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalOptions {
    /// Print machine-readable JSON on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Print only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more: -v for progress, -vv for debugging, -vvv for everything.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// When to colour output; `auto` colours a terminal unless NO_COLOR is set.
    #[arg(long, global = true, value_enum, default_value_t = ColourChoice::Auto)]
    pub color: ColourChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColourChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and compile scenario files; report every error with its place.
    Check(CheckArgs),
    /// Describe the compiled plan of a scenario in words (or JSON).
    Explain(ExplainArgs),
    /// Draw a scenario's pipeline as Graphviz dot or Mermaid.
    Graph(GraphArgs),
    /// Rewrite scenario files in the canonical spelling.
    Fmt(FmtArgs),
    /// Run a scenario: read, check, transform and write its data.
    Run(RunArgs),
    /// Run the scenarios that have `@golden(DIR)` and compare every output with DIR.
    Test(TestArgs),
    /// List recorded runs, newest first.
    Runs(RunsArgs),
    /// Show one run: status, scenario, hashes, times, counts, outputs and why it failed.
    Status(StatusArgs),
    /// Print a run's log.
    Logs(LogsArgs),
    /// Cancel a run submitted to a cluster that has not started yet.
    Cancel(CancelArgs),
    /// Work with ODCS data contracts.
    #[command(subcommand)]
    Contract(ContractCommand),
    /// Run and manage a Barn cluster: the Raft-replicated control plane.
    #[command(subcommand)]
    Barn(BarnCommand),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Serve a slice of built-in steps on stdin and stdout. `runi run`
    /// starts this inside a confined process; it is not for people.
    #[command(name = "slice-worker", hide = true)]
    SliceWorker,
}

#[derive(Debug, Subcommand)]
pub enum ContractCommand {
    /// Validate contracts against the ODCS JSON Schema of their `apiVersion`; list every problem.
    Check(ContractFilesArgs),
    /// Print each contract's canonical hash (SHA-256; layout, key order and comments do not change it).
    Hash(ContractFilesArgs),
    /// List what changed from OLD to NEW (columns, types, rules, classifications),
    /// each change compatible or breaking for the data's readers.
    #[command(
        after_help = "Exit codes: 0 the diff was printed (and `--fail-on` found nothing); \
1 `--fail-on` found a change of that kind; 2 a contract is missing or invalid."
    )]
    Diff(ContractDiffArgs),
    /// Check a data file (CSV, JSON Lines, Parquet, Arrow) against a contract:
    /// every row, every rule; a summary per rule, rejected rows to `--dlq`.
    #[command(
        after_help = "Exit codes: 0 every row passed; 1 some rows were rejected \
(or could not be read); 2 bad arguments, contract or data file; 3 the DLQ could not be written."
    )]
    Validate(ContractValidateArgs),
    /// Draft a contract from a data file: types, required, obvious patterns,
    /// value lists for low-cardinality text, likely PII marked for review. YAML on stdout.
    Infer(ContractInferArgs),
    /// Generate rows that pass the contract; with `--invalid-ratio`, rows that each
    /// break exactly one rule, listed (row, field, rule) in a side file.
    Synth(ContractSynthArgs),
    /// Turn `tok_…` tokens made by `mask: tokenize` back into their values,
    /// with the herd's key from the local state folder.
    Detokenize(ContractDetokenizeArgs),
}

#[derive(Debug, Args)]
pub struct ContractDiffArgs {
    /// The contract as it was.
    pub old: PathBuf,
    /// The contract as it is now.
    pub new: PathBuf,
    /// Exit 1 when there is a change of this kind (for CI gates).
    #[arg(long, value_enum, default_value_t = FailOn::Never)]
    pub fail_on: FailOn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Never: only print the changes.
    Never,
    /// Any breaking change.
    Breaking,
    /// Any change at all.
    Any,
}

/// The format of a data file; by default, from its extension
/// (`.csv`, `.jsonl`/`.ndjson`/`.json`, `.parquet`, `.arrow`, then `.gz`/`.zst`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DataFormatArg {
    Csv,
    Jsonl,
    Parquet,
    Arrow,
}

#[derive(Debug, Args)]
pub struct ContractValidateArgs {
    /// The data file.
    pub data: PathBuf,
    /// The contract (ODCS v3 YAML).
    #[arg(long)]
    pub contract: PathBuf,
    /// The schema object to check against (default: the contract's first).
    #[arg(long)]
    pub object: Option<String>,
    /// The data's format, when its extension does not say.
    #[arg(long, value_enum)]
    pub format: Option<DataFormatArg>,
    /// Write rejected rows here as JSON Lines, each with `_runink` = rule, field, message, line.
    #[arg(long, value_name = "OUT")]
    pub dlq: Option<PathBuf>,
    /// Count and list every rule a rejected row breaks, not only the first.
    #[arg(long)]
    pub all_violations: bool,
    /// Reject every row when the file's columns differ from the contract's.
    #[arg(long)]
    pub block_on_drift: bool,
    /// CSV field delimiter.
    #[arg(long, default_value_t = ',')]
    pub delimiter: char,
    /// The CSV file has no header line (columns in contract order).
    #[arg(long)]
    pub no_header: bool,
    /// The herd whose masking keys mask sensitive values in the DLQ.
    #[arg(long, default_value = "default")]
    pub herd: String,
    /// The masking salt, instead of the herd's; also read from `RUNINK_MASK_SALT`.
    #[arg(long, env = "RUNINK_MASK_SALT", hide_env_values = true)]
    pub mask_salt: Option<String>,
    /// Rows per record batch.
    #[arg(long, default_value_t = runink_engine::Limits::default().batch_rows_max as u32, value_parser = clap::value_parser!(u32).range(1..=runink_engine::BATCH_ROWS_MAX_CEILING as i64))]
    pub batch_rows_max: u32,
    /// Batches queued between reading and checking (backpressure bound).
    #[arg(long, default_value_t = runink_engine::Limits::default().queue_len_max as u32, value_parser = clap::value_parser!(u32).range(1..))]
    pub queue_len_max: u32,
    /// Distinct keys remembered per unique key.
    #[arg(long, default_value_t = runink_engine::Limits::default().unique_keys_max)]
    pub unique_keys_max: usize,
}

#[derive(Debug, Args)]
pub struct ContractInferArgs {
    /// The data file.
    pub data: PathBuf,
    /// The data's format, when its extension does not say.
    #[arg(long, value_enum)]
    pub format: Option<DataFormatArg>,
    /// The contract's name (default: the file's name without extensions).
    #[arg(long)]
    pub name: Option<String>,
    /// CSV field delimiter.
    #[arg(long, default_value_t = ',')]
    pub delimiter: char,
    /// Distinct values remembered per column to tell whether it is unique.
    #[arg(long, default_value_t = 10_000_000)]
    pub distinct_keys_max: usize,
}

#[derive(Debug, Args)]
pub struct ContractSynthArgs {
    /// The contract (ODCS v3 YAML).
    pub file: PathBuf,
    /// How many rows to make.
    #[arg(long)]
    pub rows: u64,
    /// Share of rows (0 to 1) that each break exactly one rule.
    #[arg(long, default_value_t = 0.0)]
    pub invalid_ratio: f64,
    /// The same seed makes the same rows.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The output format.
    #[arg(long, value_enum)]
    pub format: DataFormatArg,
    /// Write here (atomically); default stdout (not for Parquet).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Where the list of broken rows goes (JSON Lines: row, field, rule, value);
    /// default `OUT.broken.jsonl`.
    #[arg(long)]
    pub broken: Option<PathBuf>,
    /// The schema object to generate (default: the contract's first).
    #[arg(long)]
    pub object: Option<String>,
    /// Rows per generated batch.
    #[arg(long, default_value_t = runink_engine::Limits::default().batch_rows_max as u32, value_parser = clap::value_parser!(u32).range(1..=runink_engine::BATCH_ROWS_MAX_CEILING as i64))]
    pub batch_rows_max: u32,
}

#[derive(Debug, Args)]
pub struct ContractDetokenizeArgs {
    /// Tokens (`tok_…`).
    #[arg(required = true)]
    pub tokens: Vec<String>,
    /// The herd whose key made the tokens.
    #[arg(long, default_value = "default")]
    pub herd: String,
}

#[derive(Debug, Args)]
pub struct ContractFilesArgs {
    /// Contract files (ODCS v3 YAML).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Scenario files (`.dsl`).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A scenario file (`.dsl`).
    pub file: PathBuf,
    /// Only the scenario with this name.
    #[arg(long)]
    pub scenario: Option<String>,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// A scenario file (`.dsl`).
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormatArg::Dot)]
    pub format: GraphFormatArg,
    /// Only the scenario with this name.
    #[arg(long)]
    pub scenario: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormatArg {
    Dot,
    Mermaid,
}

#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Scenario files (`.dsl`) to rewrite in place.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Change nothing; exit 1 if any file is not in canonical form.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// A scenario file (`.dsl`).
    pub file: PathBuf,
    /// Only the scenario with this name.
    #[arg(long)]
    pub scenario: Option<String>,
    /// Read and check every input and report what would be written; write nothing.
    #[arg(long, conflicts_with = "server")]
    pub dry_run: bool,
    /// In the DLQ, list every rule a rejected row breaks, not only the first.
    #[arg(long)]
    pub all_violations: bool,
    /// Reject rows whose columns differ from the contract (extra or missing
    /// columns) instead of reporting the drift and going on.
    #[arg(long)]
    pub block_on_drift: bool,
    /// The masking salt, instead of the herd's (for reproducible output);
    /// also read from `RUNINK_MASK_SALT`.
    #[arg(long, env = "RUNINK_MASK_SALT", hide_env_values = true)]
    pub mask_salt: Option<String>,
    /// Rows per record batch.
    #[arg(long, default_value_t = runink_engine::Limits::default().batch_rows_max as u32, value_parser = clap::value_parser!(u32).range(1..=runink_engine::BATCH_ROWS_MAX_CEILING as i64))]
    pub batch_rows_max: u32,
    /// Batches queued between reading and processing (backpressure bound).
    #[arg(long, default_value_t = runink_engine::Limits::default().queue_len_max as u32, value_parser = clap::value_parser!(u32).range(1..))]
    pub queue_len_max: u32,
    /// Distinct keys remembered per unique key or `dedupe` step.
    #[arg(long, default_value_t = runink_engine::Limits::default().unique_keys_max)]
    pub unique_keys_max: usize,
    /// Rows a `sql` step holds (it sees its whole input); memory grows with it.
    #[arg(long, default_value_t = runink_engine::Limits::default().sql_rows_max as u64, value_parser = clap::value_parser!(u64).range(1..))]
    pub sql_rows_max: u64,
    /// Confine step code in slices (`slice`), or opt out explicitly (`none`:
    /// `exec` programs run as ordinary processes, with no limits).
    #[arg(long, value_enum, default_value_t = IsolationArg::Slice)]
    pub isolation: IsolationArg,
    /// Submit the run to a Barn cluster instead of running it here: the
    /// leader places it on a node's agent (docs/remote-runs.md).
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// With --server: print the run's number once it is submitted, and
    /// return without waiting for it to end.
    #[arg(long, requires = "server")]
    pub detach: bool,
    /// With --server: how long to wait for the run to end, in seconds,
    /// before returning (the run goes on). At most 366 days.
    #[arg(long, requires = "server", default_value_t = 86_400, value_parser = clap::value_parser!(u64).range(1..=WAIT_S_MAX))]
    pub wait_s: u64,
}

/// Longest `--wait-s`: a year and a day. A deadline much further out would
/// not fit the clock's type.
pub const WAIT_S_MAX: u64 = 366 * 86_400;

/// `--server` and its certificates, for the commands that can read or
/// write a Barn cluster instead of the local state folder.
#[derive(Debug, Args)]
pub struct RemoteArgs {
    /// A Barn node's URL (http://HOST:PORT with --insecure nodes, or
    /// https://HOST:PORT); without it, the local state folder.
    #[arg(long)]
    pub server: Option<String>,
    #[command(flatten)]
    pub tls: TlsArgs,
}

/// `--isolation`.
/// Where `runi runs`, `status` and `logs` read runs.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// With --server: read what the node asked holds, without asking a
    /// quorum; it answers during an outage, but may lag behind the
    /// cluster's latest runs.
    #[arg(long, requires = "server")]
    pub stale: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum IsolationArg {
    Slice,
    None,
}

impl IsolationArg {
    /// The engine's setting; opting out is logged, never silent.
    pub fn engine(self) -> runink_engine::Isolation {
        crate::run_settings::isolation(self == IsolationArg::Slice)
    }
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// A scenario file (`.dsl`).
    pub file: PathBuf,
    /// Only the scenario with this name.
    #[arg(long)]
    pub scenario: Option<String>,
    /// Rewrite the expected files from this run's outputs.
    #[arg(long)]
    pub update: bool,
    /// As for `runi run`.
    #[arg(long, value_enum, default_value_t = IsolationArg::Slice)]
    pub isolation: IsolationArg,
}

#[derive(Debug, Args)]
pub struct RunsArgs {
    /// Only runs in this status (repeat, or separate with commas, for several).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub status: Vec<RunStatusArg>,
    /// Only runs of the scenario with this name.
    #[arg(long)]
    pub scenario: Option<String>,
    /// Only runs in this herd.
    #[arg(long)]
    pub herd: Option<String>,
    /// Only runs of the scenario with this `dag_hash`.
    #[arg(long)]
    pub dag_hash: Option<String>,
    /// At most this many runs, the newest.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: u32,
    #[command(flatten)]
    pub history: HistoryArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RunStatusArg {
    Pending,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The run's number, as `runi run` and `runi runs` show it.
    #[arg(value_parser = parse_run_id)]
    pub run: u64,
    #[command(flatten)]
    pub history: HistoryArgs,
}

#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The run's number, as `runi run --server` and `runi runs` show it.
    #[arg(value_parser = parse_run_id)]
    pub run: u64,
    /// A Barn node's URL (http://HOST:PORT with --insecure nodes, or https://HOST:PORT).
    #[arg(long)]
    pub server: String,
    #[command(flatten)]
    pub tls: TlsArgs,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The run's number, as `runi run` and `runi runs` show it.
    #[arg(value_parser = parse_run_id)]
    pub run: u64,
    /// Only lines at this level or above.
    #[arg(long, value_enum, default_value_t = LogLevelArg::Debug)]
    pub level: LogLevelArg,
    #[command(flatten)]
    pub history: HistoryArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum LogLevelArg {
    Debug,
    Info,
    Warn,
    Error,
}

fn parse_run_id(text: &str) -> Result<u64, String> {
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| {
            format!("expected a run number such as `42` (`runi runs` lists them), not `{text}`")
        })
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Subcommand)]
pub enum BarnCommand {
    /// Start a Barn node and serve until stopped (SIGINT or SIGTERM).
    Start(BarnStartArgs),
    /// Show a node's raft state: members, leader, term, commit and applied
    /// index, each follower's lag.
    Status(BarnServerArgs),
    /// Add a node: it joins as a learner, catches up, then becomes a voter.
    Add(BarnAddArgs),
    /// Remove a node from the cluster (through joint consensus for a voter).
    Remove(BarnRemoveArgs),
    /// Create a development CA, a certificate for each node and one for clients.
    Certs(BarnCertsArgs),
    /// Create a herd (a tenant) with the default policy: a run submitted
    /// with `--server` must name a herd the cluster has.
    Herd(BarnHerdArgs),
}

/// Certificates for mutual TLS, all three or none.
#[derive(Debug, Args)]
pub struct TlsArgs {
    /// The CA certificate (PEM) that signs every node and client.
    #[arg(long, requires_all = ["cert", "key"])]
    pub ca: Option<PathBuf>,
    /// This party's certificate (PEM), signed by the CA.
    #[arg(long, requires_all = ["ca", "key"])]
    pub cert: Option<PathBuf>,
    /// This party's private key (PEM).
    #[arg(long, requires_all = ["ca", "cert"])]
    pub key: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BarnStartArgs {
    /// This node's id (1 or more), unique in the cluster.
    #[arg(long)]
    pub id: u64,
    /// Where to serve peers and clients, HOST:PORT; peers reach this node there.
    #[arg(long)]
    pub listen: String,
    /// The initial voters, ID=HOST:PORT,... (this node included); the same on every node.
    #[arg(long, value_delimiter = ',')]
    pub peers: Vec<String>,
    /// A running node (HOST:PORT) to ask to add this one.
    #[arg(long, conflicts_with = "peers")]
    pub join: Option<String>,
    /// The node's data folder (created if missing).
    #[arg(long)]
    pub data: PathBuf,
    /// Build a snapshot after this many log entries since the last one.
    #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub snapshot_logs: u64,
    /// Log entries kept behind a snapshot, so that a follower a little behind
    /// catches up from the log rather than from a whole snapshot.
    #[arg(long, default_value_t = 1_000)]
    pub logs_kept_after_snapshot: u64,
    /// Serve and connect without TLS. Only on a trusted network.
    #[arg(long, conflicts_with_all = ["ca", "cert", "key"])]
    pub insecure: bool,
    /// Run no agent on this node: the leader places no runs here.
    #[arg(long)]
    pub no_agent: bool,
    /// Threads for the node's async work (API, Raft, peers). One avoids
    /// hand-offs between threads, which is what a write costs most; raise
    /// it for a node serving many clients on a machine with many cores.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub worker_threads: u32,
    #[command(flatten)]
    pub tls: TlsArgs,
}

#[derive(Debug, Args)]
pub struct BarnServerArgs {
    /// A node's URL: http://HOST:PORT (a node started with --insecure) or https://HOST:PORT.
    #[arg(long)]
    pub server: String,
    #[command(flatten)]
    pub tls: TlsArgs,
}

#[derive(Debug, Args)]
pub struct BarnAddArgs {
    #[command(flatten)]
    pub server: BarnServerArgs,
    /// The new node's id.
    #[arg(long)]
    pub id: u64,
    /// Where the new node listens, HOST:PORT (it must be started, with no --peers).
    #[arg(long)]
    pub addr: String,
}

#[derive(Debug, Args)]
pub struct BarnHerdArgs {
    #[command(flatten)]
    pub server: BarnServerArgs,
    /// The herd's name, as scenarios give it in `@herd("NAME")`.
    pub name: String,
}

#[derive(Debug, Args)]
pub struct BarnRemoveArgs {
    #[command(flatten)]
    pub server: BarnServerArgs,
    /// The id of the node to remove.
    #[arg(long)]
    pub id: u64,
}

#[derive(Debug, Args)]
pub struct BarnCertsArgs {
    /// The folder to write ca.pem, node-N.pem, client.pem and their -key.pem files into.
    #[arg(long)]
    pub out: PathBuf,
    /// How many node certificates to make.
    #[arg(long, default_value_t = 3)]
    pub nodes: u64,
    /// The names and IP addresses the certificates are valid for.
    #[arg(long, value_delimiter = ',', default_value = "localhost,127.0.0.1")]
    pub hosts: Vec<String>,
}
