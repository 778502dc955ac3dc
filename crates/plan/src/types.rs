//! The plan's data: everything a run needs, resolved and checked.

use std::collections::BTreeMap;

use runink_model::{DagHash, DurationSpec, HerdName, Resources, Sha256Hex};
use serde::{Deserialize, Serialize};

/// One compiled scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub feature: String,
    pub scenario: String,
    /// The `.dsl` file, as given; relative paths in the plan resolve against its folder.
    pub file: String,
    pub dag_hash: DagHash,
    pub herd: HerdName,
    pub module: Module,
    pub schedule: Option<String>,
    pub windows: Vec<Window>,
    pub emits: Vec<String>,
    /// Resources and placement that apply to every slice unless a step overrides them.
    pub defaults: Placement,
    pub input_contract: Option<ContractRef>,
    pub output_contract: Option<ContractRef>,
    pub sources: Vec<Source>,
    pub steps: Vec<Step>,
    pub slices: Vec<Slice>,
    pub sinks: Vec<Sink>,
    pub dlq: Dlq,
    pub golden: Option<Golden>,
    pub asserts: Vec<String>,
    pub prose: Vec<Prose>,
}

impl Plan {
    /// Where the plan writes: each sink's endpoint, then the DLQ's.
    pub fn outputs(&self) -> impl Iterator<Item = &Endpoint> {
        self.sinks
            .iter()
            .map(|sink| &sink.endpoint)
            .chain(std::iter::once(&self.dlq.endpoint))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Module {
    pub layer: Option<String>,
    pub domain: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Placement {
    pub resources: Resources,
    pub affinity: Option<Affinity>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Affinity {
    /// Nodes must carry this label.
    pub label: Option<String>,
    /// Run on the same node as the named step.
    pub colocate_with: Option<String>,
}

/// A window declaration: reserved for streaming, carried and shown now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Window {
    Tumbling {
        size: DurationSpec,
    },
    Sliding {
        size: DurationSpec,
        every: DurationSpec,
    },
    Session {
        gap: DurationSpec,
    },
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Window::Tumbling { size } => write!(f, "tumbling {size}"),
            Window::Sliding { size, every } => write!(f, "sliding {size} every {every}"),
            Window::Session { gap } => write!(f, "session gap {gap}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContractRef {
    /// As written in the scenario, relative to the `.dsl` file's folder.
    pub path: String,
    /// The schema object whose columns the rows must match.
    pub object: String,
    pub hash: Sha256Hex,
    pub columns: Vec<String>,
    /// Columns the contract marks sensitive (PII and the like).
    pub sensitive_columns: Vec<String>,
}

/// The formats Runink reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DataFormat {
    Csv,
    Jsonl,
    Parquet,
    Arrow,
}

impl DataFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            DataFormat::Csv => "csv",
            DataFormat::Jsonl => "jsonl",
            DataFormat::Parquet => "parquet",
            DataFormat::Arrow => "arrow",
        }
    }
}

/// Where rows come from or go to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Location {
    /// A file path as written, relative to the `.dsl` file's folder unless absolute.
    File {
        path: String,
    },
    Stdin,
    Stdout,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    /// The URI in canonical spelling (`jsonl://…` for `json://…`).
    pub uri: String,
    pub format: DataFormat,
    pub location: Location,
}

/// A typed option value as written after a URI or step name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum OptionValue {
    Text(String),
    Integer(i64),
    Flag(bool),
}

impl std::fmt::Display for OptionValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OptionValue::Text(text) => write!(f, "{text:?}"),
            OptionValue::Integer(n) => write!(f, "{n}"),
            OptionValue::Flag(b) => write!(f, "{b}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    pub endpoint: Endpoint,
    pub options: BTreeMap<String, OptionValue>,
    /// Free metadata carried into lineage (`meta.region="us"`).
    pub meta: BTreeMap<String, String>,
    pub window: Option<Window>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// 1-based position in the scenario.
    pub number: usize,
    /// `name=` if given, else the step's kind or registry name.
    pub label: String,
    pub kind: StepKind,
    /// The slice this step runs in (1-based).
    pub slice: usize,
    pub line: usize,
}

/// Where a step's definition came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum StepOrigin {
    Inline,
    /// A named step found in a `steps/` folder.
    Registry {
        name: String,
        path: String,
        hash: Sha256Hex,
    },
}

/// How an `exec` step exchanges rows with its program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecFormat {
    Jsonl,
    Csv,
    Arrow,
}

impl ExecFormat {
    pub const NAMES: [&'static str; 3] = ["jsonl", "csv", "arrow"];

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "jsonl" | "json" => Some(Self::Jsonl),
            "csv" => Some(Self::Csv),
            "arrow" => Some(Self::Arrow),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ExecFormat::Jsonl => "jsonl",
            ExecFormat::Csv => "csv",
            ExecFormat::Arrow => "arrow",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "lowercase")]
pub enum StepKind {
    Mask {
        /// The columns masked: those listed, or the contract's sensitive ones.
        fields: Vec<String>,
        explicit: bool,
    },
    Filter {
        predicate: String,
    },
    Derive {
        columns: Vec<(String, String)>,
    },
    Select {
        columns: Vec<String>,
    },
    Rename {
        pairs: Vec<(String, String)>,
    },
    Cast {
        columns: Vec<(String, String)>,
    },
    Dedupe {
        keys: Vec<String>,
    },
    Sql {
        query: String,
        origin: StepOrigin,
    },
    Exec {
        cmd: String,
        format: ExecFormat,
        network: bool,
        origin: StepOrigin,
    },
}

impl StepKind {
    pub fn name(&self) -> &'static str {
        match self {
            StepKind::Mask { .. } => "mask",
            StepKind::Filter { .. } => "filter",
            StepKind::Derive { .. } => "derive",
            StepKind::Select { .. } => "select",
            StepKind::Rename { .. } => "rename",
            StepKind::Cast { .. } => "cast",
            StepKind::Dedupe { .. } => "dedupe",
            StepKind::Sql { .. } => "sql",
            StepKind::Exec { .. } => "exec",
        }
    }

    /// Built-in steps run Runink's own code; `exec` runs the user's program.
    pub fn is_trusted(&self) -> bool {
        !matches!(self, StepKind::Exec { .. })
    }
}

/// Why a slice boundary is where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SliceReason {
    /// Built-in steps share one slice by default.
    Default,
    /// `@requires(...)` above a step starts a new slice.
    Requires { line: usize },
    /// Every `exec` step runs in a slice of its own.
    Exec,
    /// Built-in steps that follow an `exec` step start a new slice.
    AfterExec,
}

impl std::fmt::Display for SliceReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SliceReason::Default => f.write_str("built-in steps share the default slice"),
            SliceReason::Requires { line } => write!(f, "`@requires` on line {line} starts it"),
            SliceReason::Exec => f.write_str("an `exec` step always runs in a slice of its own"),
            SliceReason::AfterExec => f.write_str("built-in steps after an `exec` step"),
        }
    }
}

/// One group of steps that runs as one isolated process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Slice {
    /// 1-based.
    pub number: usize,
    /// Step numbers (1-based) in this slice, in order.
    pub steps: Vec<usize>,
    pub reason: SliceReason,
    /// Runs Runink's own code only; the rows an untrusted slice emits are checked by the agent.
    pub trusted: bool,
    pub placement: Placement,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sink {
    /// Names the sink in summaries and golden files; defaults to the file stem.
    pub name: String,
    pub endpoint: Endpoint,
    /// A row goes to this sink when this SQL expression holds; `None` means every row.
    pub when: Option<String>,
    /// A role-scoped sink: columns whose contract `access` names another role are masked.
    pub role: Option<String>,
    pub options: BTreeMap<String, OptionValue>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dlq {
    pub endpoint: Endpoint,
    /// True when the scenario named no `@dlq` and the default was derived.
    pub defaulted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Golden {
    pub dir: String,
    pub ordered: bool,
}

/// A Given/When/Then line: documentation kept with the plan, never executed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Prose {
    pub keyword: String,
    pub text: String,
}
