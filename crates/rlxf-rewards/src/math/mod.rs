//! Exact equivalence of math answers.
//!
//! Numeric answers are parsed into big rationals and compared exactly (`\frac{1}{2}` = `0.5` =
//! `50\%` under [`PercentMode::Fraction`]); anything that is not a number falls back to a
//! normalized string comparison. Symbolic equivalence (`\sqrt{8}` = `2\sqrt{2}`) is future work
//! and will slot in between the two.
//!
//! Every entry point is total: no input panics, and inputs longer than
//! [`MathOptions::max_len`] or with huge exponents are rejected before any big-number work.

mod clean;
mod expr;
mod number;

use std::fmt;

use num_bigint::BigInt;
use num_rational::BigRational;
use serde::{Deserialize, Serialize};

use clean::TextMode;
pub use expr::{eval_arithmetic, Evaluated, ExprError};

/// How a trailing `%` is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PercentMode {
    /// Drop the sign: `50\%` equals `50` (the usual convention of math data sets whose
    /// reference answers omit the `%`).
    #[default]
    Strip,
    /// `50\%` is one half: it equals `0.5` and not `50`.
    Fraction,
    /// Accept either reading: `50\%` equals both `50` and `0.5`.
    Either,
}

/// Knobs of the comparison; the defaults suit math RL on MATH/GSM8K-style references.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MathOptions {
    pub percent: PercentMode,
    /// Inputs longer than this many bytes are rejected unparsed (a budget, not a semantic rule).
    pub max_len: usize,
    /// Largest absolute power of ten (or other power) evaluated exactly: `1e400` is fine,
    /// `1e99999` is [`Unparseable::ExponentTooLarge`].
    pub max_exponent: u32,
    /// Compare non-numeric answers as normalized strings (otherwise they never match).
    pub string_fallback: bool,
}

impl Default for MathOptions {
    fn default() -> Self {
        Self {
            percent: PercentMode::Strip,
            max_len: 10_000,
            max_exponent: 1_000,
            string_fallback: true,
        }
    }
}

/// Why a string is not read as a number. Not an error: most such answers are simply symbolic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unparseable {
    #[error("empty answer")]
    Empty,
    #[error("answer is {len} bytes long, over the {max}-byte budget")]
    TooLong { len: usize, max: usize },
    #[error("exponent over the limit of {max}")]
    ExponentTooLarge { max: u32 },
    #[error("power would exceed {max_bits} bits")]
    TooLarge { max_bits: u64 },
    #[error("nesting deeper than {max}")]
    TooDeep { max: u32 },
    #[error("division by zero")]
    DivisionByZero,
    #[error("not a number")]
    NotNumeric,
}

/// Result of reading an answer as a number.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Value(BigRational),
    Unparseable(Unparseable),
}

impl Parsed {
    pub fn value(&self) -> Option<&BigRational> {
        match self {
            Parsed::Value(v) => Some(v),
            Parsed::Unparseable(_) => None,
        }
    }
}

/// Reads `s` as an exact number. With [`PercentMode::Fraction`] a `%` divides by 100;
/// otherwise it is dropped.
pub fn parse_number(s: &str, opts: &MathOptions) -> Parsed {
    match parse_num(s, opts) {
        Ok(n) if n.percent && opts.percent == PercentMode::Fraction => {
            Parsed::Value(n.value / hundred())
        }
        Ok(n) => Parsed::Value(n.value),
        Err(e) => Parsed::Unparseable(e),
    }
}

fn parse_num(s: &str, opts: &MathOptions) -> Result<number::Num, Unparseable> {
    if s.len() > opts.max_len {
        return Err(Unparseable::TooLong {
            len: s.len(),
            max: opts.max_len,
        });
    }
    number::parse(&clean::clean(s, TextMode::DropUnits), opts)
}

/// How two answers were compared, for logs and debugging reward hacking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Both sides parsed as numbers and were compared exactly.
    Numeric,
    /// At least one side is not a number; normalized strings were compared.
    Text,
    /// At least one side is not a number and string fallback is off.
    Unparseable,
    /// At least one side exceeds [`MathOptions::max_len`].
    TooLong,
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Method::Numeric => "numeric",
            Method::Text => "text",
            Method::Unparseable => "unparseable",
            Method::TooLong => "too_long",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub equal: bool,
    pub method: Method,
}

/// Compares a predicted answer with a reference. Symmetric in its two arguments.
pub fn compare(pred: &str, gold: &str, opts: &MathOptions) -> Verdict {
    if pred.len() > opts.max_len || gold.len() > opts.max_len {
        return Verdict {
            equal: false,
            method: Method::TooLong,
        };
    }
    match (parse_num(pred, opts), parse_num(gold, opts)) {
        (Ok(a), Ok(b)) => Verdict {
            equal: numbers_equal(&a, &b, opts.percent),
            method: Method::Numeric,
        },
        _ if opts.string_fallback => Verdict {
            equal: normalize_text(pred) == normalize_text(gold),
            method: Method::Text,
        },
        _ => Verdict {
            equal: false,
            method: Method::Unparseable,
        },
    }
}

/// `compare(pred, gold, opts).equal`.
pub fn equivalent(pred: &str, gold: &str, opts: &MathOptions) -> bool {
    compare(pred, gold, opts).equal
}

fn hundred() -> BigRational {
    BigRational::from_integer(BigInt::from(100u32))
}

fn numbers_equal(a: &number::Num, b: &number::Num, mode: PercentMode) -> bool {
    // The readings each side admits; equal when some reading is shared, which keeps it symmetric.
    let readings = |n: &number::Num| -> Vec<BigRational> {
        match (n.percent, mode) {
            (false, _) | (true, PercentMode::Strip) => vec![n.value.clone()],
            (true, PercentMode::Fraction) => vec![&n.value / hundred()],
            (true, PercentMode::Either) => vec![n.value.clone(), &n.value / hundred()],
        }
    };
    let (ra, rb) = (readings(a), readings(b));
    ra.iter().any(|x| rb.contains(x))
}

/// Canonical string form of an answer for non-numeric comparison: LaTeX spacing, sizing,
/// delimiters and `\text{}` wrappers removed, `\dfrac` → `\frac`, short arguments braced
/// (`\sqrt2` → `\sqrt{2}`), whitespace removed, lower-cased.
pub fn normalize_text(s: &str) -> String {
    let cleaned = clean::clean(s, TextMode::Unwrap);
    let braced = clean::brace_short_arguments(&cleaned);
    braced
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}
