//! `What is 47 + 38?`: n-operand integer arithmetic with standard precedence.

use num_bigint::BigInt;
use rand::Rng;
use rlxf_core::Problem;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map};

use crate::error::DataError;
use crate::generator::{check_range, default_instruction, Common, Draft, TaskGenerator};
use crate::split::{Split, DEFAULT_HELD_OUT_FRACTION};

const KIND: &str = "arithmetic";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = "+")]
    Add,
    #[serde(rename = "-")]
    Sub,
    #[serde(rename = "*")]
    Mul,
}

impl Op {
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArithmeticConfig {
    pub seed: u64,
    /// Number of operands (difficulty: length of the expression).
    pub operands: u32,
    /// Digits per operand (difficulty: size of the numbers). 1 digit means 0–9.
    pub digits: u32,
    /// Operators to draw from; `*` binds tighter than `+`/`-`.
    pub ops: Vec<Op>,
    /// Appended to the question after a space; empty for none.
    pub instruction: String,
    pub held_out_fraction: f64,
}

impl Default for ArithmeticConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            operands: 2,
            digits: 2,
            ops: vec![Op::Add, Op::Sub, Op::Mul],
            instruction: default_instruction(),
            held_out_fraction: DEFAULT_HELD_OUT_FRACTION,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Arithmetic {
    config: ArithmeticConfig,
    common: Common,
    lo: u64,
    hi: u64,
}

impl Arithmetic {
    pub fn new(config: ArithmeticConfig) -> Result<Self, DataError> {
        check_range(KIND, "operands", config.operands, 2, 12)?;
        check_range(KIND, "digits", config.digits, 1, 18)?;
        if config.ops.is_empty() {
            return Err(DataError::invalid(
                KIND,
                "ops",
                &config.ops,
                "list at least one of \"+\", \"-\", \"*\"",
            ));
        }
        let common = Common::new(KIND, config.seed, &config.instruction, config.held_out_fraction)?;
        let lo = if config.digits == 1 {
            0
        } else {
            10u64.pow(config.digits - 1)
        };
        let hi = 10u64.pow(config.digits) - 1;
        let g = Self {
            config,
            common,
            lo,
            hi,
        };
        g.check_space()?;
        Ok(g)
    }

    pub fn config(&self) -> &ArithmeticConfig {
        &self.config
    }

    fn check_space(&self) -> Result<(), DataError> {
        let n = self.config.operands;
        let values = self.hi - self.lo + 1;
        let ops = self.config.ops.len() as u64;
        let size = values
            .checked_pow(n)
            .and_then(|v| v.checked_mul(ops.checked_pow(n - 1)?))
            .unwrap_or(u64::MAX);
        if size > crate::generator::ENUMERATE_LIMIT {
            return Ok(());
        }
        // Mixed-radix counter over (operands, ops) tuples.
        let keys = (0..size).map(|mut code| {
            let mut operands = Vec::with_capacity(n as usize);
            let mut chosen = Vec::with_capacity(n as usize - 1);
            for _ in 0..n {
                operands.push(self.lo + code % values);
                code /= values;
            }
            for _ in 1..n {
                chosen.push(self.config.ops[(code % ops) as usize]);
                code /= ops;
            }
            key(&operands, &chosen)
        });
        self.common
            .check_space(size, keys, "raise `digits` or `operands`, or add `ops`")
    }
}

fn key(operands: &[u64], ops: &[Op]) -> String {
    let mut s = operands[0].to_string();
    for (op, x) in ops.iter().zip(&operands[1..]) {
        s.push_str(op.symbol());
        s.push_str(&x.to_string());
    }
    s
}

/// Standard precedence: products first, then sums and differences left to right.
pub fn evaluate(operands: &[u64], ops: &[Op]) -> BigInt {
    // Sum of signed products: `term` accumulates the current product, `negative` its sign.
    let mut total = BigInt::from(0);
    let mut term = BigInt::from(operands[0]);
    let mut negative = false;
    for (op, &x) in ops.iter().zip(&operands[1..]) {
        if *op == Op::Mul {
            term *= x;
            continue;
        }
        let done = std::mem::replace(&mut term, BigInt::from(x));
        if negative {
            total -= done;
        } else {
            total += done;
        }
        negative = *op == Op::Sub;
    }
    if negative {
        total - term
    } else {
        total + term
    }
}

impl TaskGenerator for Arithmetic {
    fn name(&self) -> &str {
        KIND
    }

    fn problem(&self, split: Split, index: u64) -> Problem {
        self.common.generate(split, index, |rng| {
            let n = self.config.operands as usize;
            let operands: Vec<u64> = (0..n)
                .map(|_| rng.random_range(self.lo..=self.hi))
                .collect();
            let ops: Vec<Op> = (1..n)
                .map(|_| self.config.ops[rng.random_range(0..self.config.ops.len())])
                .collect();
            let mut question = format!("What is {}", operands[0]);
            for (op, x) in ops.iter().zip(&operands[1..]) {
                question.push_str(&format!(" {} {x}", op.symbol()));
            }
            question.push('?');
            let mut metadata = Map::new();
            metadata.insert("operands".into(), json!(operands));
            metadata.insert("ops".into(), json!(ops));
            Draft {
                key: key(&operands, &ops),
                question,
                answer: evaluate(&operands, &ops).to_string(),
                metadata,
            }
        })
    }
}
