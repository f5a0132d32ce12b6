//! Countdown: combine the given numbers with `+ - * /` to reach a target.
//!
//! The reference answer is one solution expression, but any expression that uses each number
//! exactly once and evaluates to the target is correct, so verifiers must check by evaluation
//! using `metadata.numbers` and `metadata.target` (see `rlxf_rewards::verifiers::Countdown`).

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rlxf_core::Problem;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map};

use crate::error::DataError;
use crate::generator::{check_range, default_instruction, Common, Draft, TaskGenerator};
use crate::split::{Split, DEFAULT_HELD_OUT_FRACTION};

const KIND: &str = "countdown";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CountdownConfig {
    pub seed: u64,
    /// How many numbers to combine (the difficulty knob).
    pub numbers: u32,
    /// Numbers are drawn from 1..=max_number.
    pub max_number: u64,
    /// Targets and every intermediate result stay within 0..=max_target.
    pub max_target: u64,
    pub instruction: String,
    pub held_out_fraction: f64,
}

impl Default for CountdownConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            numbers: 4,
            max_number: 99,
            max_target: 1000,
            instruction: default_instruction(),
            held_out_fraction: DEFAULT_HELD_OUT_FRACTION,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Countdown {
    config: CountdownConfig,
    common: Common,
}

impl Countdown {
    pub fn new(config: CountdownConfig) -> Result<Self, DataError> {
        check_range(KIND, "numbers", config.numbers, 2, 8)?;
        check_range(KIND, "max_number", config.max_number, 2, 1_000_000)?;
        if config.max_target < config.max_number {
            return Err(DataError::invalid(
                KIND,
                "max_target",
                config.max_target,
                format!("use at least max_number ({})", config.max_number),
            ));
        }
        let common = Common::new(KIND, config.seed, &config.instruction, config.held_out_fraction)?;
        // Smallest space: 2 numbers from 1..=2, i.e. a handful of multisets; check it.
        let size = config
            .max_number
            .checked_pow(config.numbers)
            .unwrap_or(u64::MAX);
        let g = Self { config, common };
        if size <= crate::generator::ENUMERATE_LIMIT {
            g.check_small_space()?;
        }
        Ok(g)
    }

    pub fn config(&self) -> &CountdownConfig {
        &self.config
    }

    /// Small spaces: sample many problems of each split's candidate stream and require that
    /// both splits occur. Keys include the target, which depends on the random expression, so
    /// enumeration is replaced by sampling (4096 draws cover any space this small).
    fn check_small_space(&self) -> Result<(), DataError> {
        let mut rng = <ChaCha8Rng as rand::SeedableRng>::seed_from_u64(self.config.seed);
        let keys: Vec<String> = (0..4096).map(|_| self.draft(&mut rng).key).collect();
        self.common.check_space(
            keys.len() as u64,
            keys.into_iter(),
            "raise `numbers` or `max_number`",
        )
    }

    fn draft(&self, rng: &mut ChaCha8Rng) -> Draft {
        let cfg = &self.config;
        let numbers: Vec<u64> = (0..cfg.numbers)
            .map(|_| rng.random_range(1..=cfg.max_number))
            .collect();
        // Combine random pairs until one value is left; every step stays a whole number in
        // 0..=max_target (`a - b` is taken larger-first, `a / b` only when exact).
        let mut pool: Vec<Node> = numbers
            .iter()
            .map(|&n| Node {
                value: n,
                expr: n.to_string(),
                prec: Prec::Atom,
            })
            .collect();
        while pool.len() > 1 {
            let a = pool.swap_remove(rng.random_range(0..pool.len()));
            let b = pool.swap_remove(rng.random_range(0..pool.len()));
            let (hi, lo) = if a.value >= b.value { (a, b) } else { (b, a) };
            let mut options = vec![Node::combine(&hi, '-', &lo, hi.value - lo.value)];
            if hi.value + lo.value <= cfg.max_target {
                options.push(Node::combine(&hi, '+', &lo, hi.value + lo.value));
            }
            if let Some(p) = hi
                .value
                .checked_mul(lo.value)
                .filter(|p| *p <= cfg.max_target)
            {
                options.push(Node::combine(&hi, '*', &lo, p));
            }
            if lo.value > 1 && hi.value % lo.value == 0 {
                options.push(Node::combine(&hi, '/', &lo, hi.value / lo.value));
            }
            pool.push(options.swap_remove(rng.random_range(0..options.len())));
        }
        let Node {
            value: target,
            expr,
            ..
        } = pool.pop().expect("numbers >= 2 leaves one value");
        let mut sorted = numbers.clone();
        sorted.sort_unstable();
        let key = format!(
            "{}|{target}",
            sorted
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(",")
        );
        let list = numbers
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let question = format!(
            "Using the numbers [{list}], create an expression that equals {target}. You may use +, -, *, / \
             and parentheses, and must use each number exactly once."
        );
        let mut metadata = Map::new();
        metadata.insert("numbers".into(), json!(numbers));
        metadata.insert("target".into(), json!(target));
        Draft {
            key,
            question,
            answer: expr,
            metadata,
        }
    }
}

/// Precedence of an expression's top-level operator, to parenthesize only where needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    Additive,
    Multiplicative,
    Atom,
}

/// A partial solution: its value and how to write it.
struct Node {
    value: u64,
    expr: String,
    prec: Prec,
}

impl Node {
    fn combine(left: &Node, op: char, right: &Node, value: u64) -> Node {
        let prec = if matches!(op, '+' | '-') {
            Prec::Additive
        } else {
            Prec::Multiplicative
        };
        // `a - (b + c)`, `a * (b + c)`, `a / (b * c)`: the right operand needs parentheses unless
        // it binds tighter than `op` (strictly, since `-` and `/` are not associative); the left
        // one only when it binds looser.
        let wrap_left = left.prec < prec;
        let wrap_right = right.prec < prec || (right.prec == prec && matches!(op, '-' | '/'));
        let side = |n: &Node, wrap: bool| {
            if wrap {
                format!("({})", n.expr)
            } else {
                n.expr.clone()
            }
        };
        Node {
            value,
            expr: format!("{} {op} {}", side(left, wrap_left), side(right, wrap_right)),
            prec,
        }
    }
}

impl TaskGenerator for Countdown {
    fn name(&self) -> &str {
        KIND
    }

    fn problem(&self, split: Split, index: u64) -> Problem {
        self.common.generate(split, index, |rng| self.draft(rng))
    }
}
