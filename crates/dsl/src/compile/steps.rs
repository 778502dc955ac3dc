//! `@step(...)`: built-in steps, and named steps from the registry, each
//! checked against the columns that reach it.

use std::path::Path;

use runink_model::{Resources, Sha256Hex};
use runink_plan::{ExecFormat, StepKind, StepOrigin};
use sha2::{Digest, Sha256};

use super::Context;
use super::args::{Args, backticked, split_list, value_text};
use super::registry::{self, Found, Manifest};
use super::schema::{Columns, check_refs};
use super::sql;
use crate::ast::{ArgValue, StrLit};
use crate::diagnostic::Diagnostic;
use crate::span::{Span, Spanned};
use crate::suggest::did_you_mean;

pub const BUILTIN_STEPS: [&str; 9] = [
    "mask", "filter", "derive", "select", "rename", "cast", "dedupe", "sql", "exec",
];

pub struct CompiledStep {
    pub label: String,
    pub kind: StepKind,
    /// Resources a named step's manifest asks for.
    pub resources: Option<Resources>,
}

/// What a step may read about the scenario's input contract.
pub struct ContractView<'a> {
    /// The scenario names an input contract.
    pub present: bool,
    /// It loaded: its columns and classes are known.
    pub loaded: bool,
    pub sensitive: &'a [String],
}

pub fn compile_step(
    ctx: &Context<'_>,
    args: &Args<'_>,
    columns: &mut Columns,
    contract: &ContractView<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<CompiledStep> {
    let name = args.single_positional(
        "step name",
        "`@step(\"filter\", where=\"amount > 0\")`",
        diagnostics,
    )?;
    fn keys(own: &[&'static str]) -> Vec<&'static str> {
        own.iter().copied().chain(["name"]).collect()
    }
    let kind = match name.value.as_str() {
        "mask" => {
            args.only_keys(&keys(&["fields"]), None, diagnostics);
            mask(args, columns, contract, diagnostics)?
        }
        "filter" => {
            args.only_keys(&keys(&["where"]), None, diagnostics);
            let predicate = args.require_str(
                "where",
                "`@step(\"filter\", where=\"amount > 0\")`",
                diagnostics,
            )?;
            check_expression(predicate, columns, "`where`", diagnostics);
            StepKind::Filter {
                predicate: predicate.value.clone(),
            }
        }
        "derive" => derive(args, columns, diagnostics)?,
        "select" => {
            args.only_keys(&keys(&["columns"]), None, diagnostics);
            let list = args.require_str(
                "columns",
                "`@step(\"select\", columns=\"a,b,c\")`",
                diagnostics,
            )?;
            let selected = known_names(list, columns, "`columns`", diagnostics);
            *columns = Columns(columns.0.as_ref().map(|_| selected.clone()));
            StepKind::Select { columns: selected }
        }
        "rename" => rename(args, columns, diagnostics)?,
        "cast" => cast(args, columns, diagnostics)?,
        "dedupe" => {
            args.only_keys(&keys(&["keys"]), None, diagnostics);
            let list = args.require_str(
                "keys",
                "`@step(\"dedupe\", keys=\"order_id\")`",
                diagnostics,
            )?;
            StepKind::Dedupe {
                keys: known_names(list, columns, "`keys`", diagnostics),
            }
        }
        "sql" => {
            args.only_keys(&keys(&["query"]), None, diagnostics);
            let query = args.require_str(
                "query",
                "`@step(\"sql\", query=\"SELECT ... FROM input\")`",
                diagnostics,
            )?;
            check_query(&query.value, query, columns, None, diagnostics)?;
            StepKind::Sql {
                query: query.value.clone(),
                origin: StepOrigin::Inline,
            }
        }
        "exec" => {
            args.only_keys(&keys(&["cmd", "format", "network"]), None, diagnostics);
            let cmd = args.require_str(
                "cmd",
                "`@step(\"exec\", cmd=\"python3 enrich.py\")`",
                diagnostics,
            )?;
            if cmd.value.trim().is_empty() {
                diagnostics.push(
                    Diagnostic::error(cmd.span, "`cmd` is empty")
                        .expected("a program and its arguments, like `python3 enrich.py`"),
                );
                return None;
            }
            let format = exec_format(args.get("format"), diagnostics)?;
            let network = args.get_bool("network", diagnostics).unwrap_or(false);
            *columns = Columns::unknown();
            StepKind::Exec {
                cmd: cmd.value.clone(),
                format,
                network,
                origin: StepOrigin::Inline,
            }
        }
        other => return named_step(ctx, args, name, other, columns, diagnostics),
    };
    Some(CompiledStep {
        label: label(args, &name.value, diagnostics),
        kind,
        resources: None,
    })
}

fn label(args: &Args<'_>, default: &str, diagnostics: &mut Vec<Diagnostic>) -> String {
    match args.get_str("name", diagnostics) {
        Some(name) if !name.value.trim().is_empty() => name.value.clone(),
        _ => default.to_owned(),
    }
}

fn mask(
    args: &Args<'_>,
    columns: &Columns,
    contract: &ContractView<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<StepKind> {
    if let Some(list) = args.get_str("fields", diagnostics) {
        let fields = known_names(list, columns, "`fields`", diagnostics);
        return Some(StepKind::Mask {
            fields,
            explicit: true,
        });
    }
    if !contract.present {
        diagnostics.push(
            Diagnostic::error(
                args.tag_span(),
                "`mask` has nothing to go by: the scenario names no contract",
            )
            .expected("`Given the contract: PATH` with PII columns, or `fields=\"a,b\"`"),
        );
        return None;
    }
    let fields: Vec<String> = contract
        .sensitive
        .iter()
        .filter(|c| columns.contains(c))
        .cloned()
        .collect();
    // A contract that did not load has its own error; nothing is known here.
    if fields.is_empty() && contract.loaded {
        diagnostics.push(
            Diagnostic::warning(
                args.tag_span(),
                "`mask` masks nothing: the contract marks no column here as PII",
            )
            .help("classify columns with `classification: pii`, or list them with `fields=`"),
        );
    }
    Some(StepKind::Mask {
        fields,
        explicit: false,
    })
}

/// The `NAME="VALUE"` arguments of `derive`, `rename` and `cast`, in order;
/// reports a step that has none.
fn column_pairs<'t>(
    args: &Args<'t>,
    step: &str,
    example: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Vec<(&'t Spanned<String>, &'t StrLit)>> {
    if args.named.is_empty() {
        diagnostics.push(
            Diagnostic::error(
                args.tag_span(),
                format!("`{step}` needs at least one `NAME=\"...\"`"),
            )
            .expected(example.to_owned()),
        );
        return None;
    }
    let pairs = args
        .named
        .iter()
        .filter_map(|(key, value)| string_value(value, &key.value, diagnostics).map(|v| (*key, v)))
        .collect();
    Some(pairs)
}

fn derive(
    args: &Args<'_>,
    columns: &mut Columns,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<StepKind> {
    let pairs = column_pairs(
        args,
        "derive",
        "`@step(\"derive\", total=\"amount * 2\")`",
        diagnostics,
    )?;
    let mut derived = Vec::new();
    for (name, expr) in pairs {
        if !is_column_name(&name.value) {
            diagnostics.push(not_a_column_name(name.span, &name.value));
            continue;
        }
        // Each expression sees the columns derived before it in the same step.
        check_expression(expr, columns, &format!("`{}`", name.value), diagnostics);
        columns.add(&name.value);
        derived.push((name.value.clone(), expr.value.clone()));
    }
    Some(StepKind::Derive { columns: derived })
}

fn rename(
    args: &Args<'_>,
    columns: &mut Columns,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<StepKind> {
    let pairs = column_pairs(
        args,
        "rename",
        "`@step(\"rename\", amt=\"amount\")`",
        diagnostics,
    )?;
    let mut renamed = Vec::new();
    for (old, new) in pairs {
        if !columns.contains(&old.value) {
            diagnostics.push(columns.missing(&old.value, old.span, "`rename`"));
        } else if !is_column_name(&new.value) {
            diagnostics.push(not_a_column_name(new.span, &new.value));
        } else if new.value != old.value
            && columns
                .0
                .as_ref()
                .is_some_and(|known| known.contains(&new.value))
        {
            // Two columns of one name: no later step could tell them apart.
            diagnostics.push(
                Diagnostic::error(
                    new.span,
                    format!("`{}` is already a column here", new.value),
                )
                .expected("a name no column has (or drop that column first with `select`)"),
            );
        } else {
            columns.rename(&old.value, &new.value);
            renamed.push((old.value.clone(), new.value.clone()));
        }
    }
    Some(StepKind::Rename { pairs: renamed })
}

fn cast(args: &Args<'_>, columns: &Columns, diagnostics: &mut Vec<Diagnostic>) -> Option<StepKind> {
    let pairs = column_pairs(
        args,
        "cast",
        "`@step(\"cast\", amount=\"DOUBLE\")`",
        diagnostics,
    )?;
    let mut casts = Vec::new();
    for (name, ty) in pairs {
        if !columns.contains(&name.value) {
            diagnostics.push(columns.missing(&name.value, name.span, "`cast`"));
        } else if let Err(error) = sql::parse_type(&ty.value) {
            diagnostics.push(
                Diagnostic::error(
                    ty.span,
                    format!("`{}` is not a SQL type: {}", ty.value, error.message),
                )
                .expected(
                    "a SQL type such as `BIGINT`, `DOUBLE`, `DECIMAL(10,2)`, `DATE` or `TIMESTAMP`",
                ),
            );
        } else {
            casts.push((name.value.clone(), ty.value.clone()));
        }
    }
    Some(StepKind::Cast { columns: casts })
}

fn not_a_column_name(span: Span, name: &str) -> Diagnostic {
    Diagnostic::error(span, format!("`{name}` is not a column name"))
        .expected("letters, digits and `_`")
}

fn string_value<'v>(
    value: &'v ArgValue,
    key: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<&'v StrLit> {
    super::args::expect_str(value, &format!("`{key}`"), diagnostics)
}

fn exec_format(value: Option<&ArgValue>, diagnostics: &mut Vec<Diagnostic>) -> Option<ExecFormat> {
    let Some(value) = value else {
        return Some(ExecFormat::Jsonl);
    };
    let text = value_text(value);
    let format = ExecFormat::parse(text);
    if format.is_none() {
        diagnostics.push(
            Diagnostic::error(value.span(), format!("unknown exec format `{text}`"))
                .expected(format!("one of {}", backticked(&ExecFormat::NAMES)))
                .help_opt(did_you_mean(text, ExecFormat::NAMES)),
        );
    }
    format
}

fn is_column_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// Parses an expression and checks the columns it names.
pub fn check_expression(
    lit: &StrLit,
    columns: &Columns,
    context: &str,
    diagnostics: &mut Vec<Diagnostic>,
) {
    match sql::parse_expression(&lit.value) {
        Ok(expr) => {
            let refs = sql::column_refs(&expr, &lit.value);
            check_refs(&refs, lit, columns, &[], context, diagnostics);
        }
        Err(error) => diagnostics.push(sql_diagnostic(
            lit,
            &error,
            &format!("{context} is not a valid SQL expression"),
        )),
    }
}

fn sql_diagnostic(lit: &StrLit, error: &sql::SqlError, what: &str) -> Diagnostic {
    // The offset is into the SQL text, which is `lit`'s only when the query
    // is written in the scenario (a step's `.sql` file has its own).
    let place = error
        .offset
        .and_then(|offset| Some((offset, lit.value.get(offset..)?)));
    let span = place.map_or(lit.span, |(offset, rest)| {
        // Underline the word at the offset, or one character.
        let word = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let first = rest.chars().next().map_or(0, char::len_utf8);
        let end = offset + word.max(first);
        lit.sub_span(offset, end.max(offset))
    });
    Diagnostic::error(span, format!("{what}: {}", error.message)).expected(
        "a SQL expression over the row's columns, like `amount > 0 AND currency IN ('USD','EUR')`",
    )
}

/// Checks a `sql` step's query and updates `columns` to what it produces.
/// `origin` names the file the query came from, for messages.
fn check_query(
    text: &str,
    lit: &StrLit,
    columns: &mut Columns,
    origin: Option<&str>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<()> {
    let within = origin.map_or(String::new(), |o| format!(" in `{o}`"));
    let query = match sql::parse_query(text) {
        Ok(query) => query,
        Err(error) => {
            let mut diagnostic =
                sql_diagnostic(lit, &error, &format!("the query{within} is not valid"));
            diagnostic.expected = Some("one `SELECT ... FROM input` query".to_owned());
            diagnostics.push(diagnostic);
            return None;
        }
    };
    let Some(input) = columns.0.clone() else {
        return Some(());
    };
    let shape = sql::select_shape(&query, &input);
    if shape.checkable {
        let refs = sql::column_refs(&query, text);
        check_refs(
            &refs,
            lit,
            columns,
            &shape.aliases,
            &format!("the query{within}"),
            diagnostics,
        );
    }
    *columns = Columns(shape.output);
    Some(())
}

/// A comma-separated list of columns that must all exist.
fn known_names(
    list: &StrLit,
    columns: &Columns,
    context: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<String> {
    let names = split_list(list);
    if names.is_empty() {
        diagnostics.push(
            Diagnostic::error(list.span, format!("{context} lists no columns"))
                .expected("column names separated by commas, like `\"a,b\"`"),
        );
    }
    let mut out: Vec<String> = Vec::new();
    for name in names {
        if out.contains(&name.value) {
            diagnostics.push(
                Diagnostic::error(name.span, format!("{context} lists `{}` twice", name.value))
                    .expected("each column once"),
            );
        } else if columns.contains(&name.value) {
            out.push(name.value);
        } else {
            diagnostics.push(columns.missing(&name.value, name.span, context));
        }
    }
    out
}

fn named_step(
    ctx: &Context<'_>,
    args: &Args<'_>,
    name: &StrLit,
    step: &str,
    columns: &mut Columns,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<CompiledStep> {
    let folders = registry::search_folders(ctx.base_dir, &ctx.options.steps_path);
    let valid_name = !step.is_empty()
        && step
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    let found = if valid_name {
        registry::find(step, &folders, ctx.loader)
    } else {
        None
    };
    let Some(found) = found else {
        let mut candidates: Vec<String> = BUILTIN_STEPS.iter().map(|s| (*s).to_owned()).collect();
        candidates.extend(registry::known_names(&folders, ctx.loader));
        let looked: Vec<String> = folders
            .iter()
            .map(|f| format!("`{}`", shown_path(ctx.base_dir, f)))
            .collect();
        diagnostics.push(
            Diagnostic::error(name.span, format!("unknown step `{step}`"))
                .expected(format!(
                    "a built-in step ({}) or a named step `{step}.sql`, `{step}` or `{step}.toml` in {}",
                    backticked(&BUILTIN_STEPS),
                    looked.join(", ")
                ))
                .help_opt(did_you_mean(step, candidates.iter().map(String::as_str))),
        );
        return None;
    };
    let found = match found {
        Ok(found) => found,
        Err(message) => {
            diagnostics.push(Diagnostic::error(
                name.span,
                format!("named step `{step}`: {message}"),
            ));
            return None;
        }
    };
    args.only_keys(&["name"], None, diagnostics);
    let path = shown_path(ctx.base_dir, found.path());
    let origin = |content: &[u8]| StepOrigin::Registry {
        name: step.to_owned(),
        path: path.clone(),
        hash: Sha256Hex::from_digest(&Sha256::digest(content)),
    };
    // The query lives in another file: point at the step's name.
    let at_name = StrLit {
        value: String::new(),
        span: name.span,
        verbatim: false,
    };
    let (kind, resources) = match &found {
        Found::Sql { text, .. } => {
            check_query(text, &at_name, columns, Some(&path), diagnostics)?;
            (
                StepKind::Sql {
                    query: text.trim().to_owned(),
                    origin: origin(text.as_bytes()),
                },
                None,
            )
        }
        Found::Executable { bytes, .. } => {
            *columns = Columns::unknown();
            (
                StepKind::Exec {
                    cmd: path.clone(),
                    format: ExecFormat::Jsonl,
                    network: false,
                    origin: origin(bytes),
                },
                None,
            )
        }
        Found::Manifest { text, .. } => {
            let manifest = read_manifest(text, &path, name.span, diagnostics)?;
            *columns = Columns::unknown();
            let format = match manifest.format.as_deref() {
                None => ExecFormat::Jsonl,
                Some(f) => match ExecFormat::parse(f) {
                    Some(format) => format,
                    None => {
                        diagnostics.push(
                            Diagnostic::error(
                                name.span,
                                format!("`{path}`: unknown exec format `{f}`"),
                            )
                            .expected(format!("one of {}", backticked(&ExecFormat::NAMES))),
                        );
                        return None;
                    }
                },
            };
            let resources = match manifest
                .requires
                .as_ref()
                .map(|r| r.to_resources())
                .transpose()
            {
                Ok(resources) => resources,
                Err(error) => {
                    diagnostics.push(Diagnostic::error(name.span, format!("`{path}`: {error}")));
                    return None;
                }
            };
            (
                StepKind::Exec {
                    cmd: manifest.cmd.clone(),
                    format,
                    network: manifest.network,
                    origin: origin(text.as_bytes()),
                },
                resources,
            )
        }
    };
    Some(CompiledStep {
        label: label(args, step, diagnostics),
        kind,
        resources,
    })
}

fn read_manifest(
    text: &str,
    path: &str,
    span: Span,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Manifest> {
    match toml::from_str::<Manifest>(text) {
        Ok(manifest) if !manifest.cmd.trim().is_empty() => Some(manifest),
        Ok(_) => {
            diagnostics.push(
                Diagnostic::error(span, format!("`{path}`: `cmd` is empty"))
                    .expected("`cmd = \"python3 enrich.py\"`"),
            );
            None
        }
        Err(error) => {
            let message = error.message().to_owned();
            diagnostics.push(
                Diagnostic::error(
                    span,
                    format!("`{path}` is not a valid step manifest: {message}"),
                )
                .expected("`cmd = \"...\"` and optionally `format`, `network`, `[requires]`"),
            );
            None
        }
    }
}

/// A path for messages: relative to the scenario's folder when inside it.
fn shown_path(base_dir: &Path, path: &Path) -> String {
    path.strip_prefix(base_dir)
        .unwrap_or(path)
        .display()
        .to_string()
}
