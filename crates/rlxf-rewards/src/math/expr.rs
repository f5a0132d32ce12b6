//! Exact evaluation of plain arithmetic expressions (`(3 + 5) * 2 / 4`), recording the integer
//! literals used, for tasks whose answer is an expression (Countdown).

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::Zero;

use crate::latex::replace_command;

const MAX_LEN: usize = 2_000;
const MAX_DEPTH: u32 = 64;
const MAX_LITERAL_DIGITS: usize = 30;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExprError {
    #[error("expression is {len} bytes long, over the {MAX_LEN}-byte budget")]
    TooLong { len: usize },
    #[error("unexpected `{found}` at byte {at}")]
    Unexpected { found: String, at: usize },
    #[error("expression ends early")]
    UnexpectedEnd,
    #[error("division by zero")]
    DivisionByZero,
    #[error("nested deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("a number has more than {MAX_LITERAL_DIGITS} digits")]
    LiteralTooLong,
}

/// The value of an expression and its literals, in order of appearance.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluated {
    pub value: BigRational,
    pub literals: Vec<BigInt>,
}

/// Evaluates non-negative integer literals combined with `+ - * /` and parentheses (also
/// `\times`, `\cdot`, `\div`, `×`, `÷`, `\left(`/`\right)`, `$`). Unary minus is rejected: the
/// tasks this serves forbid inventing a negation. A trailing `= target` is ignored.
pub fn eval_arithmetic(input: &str) -> Result<Evaluated, ExprError> {
    if input.len() > MAX_LEN {
        return Err(ExprError::TooLong { len: input.len() });
    }
    let lhs = input.split('=').next().unwrap_or(input);
    let mut s = lhs
        .replace(['$', '{', '}'], " ")
        .replace('×', "*")
        .replace('÷', "/");
    for (cmd, with) in [
        ("times", "*"),
        ("cdot", "*"),
        ("div", "/"),
        ("left", ""),
        ("right", ""),
    ] {
        s = replace_command(&s, cmd, with);
    }
    let mut p = Parser {
        s: s.as_bytes(),
        pos: 0,
        depth: 0,
        literals: Vec::new(),
    };
    let value = p.expr()?;
    p.ws();
    if let Some(&b) = p.s.get(p.pos) {
        return Err(ExprError::Unexpected {
            found: (b as char).to_string(),
            at: p.pos,
        });
    }
    Ok(Evaluated {
        value,
        literals: p.literals,
    })
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    depth: u32,
    literals: Vec<BigInt>,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.pos).is_some_and(u8::is_ascii_whitespace) {
            self.pos += 1;
        }
    }

    fn peek_op(&mut self, ops: &[u8]) -> Option<u8> {
        self.ws();
        self.s.get(self.pos).copied().filter(|b| ops.contains(b))
    }

    fn expr(&mut self) -> Result<BigRational, ExprError> {
        let mut v = self.term()?;
        while let Some(op) = self.peek_op(b"+-") {
            self.pos += 1;
            let r = self.term()?;
            v = if op == b'+' { v + r } else { v - r };
        }
        Ok(v)
    }

    fn term(&mut self) -> Result<BigRational, ExprError> {
        let mut v = self.atom()?;
        while let Some(op) = self.peek_op(b"*/") {
            self.pos += 1;
            let r = self.atom()?;
            v = if op == b'*' {
                v * r
            } else if r.is_zero() {
                return Err(ExprError::DivisionByZero);
            } else {
                v / r
            };
        }
        Ok(v)
    }

    fn atom(&mut self) -> Result<BigRational, ExprError> {
        self.ws();
        let Some(&b) = self.s.get(self.pos) else {
            return Err(ExprError::UnexpectedEnd);
        };
        if b == b'(' {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(ExprError::TooDeep);
            }
            self.pos += 1;
            let v = self.expr()?;
            self.ws();
            if self.s.get(self.pos) != Some(&b')') {
                return match self.s.get(self.pos) {
                    Some(&c) => Err(ExprError::Unexpected {
                        found: (c as char).to_string(),
                        at: self.pos,
                    }),
                    None => Err(ExprError::UnexpectedEnd),
                };
            }
            self.pos += 1;
            self.depth -= 1;
            return Ok(v);
        }
        let start = self.pos;
        while self.s.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        if self.pos == start {
            let found =
                String::from_utf8_lossy(&self.s[start..(start + 1).min(self.s.len())]).into_owned();
            return Err(ExprError::Unexpected { found, at: start });
        }
        if self.pos - start > MAX_LITERAL_DIGITS {
            return Err(ExprError::LiteralTooLong);
        }
        let n =
            BigInt::parse_bytes(&self.s[start..self.pos], 10).ok_or(ExprError::LiteralTooLong)?;
        self.literals.push(n.clone());
        Ok(BigRational::from_integer(n))
    }
}
