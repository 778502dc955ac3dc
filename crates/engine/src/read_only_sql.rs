//! The one way queries from scenarios and contracts are run: read-only.
//! DataFusion would otherwise run `COPY ... TO` (a file written anywhere
//! the process may write, with the clear values of masked columns),
//! `CREATE EXTERNAL TABLE` (a file read) or `SET`.

use datafusion::dataframe::DataFrame;
use datafusion::error::Result;
use datafusion::execution::context::SQLOptions;
use datafusion::prelude::SessionContext;

/// Plans `query` in `context`, refusing statements that define or change
/// anything.
pub async fn query(context: &SessionContext, query: &str) -> Result<DataFrame> {
    let read_only = SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false);
    context.sql_with_options(query, read_only).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Result<DataFrame> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(query(&SessionContext::new(), text))
    }

    #[test]
    fn queries_run_and_statements_that_write_or_define_do_not() {
        assert!(run("SELECT 1 AS one").is_ok());
        let folder = tempfile::tempdir().unwrap();
        let target = folder.path().join("leak.csv");
        for statement in [
            format!(
                "COPY (SELECT 1 AS a) TO '{}' STORED AS CSV",
                target.display()
            ),
            format!(
                "CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '{}'",
                folder.path().display()
            ),
            "CREATE TABLE t AS SELECT 1".to_owned(),
            "SET datafusion.execution.batch_size = 1".to_owned(),
        ] {
            let error = run(&statement).expect_err(&statement).to_string();
            assert!(error.contains("not supported"), "{statement}: {error}");
        }
        assert!(!target.exists());
    }
}
