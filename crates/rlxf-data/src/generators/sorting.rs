//! Sort a list of integers. The answer is the sorted list, comma-separated.

use rand::Rng;
use rlxf_core::Problem;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map};

use crate::error::DataError;
use crate::generator::{check_range, default_instruction, Common, Draft, TaskGenerator};
use crate::split::{Split, DEFAULT_HELD_OUT_FRACTION};

const KIND: &str = "sorting";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    Ascending,
    Descending,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SortingConfig {
    pub seed: u64,
    /// List length (the difficulty knob).
    pub length: u32,
    /// Values are drawn from 0..=max_value (duplicates allowed).
    pub max_value: u64,
    pub order: Order,
    pub instruction: String,
    pub held_out_fraction: f64,
}

impl Default for SortingConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            length: 5,
            max_value: 99,
            order: Order::Ascending,
            instruction: default_instruction(),
            held_out_fraction: DEFAULT_HELD_OUT_FRACTION,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Sorting {
    config: SortingConfig,
    common: Common,
}

impl Order {
    pub fn name(self) -> &'static str {
        match self {
            Order::Ascending => "ascending",
            Order::Descending => "descending",
        }
    }
}

/// The order is part of the task: the same list sorted the other way is another problem.
fn key(order: &str, list: &[u64]) -> String {
    format!(
        "{order}|{}",
        list.iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    )
}

fn join(v: &[u64]) -> String {
    v.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
}

impl Sorting {
    pub fn new(config: SortingConfig) -> Result<Self, DataError> {
        check_range(KIND, "length", config.length, 2, 50)?;
        check_range(KIND, "max_value", config.max_value, 1, 1_000_000_000)?;
        let common = Common::new(KIND, config.seed, &config.instruction, config.held_out_fraction)?;
        let values = config.max_value + 1;
        let size = values.checked_pow(config.length).unwrap_or(u64::MAX);
        let n = config.length as usize;
        let order = config.order.name();
        let keys = (0..size.min(crate::generator::ENUMERATE_LIMIT + 1)).map(|mut code| {
            let mut list = Vec::with_capacity(n);
            for _ in 0..n {
                list.push(code % values);
                code /= values;
            }
            key(order, &list)
        });
        common.check_space(size, keys, "raise `length` or `max_value`")?;
        Ok(Self { config, common })
    }

    pub fn config(&self) -> &SortingConfig {
        &self.config
    }
}

impl TaskGenerator for Sorting {
    fn name(&self) -> &str {
        KIND
    }

    fn problem(&self, split: Split, index: u64) -> Problem {
        self.common.generate(split, index, |rng| {
            let list: Vec<u64> =
                (0..self.config.length).map(|_| rng.random_range(0..=self.config.max_value)).collect();
            let mut sorted = list.clone();
            sorted.sort_unstable();
            let order = self.config.order.name();
            if self.config.order == Order::Descending {
                sorted.reverse();
            }
            let mut metadata = Map::new();
            metadata.insert("list".into(), json!(list));
            metadata.insert("order".into(), json!(order));
            Draft {
                key: key(order, &list),
                question: format!(
                    "Sort the following numbers in {order} order: {}. Answer with the sorted numbers separated by commas.",
                    join(&list)
                ),
                answer: join(&sorted),
                metadata,
            }
        })
    }
}
