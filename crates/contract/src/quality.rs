//! ODCS `quality` entries: the library metrics (`nullValues`,
//! `missingValues`, `invalidValues`, `duplicateValues`, `rowCount`) and
//! `type: sql` rules, with their comparison operator and severity.

use serde_json::{Map, Value};

use crate::ContractError;
use crate::value_read::{expect_array, expect_object, optional_str, optional_text_list, shape};

#[derive(Debug, Clone, PartialEq)]
pub struct QualityRule {
    /// The rule's `name`, else its metric's name.
    pub name: String,
    pub check: QualityCheck,
    pub operator: Operator,
    pub severity: Severity,
    /// `percent`: the measured count is compared as a percentage of rows.
    pub unit_percent: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum QualityCheck {
    RowCount,
    /// Nulls, plus any value listed in `arguments.missingValues`.
    NullValues {
        missing: Vec<String>,
    },
    InvalidValues {
        valid: Option<Vec<String>>,
        invalid: Option<Vec<String>>,
    },
    DuplicateValues,
    Sql {
        query: String,
    },
    /// `type: text` and `type: custom` (documentation or another tool's
    /// rule), and v3.0 `rule:` names ODCS does not define. Kept so that
    /// `diff` sees them and summaries list them as not enforced.
    NotExecutable {
        kind: String,
    },
}

/// The ODCS comparison that a measured number must satisfy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Operator {
    Be(f64),
    NotBe(f64),
    GreaterThan(f64),
    GreaterOrEqualTo(f64),
    LessThan(f64),
    LessOrEqualTo(f64),
    Between(f64, f64),
    NotBetween(f64, f64),
}

impl Operator {
    pub fn holds(self, measured: f64) -> bool {
        match self {
            Self::Be(v) => measured == v,
            Self::NotBe(v) => measured != v,
            Self::GreaterThan(v) => measured > v,
            Self::GreaterOrEqualTo(v) => measured >= v,
            Self::LessThan(v) => measured < v,
            Self::LessOrEqualTo(v) => measured <= v,
            Self::Between(low, high) => low <= measured && measured <= high,
            Self::NotBetween(low, high) => measured < low || high < measured,
        }
    }

    /// Does this operator forbid any failing row at all (`mustBe: 0` or
    /// `mustBeLessOrEqualTo: 0`)? Such column rules are checked per row.
    pub fn is_zero_tolerance(self) -> bool {
        matches!(self, Self::Be(v) | Self::LessOrEqualTo(v) if v == 0.0)
    }
}

impl std::fmt::Display for Operator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Be(v) => write!(f, "mustBe {v}"),
            Self::NotBe(v) => write!(f, "mustNotBe {v}"),
            Self::GreaterThan(v) => write!(f, "mustBeGreaterThan {v}"),
            Self::GreaterOrEqualTo(v) => write!(f, "mustBeGreaterOrEqualTo {v}"),
            Self::LessThan(v) => write!(f, "mustBeLessThan {v}"),
            Self::LessOrEqualTo(v) => write!(f, "mustBeLessOrEqualTo {v}"),
            Self::Between(a, b) => write!(f, "mustBeBetween [{a}, {b}]"),
            Self::NotBetween(a, b) => write!(f, "mustNotBeBetween [{a}, {b}]"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl QualityRule {
    pub(crate) fn read_list(value: Option<&Value>, path: &str) -> Result<Vec<Self>, ContractError> {
        let Some(value) = value else {
            return Ok(Vec::new());
        };
        if value.is_null() {
            return Ok(Vec::new());
        }
        let path = format!("{path}.quality");
        expect_array(value, &path)?
            .iter()
            .enumerate()
            .map(|(i, rule)| Self::read(rule, &format!("{path}[{i}]")))
            .collect()
    }

    fn read(value: &Value, path: &str) -> Result<Self, ContractError> {
        let map = expect_object(value, path)?;
        let kind = optional_str(map.get("type"), &format!("{path}.type"))?;
        // `rule` is the v3.0 spelling of `metric`.
        let metric = match optional_str(map.get("metric"), &format!("{path}.metric"))? {
            Some(metric) => Some(metric),
            None => optional_str(map.get("rule"), &format!("{path}.rule"))?,
        };
        let check = match (kind.as_deref(), metric.as_deref()) {
            (Some("sql"), _) => {
                let query_path = format!("{path}.query");
                let query = optional_str(map.get("query"), &query_path)?
                    .ok_or_else(|| shape(&query_path, "a SQL query", &Value::Null))?;
                refuse_statements(&query, &query_path)?;
                QualityCheck::Sql { query }
            }
            (Some(kind @ ("text" | "custom")), _) => QualityCheck::NotExecutable {
                kind: kind.to_owned(),
            },
            (_, Some(metric)) => library_check(metric, map.get("arguments"), path)?,
            (Some(other), None) => QualityCheck::NotExecutable {
                kind: other.to_owned(),
            },
            (None, None) => QualityCheck::NotExecutable {
                kind: "text".to_owned(),
            },
        };
        let executable = !matches!(check, QualityCheck::NotExecutable { .. });
        let operator = match read_operator(map, path)? {
            Some(operator) => operator,
            // A library metric with no comparison: none may fail.
            None if executable && !matches!(check, QualityCheck::RowCount) => Operator::Be(0.0),
            None if executable => {
                return Err(shape(
                    path,
                    "an operator such as `mustBeGreaterThan`",
                    &Value::Null,
                ));
            }
            None => Operator::Be(0.0),
        };
        let severity =
            match optional_str(map.get("severity"), &format!("{path}.severity"))?.as_deref() {
                None | Some("warning") => Severity::Warning,
                Some("error") => Severity::Error,
                Some("info") => Severity::Info,
                Some(other) => {
                    return Err(ContractError::Shape {
                        path: format!("{path}.severity"),
                        expected: "one of `info`, `warning`, `error`",
                        found: format!("`{other}`"),
                    });
                }
            };
        let unit_percent =
            optional_str(map.get("unit"), &format!("{path}.unit"))?.as_deref() == Some("percent");
        let name = optional_str(map.get("name"), &format!("{path}.name"))?
            .or(metric)
            .or(kind)
            .unwrap_or_else(|| "quality".to_owned());
        Ok(Self {
            name,
            check,
            operator,
            severity,
            unit_percent,
        })
    }
}

fn library_check(
    metric: &str,
    arguments: Option<&Value>,
    path: &str,
) -> Result<QualityCheck, ContractError> {
    let args_path = format!("{path}.arguments");
    let empty = Map::new();
    let args = match arguments {
        None | Some(Value::Null) => &empty,
        Some(value) => expect_object(value, &args_path)?,
    };
    let list = |key: &str| optional_text_list(args.get(key), &format!("{args_path}.{key}"));
    match metric {
        "rowCount" => Ok(QualityCheck::RowCount),
        "nullValues" | "missingValues" => Ok(QualityCheck::NullValues {
            missing: list("missingValues")?.unwrap_or_default(),
        }),
        "invalidValues" => {
            let valid = list("validValues")?;
            let invalid = list("invalidValues")?;
            if valid.is_none() && invalid.is_none() {
                return Err(shape(
                    &args_path,
                    "`validValues` or `invalidValues`",
                    &Value::Null,
                ));
            }
            Ok(QualityCheck::InvalidValues { valid, invalid })
        }
        "duplicateValues" => Ok(QualityCheck::DuplicateValues),
        // v3.0.x's free-form `rule:` names (`nullCheck`, `between`, ...)
        // have no agreed meaning: loaded and listed, never guessed at.
        other => Ok(QualityCheck::NotExecutable {
            kind: format!("metric `{other}`"),
        }),
    }
}

fn read_operator(map: &Map<String, Value>, path: &str) -> Result<Option<Operator>, ContractError> {
    let number = |key: &str, v: &Value| -> Result<f64, ContractError> {
        v.as_f64()
            .ok_or_else(|| shape(&format!("{path}.{key}"), "a number", v))
    };
    let pair = |key: &str, v: &Value| -> Result<(f64, f64), ContractError> {
        match v.as_array().map(Vec::as_slice) {
            Some([a, b]) => match (a.as_f64(), b.as_f64()) {
                (Some(a), Some(b)) if a <= b => Ok((a, b)),
                _ => Err(shape(
                    &format!("{path}.{key}"),
                    "two numbers, the smaller first",
                    v,
                )),
            },
            _ => Err(shape(
                &format!("{path}.{key}"),
                "two numbers, the smaller first",
                v,
            )),
        }
    };
    let mut found = None;
    for (key, value) in map {
        let operator = match key.as_str() {
            "mustBe" => Operator::Be(number(key, value)?),
            "mustNotBe" => Operator::NotBe(number(key, value)?),
            "mustBeGreaterThan" => Operator::GreaterThan(number(key, value)?),
            "mustBeGreaterOrEqualTo" => Operator::GreaterOrEqualTo(number(key, value)?),
            "mustBeLessThan" => Operator::LessThan(number(key, value)?),
            "mustBeLessOrEqualTo" => Operator::LessOrEqualTo(number(key, value)?),
            "mustBeBetween" => {
                let (a, b) = pair(key, value)?;
                Operator::Between(a, b)
            }
            "mustNotBeBetween" => {
                let (a, b) = pair(key, value)?;
                Operator::NotBetween(a, b)
            }
            _ => continue,
        };
        if found.replace(operator).is_some() {
            return Err(ContractError::Shape {
                path: path.to_owned(),
                expected: "exactly one operator",
                found: "several `mustBe…` keys".to_owned(),
            });
        }
    }
    Ok(found)
}

/// A sql rule measures: its text must be one query. A statement that
/// writes (`COPY ... TO`, `INSERT`, `CREATE EXTERNAL TABLE`) or several
/// statements are refused here. Text the generic SQL parser cannot read
/// (DataFusion's own syntax) must at least start as a query does; the
/// engine's planner explains the rest, and runs queries read-only.
fn refuse_statements(query: &str, path: &str) -> Result<(), ContractError> {
    use sqlparser::ast::Statement;
    let keyword = query
        .trim_start_matches(|c: char| c.is_whitespace() || c == '(')
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or_default()
        .to_uppercase();
    let dialect = sqlparser::dialect::GenericDialect {};
    let found = match sqlparser::parser::Parser::parse_sql(&dialect, query).as_deref() {
        Ok([Statement::Query(_)]) => return Ok(()),
        Ok([] | [_]) | Err(_) if matches!(keyword.as_str(), "SELECT" | "WITH" | "VALUES") => {
            return Ok(());
        }
        Ok(more) if more.len() > 1 => format!("{} statements", more.len()),
        _ => format!("a `{keyword}` statement"),
    };
    Err(ContractError::Shape {
        path: path.to_owned(),
        expected: "one read-only query (`SELECT ...`)",
        found,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_compare_as_odcs_says() {
        assert!(Operator::Be(0.0).holds(0.0));
        assert!(!Operator::NotBe(3.0).holds(3.0));
        assert!(Operator::GreaterThan(0.0).holds(1.0) && !Operator::GreaterThan(0.0).holds(0.0));
        assert!(Operator::GreaterOrEqualTo(1.0).holds(1.0));
        assert!(Operator::LessThan(5.0).holds(4.0) && !Operator::LessThan(5.0).holds(5.0));
        assert!(Operator::LessOrEqualTo(5.0).holds(5.0));
        assert!(Operator::Between(1.0, 3.0).holds(1.0) && Operator::Between(1.0, 3.0).holds(3.0));
        assert!(!Operator::Between(1.0, 3.0).holds(3.5));
        assert!(
            Operator::NotBetween(1.0, 3.0).holds(0.5) && !Operator::NotBetween(1.0, 3.0).holds(2.0)
        );
    }

    fn rule(yaml: &str) -> Result<QualityRule, ContractError> {
        let value: Value = serde_yaml_ng::from_str(yaml).unwrap();
        QualityRule::read(&value, "q")
    }

    #[test]
    fn a_sql_rule_is_one_query_and_nothing_that_writes() {
        assert!(
            rule("{ type: sql, query: 'SELECT COUNT(*) FROM t WHERE a < 0', mustBe: 0 }").is_ok()
        );
        for (query, found) in [
            (
                "COPY (SELECT * FROM t) TO '/tmp/x.csv'",
                "a `COPY` statement",
            ),
            ("insert into t values (1)", "a `INSERT` statement"),
            ("CREATE TABLE x AS SELECT 1", "a `CREATE` statement"),
            (
                "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'",
                "a `CREATE` statement",
            ),
            (
                "COPY (SELECT * FROM t) TO '/tmp/x.csv' STORED AS CSV",
                "a `COPY` statement",
            ),
            ("SELECT 1; SELECT 2", "2 statements"),
        ] {
            let error = rule(&format!("{{ type: sql, query: \"{query}\", mustBe: 0 }}"))
                .unwrap_err()
                .to_string();
            assert!(error.contains("one read-only query"), "{query}: {error}");
            assert!(error.contains(found), "{query}: {error}");
        }
    }

    #[test]
    fn reads_library_sql_and_text_rules() {
        let r = rule("{ metric: rowCount, mustBeGreaterThan: 10, severity: error }").unwrap();
        assert_eq!(
            (r.check, r.operator, r.severity),
            (
                QualityCheck::RowCount,
                Operator::GreaterThan(10.0),
                Severity::Error
            )
        );
        let r = rule("{ rule: nullValues, mustBeLessThan: 5, unit: percent }").unwrap();
        assert!(r.unit_percent && matches!(r.check, QualityCheck::NullValues { .. }));
        let r = rule("{ type: sql, query: 'SELECT 1', mustBe: 1 }").unwrap();
        assert_eq!(
            r.check,
            QualityCheck::Sql {
                query: "SELECT 1".into()
            }
        );
        assert_eq!(
            rule("{ type: text, description: ok }").unwrap().check,
            QualityCheck::NotExecutable {
                kind: "text".into()
            }
        );
        let r = rule("{ metric: invalidValues, arguments: { validValues: [1, 2] } }").unwrap();
        assert_eq!(r.operator, Operator::Be(0.0));
        assert_eq!(
            r.check,
            QualityCheck::InvalidValues {
                valid: Some(vec!["1".into(), "2".into()]),
                invalid: None
            }
        );
    }

    #[test]
    fn bad_rules_name_their_path() {
        let error = rule("{ metric: rowCount }").unwrap_err().to_string();
        assert!(
            error.contains("`q`") && error.contains("operator"),
            "{error}"
        );
        let error = rule("{ metric: rowCount, mustBeBetween: [3, 1] }")
            .unwrap_err()
            .to_string();
        assert!(error.contains("q.mustBeBetween"), "{error}");
        let error = rule("{ metric: nullValues, severity: fatal }")
            .unwrap_err()
            .to_string();
        assert!(error.contains("q.severity"), "{error}");
        let legacy = rule("{ rule: nullCheck }").unwrap();
        assert_eq!(
            legacy.check,
            QualityCheck::NotExecutable {
                kind: "metric `nullCheck`".into()
            }
        );
    }
}
