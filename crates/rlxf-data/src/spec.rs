//! Task configs as they appear in run configs:
//! `{ kind = "arithmetic", seed = 0, operands = 2, digits = 2, ops = ["+"] }` or
//! `{ kind = "dataset", path = "data/train.jsonl", fields = { prompt = ["problem"] } }`.

use serde::{Deserialize, Serialize};

use crate::dataset_task::{DatasetConfig, DatasetTask};
use crate::error::DataError;
use crate::generator::TaskGenerator;
use crate::generators::{
    Arithmetic, ArithmeticConfig, Countdown, CountdownConfig, Sorting, SortingConfig, WordProblems,
    WordProblemsConfig,
};

/// Which task (a generator or a data set file) and its settings. Unknown kinds and unknown keys are rejected when the
/// config is deserialized; out-of-range values when it is built.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TaskSpec {
    Arithmetic(ArithmeticConfig),
    WordProblems(WordProblemsConfig),
    Countdown(CountdownConfig),
    Sorting(SortingConfig),
    Dataset(DatasetConfig),
}

impl TaskSpec {
    pub fn build(&self) -> Result<Box<dyn TaskGenerator>, DataError> {
        Ok(match self {
            TaskSpec::Arithmetic(c) => Box::new(Arithmetic::new(c.clone())?),
            TaskSpec::WordProblems(c) => Box::new(WordProblems::new(c.clone())?),
            TaskSpec::Countdown(c) => Box::new(Countdown::new(c.clone())?),
            TaskSpec::Sorting(c) => Box::new(Sorting::new(c.clone())?),
            TaskSpec::Dataset(c) => Box::new(DatasetTask::new(c.clone())?),
        })
    }
}
