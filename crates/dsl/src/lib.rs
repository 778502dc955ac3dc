//! The scenario language: parse a `.dsl` file into a syntax tree with
//! diagnostics, format it canonically, and compile it into plans.

pub mod ast;
pub mod diagnostic;
pub mod parser;
pub mod span;
mod suggest;

pub use diagnostic::{Colour, Diagnostic, Severity};
pub use parser::parse;
pub mod compile;
pub mod format;
pub mod loader;
pub mod structure;

pub use compile::{Compilation, CompileOptions, compile};
pub use loader::{FsLoader, Loader};
