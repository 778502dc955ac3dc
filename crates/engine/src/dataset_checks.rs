//! The dataset rules of one contract over a run: library metrics counted
//! batch by batch, `type: sql` queries streaming over the same rows. Both
//! see the rows the contract accepted.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use runink_contract::{DatasetMeasurement, DatasetMeter, SchemaObject, SqlRule};

use crate::EngineError;
use crate::limits::Limits;
use crate::sql_rule::SqlRuleQuery;

pub(crate) struct DatasetChecks {
    contract: String,
    meter: DatasetMeter,
    queries: Vec<SqlRuleQuery>,
}

impl DatasetChecks {
    /// `None` when the object has no dataset rule. `accepted` is the
    /// schema of the rows the contract's checker lets through.
    pub fn plan(
        object: &SchemaObject,
        accepted: &SchemaRef,
        contract: &str,
        limits: &Limits,
    ) -> Result<Option<Self>, EngineError> {
        let meter = DatasetMeter::new(object, accepted, limits.unique_keys_max).map_err(|e| {
            EngineError::Contract {
                path: contract.to_owned(),
                message: e.to_string(),
            }
        })?;
        let hides_values = object.columns.iter().any(|c| c.is_sensitive());
        let queries = SqlRule::all_of(object)
            .into_iter()
            .map(|rule| SqlRuleQuery::start(rule, contract, accepted.clone(), limits, hides_values))
            .collect::<Result<Vec<_>, _>>()?;
        if meter.is_empty() && queries.is_empty() {
            return Ok(None);
        }
        Ok(Some(Self {
            contract: contract.to_owned(),
            meter,
            queries,
        }))
    }

    pub fn observe(&mut self, accepted: &RecordBatch) -> Result<(), EngineError> {
        self.meter
            .observe(accepted)
            .map_err(|e| EngineError::Contract {
                path: self.contract.clone(),
                message: e.to_string(),
            })?;
        for query in &mut self.queries {
            query.push(accepted);
        }
        Ok(())
    }

    /// Every rule's verdict: the metrics in contract order, then the
    /// queries.
    pub fn finish(self) -> Result<Vec<DatasetMeasurement>, EngineError> {
        let rows = self.meter.rows();
        let mut results = self.meter.results();
        for query in self.queries {
            results.push(query.finish(rows)?);
        }
        Ok(results)
    }
}
