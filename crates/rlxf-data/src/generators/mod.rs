//! Built-in task generators.

pub mod arithmetic;
pub mod countdown;
pub mod sorting;
pub mod word_problems;

pub use arithmetic::{Arithmetic, ArithmeticConfig};
pub use countdown::{Countdown, CountdownConfig};
pub use sorting::{Sorting, SortingConfig};
pub use word_problems::{WordProblems, WordProblemsConfig};
