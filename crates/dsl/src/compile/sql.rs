//! SQL in scenarios, parsed with the parser DataFusion uses (sqlparser,
//! generic dialect), so that an expression that will not run is found
//! before any data is read.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, Query, SelectItem, SetExpr, Statement, TableFactor, visit_expressions, visit_relations,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

/// Deepest expression nesting accepted; deeper input is refused, not overflowed.
const SQL_RECURSION_MAX: usize = 64;
/// Deepest chain of operators accepted (`a = 1 OR a = 2 OR ...` is one
/// level per `OR`). The parser reads such a chain without nesting, but
/// planning and evaluating it recurse once per level, and a few thousand
/// levels overflowed a thread's stack; `IN (...)` lists any number of
/// values flat.
const OPERATOR_CHAIN_MAX: usize = 512;

/// A SQL problem with its byte offset in the SQL text when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    pub message: String,
    pub offset: Option<usize>,
}

/// An identifier that names a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRef {
    pub name: String,
    pub quoted: bool,
    /// Byte range in the SQL text, when the parser knows it.
    pub range: Option<(usize, usize)>,
}

pub fn parse_expression(text: &str) -> Result<Expr, SqlError> {
    let dialect = GenericDialect {};
    let mut parser = Parser::new(&dialect)
        .with_recursion_limit(SQL_RECURSION_MAX)
        .try_with_sql(text)
        .map_err(|e| sql_error(text, e))?;
    let expr = parser.parse_expr().map_err(|e| sql_error(text, e))?;
    let next = parser.peek_token();
    if next.token != Token::EOF {
        return Err(SqlError {
            message: format!("unexpected `{}` after the expression", next.token),
            offset: location_offset(text, next.span.start.line, next.span.start.column),
        });
    }
    if let Some(message) = unsupported_in_expression(&expr) {
        return Err(SqlError {
            message,
            offset: None,
        });
    }
    refuse_long_operator_chains(&expr)?;
    Ok(expr)
}

/// Refuses an expression whose operators chain deeper than
/// [`OPERATOR_CHAIN_MAX`]. Measured with a stack of its own, since a
/// recursive walk would overflow on the very input it looks for.
fn refuse_long_operator_chains(expr: &Expr) -> Result<(), SqlError> {
    let mut deepest = 0;
    let mut pending = vec![(expr, 1usize)];
    while let Some((expr, depth)) = pending.pop() {
        deepest = deepest.max(depth);
        match expr {
            Expr::BinaryOp { left, right, .. } => {
                pending.push((left, depth + 1));
                pending.push((right, depth + 1));
            }
            Expr::UnaryOp { expr, .. } | Expr::Nested(expr) => pending.push((expr, depth + 1)),
            _ => {}
        }
    }
    if deepest > OPERATOR_CHAIN_MAX {
        return Err(SqlError {
            message: format!(
                "the expression chains {deepest} operators deep (at most {OPERATOR_CHAIN_MAX})"
            ),
            offset: None,
        });
    }
    Ok(())
}

/// Parses a `sql` step's query: one SELECT reading the table `input`.
pub fn parse_query(text: &str) -> Result<Query, SqlError> {
    let dialect = GenericDialect {};
    let statements = Parser::new(&dialect)
        .with_recursion_limit(SQL_RECURSION_MAX)
        .try_with_sql(text)
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| sql_error(text, e))?;
    let mut statements = statements.into_iter();
    let (Some(statement), None) = (statements.next(), statements.next()) else {
        return Err(SqlError {
            message: "a `sql` step holds exactly one query".to_owned(),
            offset: None,
        });
    };
    let Statement::Query(query) = statement else {
        return Err(SqlError {
            message: "a `sql` step holds a query (`SELECT ... FROM input`), not another statement"
                .to_owned(),
            offset: None,
        });
    };
    let mut too_long = Ok(());
    let _ = visit_expressions(&query, |expr| {
        too_long = refuse_long_operator_chains(expr);
        // Expressions are seen outermost first: a chain too long is refused
        // before the walk goes down it.
        if too_long.is_err() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    too_long?;
    let ctes: Vec<String> = query
        .with
        .iter()
        .flat_map(|with| {
            with.cte_tables
                .iter()
                .map(|cte| cte.alias.name.value.to_lowercase())
        })
        .collect();
    let mut unknown = None;
    let _ = visit_relations(&query, |relation| {
        let name = relation.to_string();
        let lower = name.to_lowercase();
        if lower != "input" && !ctes.contains(&lower) {
            unknown = Some(name);
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    });
    if let Some(name) = unknown {
        return Err(SqlError {
            message: format!(
                "unknown table `{name}`; a `sql` step reads its input as the table `input`"
            ),
            offset: text.find(&name),
        });
    }
    Ok(*query)
}

/// Aggregate functions DataFusion has: they need many rows, which a row
/// expression (`filter`, `derive`, `when`) does not see.
const AGGREGATES: &[&str] = &[
    "sum",
    "avg",
    "mean",
    "count",
    "min",
    "max",
    "median",
    "stddev",
    "stddev_pop",
    "stddev_samp",
    "var",
    "var_pop",
    "var_samp",
    "variance",
    "array_agg",
    "string_agg",
    "first_value",
    "last_value",
    "approx_distinct",
    "approx_median",
    "bool_and",
    "bool_or",
];

fn unsupported_in_expression(expr: &Expr) -> Option<String> {
    let mut found = None;
    let _ = visit_expressions(expr, |e| {
        if matches!(
            e,
            Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. }
        ) {
            found = Some("subqueries are not allowed here; use a `sql` step".to_owned());
            return ControlFlow::Break(());
        }
        if let Expr::Function(function) = e {
            let name = function.name.to_string().to_ascii_lowercase();
            if function.over.is_some() || AGGREGATES.contains(&name.as_str()) {
                found = Some(format!(
                    "`{name}` works on many rows, and this expression sees one row at a time; use a `sql` step"
                ));
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    });
    found
}

/// Every identifier in `node` that refers to a column.
pub fn column_refs<V: sqlparser::ast::Visit>(node: &V, text: &str) -> Vec<ColumnRef> {
    let mut refs = Vec::new();
    let _ = visit_expressions(node, |e| {
        match e {
            Expr::Identifier(ident) => refs.push(column_ref(ident, text)),
            Expr::CompoundIdentifier(parts) => {
                // `input.col` names a column of the input; `col.field` a field of a column.
                let column = match parts.as_slice() {
                    [table, column, ..] if table.value.eq_ignore_ascii_case("input") => column,
                    [first, ..] => first,
                    [] => return ControlFlow::<()>::Continue(()),
                };
                refs.push(column_ref(column, text));
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    refs
}

fn column_ref(ident: &sqlparser::ast::Ident, text: &str) -> ColumnRef {
    let start = location_offset(text, ident.span.start.line, ident.span.start.column);
    let end = location_offset(text, ident.span.end.line, ident.span.end.column);
    ColumnRef {
        name: ident.value.clone(),
        quoted: ident.quote_style.is_some(),
        range: start.zip(end).filter(|(s, e)| s < e),
    }
}

/// A compound identifier such as `rows_out.orders` in an `@assert`.
pub fn compound_names(expr: &Expr) -> Vec<Vec<String>> {
    let mut names = Vec::new();
    let _ = visit_expressions(expr, |e| {
        match e {
            Expr::Identifier(ident) => names.push(vec![ident.value.clone()]),
            Expr::CompoundIdentifier(parts) => {
                names.push(parts.iter().map(|p| p.value.clone()).collect());
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    names
}

/// What a simple `SELECT ... FROM input` produces, and the names it may
/// use besides input columns (its own aliases). `None` when the query is not
/// simple enough to know (joins, CTEs, set operations, unnamed expressions).
pub struct SelectShape {
    pub output: Option<Vec<String>>,
    pub aliases: Vec<String>,
    /// True when every name in the query can be checked against the input.
    pub checkable: bool,
}

pub fn select_shape(query: &Query, input: &[String]) -> SelectShape {
    let unknown = SelectShape {
        output: None,
        aliases: Vec::new(),
        checkable: false,
    };
    if query.with.is_some() {
        return unknown;
    }
    let SetExpr::Select(select) = query.body.as_ref() else {
        return unknown;
    };
    let single_input = select.from.len() == 1
        && select.from[0].joins.is_empty()
        && matches!(select.from[0].relation, TableFactor::Table { .. });
    if !single_input {
        return unknown;
    }
    let mut output = Some(Vec::new());
    let mut aliases = Vec::new();
    for item in &select.projection {
        let name = match item {
            SelectItem::UnnamedExpr(Expr::Identifier(ident)) => Some(vec![ident.value.clone()]),
            SelectItem::ExprWithAlias { alias, .. } => {
                aliases.push(alias.value.clone());
                Some(vec![alias.value.clone()])
            }
            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => Some(input.to_vec()),
            _ => None,
        };
        match (name, output.as_mut()) {
            (Some(names), Some(out)) => out.extend(names),
            _ => output = None,
        }
    }
    SelectShape {
        output,
        aliases,
        checkable: true,
    }
}

/// Parses a SQL type such as `BIGINT` or `DECIMAL(10,2)`.
pub fn parse_type(text: &str) -> Result<(), SqlError> {
    let dialect = GenericDialect {};
    let mut parser = Parser::new(&dialect)
        .try_with_sql(text)
        .map_err(|e| sql_error(text, e))?;
    let parsed = parser.parse_data_type().map_err(|e| sql_error(text, e))?;
    if let sqlparser::ast::DataType::Custom(name, _) = parsed {
        // Any word parses as a type; only the SQL ones cast.
        return Err(SqlError {
            message: format!("no SQL type is called `{name}`"),
            offset: Some(0),
        });
    }
    let next = parser.peek_token();
    if next.token != Token::EOF {
        return Err(SqlError {
            message: format!("unexpected `{}` after the type", next.token),
            offset: location_offset(text, next.span.start.line, next.span.start.column),
        });
    }
    Ok(())
}

/// sqlparser reports "... at Line: L, Column: C"; keep the message, find the offset.
fn sql_error(text: &str, error: ParserError) -> SqlError {
    let raw = match error {
        ParserError::TokenizerError(m) | ParserError::ParserError(m) => m,
        ParserError::RecursionLimitExceeded => {
            return SqlError {
                message: format!("the expression nests deeper than {SQL_RECURSION_MAX} levels"),
                offset: None,
            };
        }
    };
    let (message, offset) = match raw.rsplit_once(" at Line: ") {
        Some((message, location)) => {
            let mut numbers = location
                .split(", Column: ")
                .map(|n| n.trim().parse::<u64>().ok());
            let line = numbers.next().flatten();
            let column = numbers.next().flatten();
            let offset = line
                .zip(column)
                .and_then(|(l, c)| location_offset(text, l, c));
            (message.to_owned(), offset)
        }
        None => (raw, None),
    };
    let message = readable_parser_message(&message.replace("sql parser error: ", ""));
    SqlError {
        message: lowercase_first(&message),
        offset,
    }
}

/// sqlparser says `Expected: an expression, found: EOF`; say it our way.
fn readable_parser_message(message: &str) -> String {
    let Some(rest) = message.strip_prefix("Expected: ") else {
        return message.to_owned();
    };
    match rest.rsplit_once(", found: ") {
        Some((expected, "EOF")) => format!("expected {expected}, found the end of the text"),
        Some((expected, found)) => format!("expected {expected}, found `{found}`"),
        None => format!("expected {rest}"),
    }
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Byte offset of a 1-based (line, column-in-characters) location in `text`.
fn location_offset(text: &str, line: u64, column: u64) -> Option<usize> {
    if line == 0 || column == 0 {
        return None;
    }
    let line_start = if line == 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(usize::try_from(line).ok()? - 2)
            .map(|(i, _)| i + 1)?
    };
    let column = usize::try_from(column).ok()? - 1;
    let rest = &text[line_start..];
    match rest.char_indices().nth(column) {
        Some((i, _)) => Some(line_start + i),
        None if rest.chars().count() == column => Some(line_start + rest.len()),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(terms: usize) -> String {
        (0..terms)
            .map(|i| format!("amount = {i}"))
            .collect::<Vec<_>>()
            .join(" OR ")
    }

    #[test]
    fn an_operator_chain_past_its_bound_is_refused_not_overflowed() {
        assert!(parse_expression(&chain(OPERATOR_CHAIN_MAX - 2)).is_ok());
        let error = parse_expression(&chain(5_000)).unwrap_err();
        assert!(error.message.contains("at most 512"), "{}", error.message);
        let error =
            parse_query(&format!("SELECT * FROM input WHERE {}", chain(5_000))).unwrap_err();
        assert!(
            error.message.contains("operators deep"),
            "{}",
            error.message
        );
        let list: Vec<String> = (0..5_000).map(|i| i.to_string()).collect();
        assert!(parse_expression(&format!("amount IN ({})", list.join(", "))).is_ok());
    }

    #[test]
    fn finds_columns_with_offsets() {
        let text = "amount > 0 AND \"Currency\" IN ('USD') AND upper(t.code) = 'X'";
        let expr = parse_expression(text).unwrap();
        let refs = column_refs(&expr, text);
        let names: Vec<_> = refs.iter().map(|r| (r.name.as_str(), r.quoted)).collect();
        assert_eq!(names, [("amount", false), ("Currency", true), ("t", false)]);
        assert_eq!(refs[0].range, Some((0, 6)));
    }

    #[test]
    fn reports_parse_errors_with_offsets() {
        let error = parse_expression("amount >").unwrap_err();
        assert!(error.message.contains("expected"), "{}", error.message);
        let error = parse_expression("amount > 0 0").unwrap_err();
        assert_eq!(error.offset, Some(11));
        assert!(parse_expression("a IN (SELECT 1)").is_err());
    }

    #[test]
    fn queries_read_only_input() {
        assert!(parse_query("SELECT a, count(*) AS n FROM input GROUP BY a").is_ok());
        assert!(parse_query("WITH x AS (SELECT * FROM input) SELECT * FROM x").is_ok());
        let error = parse_query("SELECT * FROM orders").unwrap_err();
        assert!(error.message.contains("unknown table `orders`"));
        assert!(parse_query("DROP TABLE input").is_err());
        assert!(parse_query("SELECT 1; SELECT 2").is_err());
    }

    #[test]
    fn simple_selects_have_known_output() {
        let input = vec!["a".to_owned(), "b".to_owned()];
        let query = parse_query("SELECT a, b + 1 AS c FROM input").unwrap();
        assert_eq!(
            select_shape(&query, &input).output,
            Some(vec!["a".to_owned(), "c".to_owned()])
        );
        let query = parse_query("SELECT *, 1 AS one FROM input").unwrap();
        assert_eq!(
            select_shape(&query, &input).output.map(|o| o.len()),
            Some(3)
        );
        let query = parse_query("SELECT upper(a) FROM input").unwrap();
        assert_eq!(select_shape(&query, &input).output, None);
    }

    #[test]
    fn types_parse() {
        assert!(parse_type("BIGINT").is_ok());
        assert!(parse_type("DECIMAL(10, 2)").is_ok());
        assert!(parse_type("BIG INT").is_err());
        assert!(parse_type("STRING").is_ok());
        let error = parse_type("BIGINTEGER").unwrap_err();
        assert_eq!(error.message, "no SQL type is called `BIGINTEGER`");
    }
}
