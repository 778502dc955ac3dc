//! The compiled scenario: a validated pipeline DAG with its slices and its
//! identity (`dag_hash`), and the ways to show it to people (explain, dot,
//! mermaid). Built by the `dsl` compiler; executed by the engine.

mod explain;
mod graph;
mod hash;
mod types;

pub use explain::explain_text;
pub use graph::{GraphFormat, render_graph};
pub use hash::compute_dag_hash;
pub use types::*;
