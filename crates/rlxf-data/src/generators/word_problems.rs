//! Multi-step arithmetic stories: a quantity changes 1–5 times (add, subtract, multiply,
//! divide evenly) and the question asks for the final amount.
//!
//! Each scenario phrases every operation its own way; the canonical key is the scenario plus
//! the numbers and operations, so re-skinning a held-out problem with another name or object
//! cannot leak it into training.

use rand::seq::IndexedRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rlxf_core::Problem;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map};

use crate::error::DataError;
use crate::generator::{check_range, default_instruction, Common, Draft, TaskGenerator};
use crate::split::{Split, DEFAULT_HELD_OUT_FRACTION};

const KIND: &str = "word_problems";

/// Stories never grow past this, keeping the numbers "small" as grade-school problems are.
const MAX_QUANTITY: u64 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StepOp {
    #[serde(rename = "+")]
    Add,
    #[serde(rename = "-")]
    Sub,
    #[serde(rename = "*")]
    Mul,
    #[serde(rename = "/")]
    Div,
}

impl StepOp {
    pub const ALL: [StepOp; 4] = [StepOp::Add, StepOp::Sub, StepOp::Mul, StepOp::Div];

    pub fn symbol(self) -> &'static str {
        match self {
            StepOp::Add => "+",
            StepOp::Sub => "-",
            StepOp::Mul => "*",
            StepOp::Div => "/",
        }
    }

    pub fn apply(self, q: u64, n: u64) -> u64 {
        match self {
            StepOp::Add => q + n,
            StepOp::Sub => q - n,
            StepOp::Mul => q * n,
            StepOp::Div => q / n,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WordProblemsConfig {
    pub seed: u64,
    /// Number of operations after the opening sentence (the difficulty knob).
    pub steps: u32,
    /// Operations to draw from. When the drawn one cannot apply (`/` on a prime), the first
    /// applicable of `+`, `-`, `*`, `/` is used instead.
    pub ops: Vec<StepOp>,
    pub instruction: String,
    pub held_out_fraction: f64,
}

impl Default for WordProblemsConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            steps: 2,
            ops: StepOp::ALL.to_vec(),
            instruction: default_instruction(),
            held_out_fraction: DEFAULT_HELD_OUT_FRACTION,
        }
    }
}

/// One story setting. Sentences use `{name}`, `{a}` (starting amount), `{n}` (the step's
/// number) and `{item}`.
struct Scenario {
    id: &'static str,
    items: &'static [&'static str],
    start: &'static [&'static str],
    add: &'static [&'static str],
    sub: &'static [&'static str],
    mul: &'static [&'static str],
    div: &'static [&'static str],
    question: &'static str,
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        id: "collection",
        items: &["marbles", "stickers", "stamps", "trading cards", "seashells"],
        start: &["{name} has {a} {item}.", "{name} starts the week with {a} {item}."],
        add: &["{name} finds {n} more {item}.", "A friend gives {name} {n} {item}."],
        sub: &["{name} gives {n} {item} to a cousin.", "{name} loses {n} {item}."],
        mul: &["After a big trade, {name} has {n} times as many {item} as before.", "{name}'s collection grows to {n} times its size."],
        div: &["{name} splits the {item} into {n} equal piles and keeps only one pile.", "{name} shares the {item} equally among {n} people, {name} included, and keeps one share."],
        question: "How many {item} does {name} have now?",
    },
    Scenario {
        id: "bakery",
        items: &["cookies", "muffins", "cupcakes", "bread rolls", "brownies"],
        start: &["{name} bakes {a} {item}.", "There are {a} {item} on {name}'s tray."],
        add: &["{name} bakes {n} more {item}.", "A neighbor brings over {n} {item}."],
        sub: &["{name}'s family eats {n} of the {item}.", "{name} sells {n} {item} at the market."],
        mul: &["{name} bakes more batches until there are {n} times as many {item}.", "For a party, {name} ends up with {n} times as many {item} as that."],
        div: &["{name} packs the {item} equally into {n} boxes and gives away all but one box.", "{name} arranges the {item} on {n} plates with the same number on each and keeps one plate."],
        question: "How many {item} does {name} have now?",
    },
    Scenario {
        id: "savings",
        items: &["dollars"],
        start: &["{name} has {a} dollars in a piggy bank.", "{name} has saved {a} dollars."],
        add: &["{name} earns {n} dollars walking dogs.", "{name}'s grandmother gives {name} {n} dollars."],
        sub: &["{name} spends {n} dollars on a book.", "{name} pays {n} dollars for a concert ticket."],
        mul: &["After a year of saving, {name} has {n} times as much money.", "A lucky investment leaves {name} with {n} times as much money."],
        div: &["{name} divides the money equally among {n} envelopes and keeps just one envelope.", "{name} splits the money evenly among {n} children, {name} included, and keeps one share."],
        question: "How many dollars does {name} have now?",
    },
    Scenario {
        id: "bus",
        items: &["passengers"],
        start: &["A bus leaves the depot with {a} passengers.", "There are {a} passengers on a bus."],
        add: &["At the next stop, {n} people get on.", "{n} more passengers board the bus."],
        sub: &["At the next stop, {n} people get off.", "{n} passengers leave the bus at the station."],
        mul: &["At the stadium stop so many people board that there are {n} times as many passengers as before."],
        div: &["The passengers form {n} equal groups, and every group but one gets off."],
        question: "How many passengers are on the bus now?",
    },
    Scenario {
        id: "orchard",
        items: &["apples", "pears", "oranges", "peaches", "plums"],
        start: &["{name} picks {a} {item} in the orchard.", "{name} has a basket with {a} {item}."],
        add: &["{name} picks {n} more {item}.", "{name}'s brother adds {n} {item} to the basket."],
        sub: &["{n} of the {item} are bruised, so {name} throws them away.", "{name} eats {n} of the {item}."],
        mul: &["By the end of the day {name} has {n} times as many {item} as before."],
        div: &["{name} puts the {item} equally into {n} crates and keeps one crate."],
        question: "How many {item} does {name} have now?",
    },
    Scenario {
        id: "library",
        items: &["books"],
        start: &["A classroom shelf holds {a} books.", "The class library has {a} books."],
        add: &["The teacher adds {n} new books.", "Students donate {n} books."],
        sub: &["Students borrow {n} books and take them home.", "{n} worn-out books are recycled."],
        mul: &["After a school book drive there are {n} times as many books."],
        div: &["The books are shared equally among {n} classrooms, and this class keeps one share."],
        question: "How many books does the class have now?",
    },
    Scenario {
        id: "garden",
        items: &["tulips", "roses", "daisies", "sunflowers", "lilies"],
        start: &["{name} plants {a} {item}.", "{name}'s garden has {a} {item}."],
        add: &["{name} plants {n} more {item}.", "A neighbor gives {name} {n} {item} to plant."],
        sub: &["Rabbits eat {n} of the {item}.", "{name} picks {n} of the {item} for a vase."],
        mul: &["By summer the {item} have spread, and there are {n} times as many."],
        div: &["{name} divides the {item} equally into {n} flower beds and gives away all but one bed."],
        question: "How many {item} does {name} have now?",
    },
    Scenario {
        id: "game",
        items: &["points"],
        start: &["{name} scores {a} points in the first round of a game.", "{name} starts a video game level with {a} points."],
        add: &["{name} earns {n} bonus points.", "{name} collects a star worth {n} points."],
        sub: &["{name} loses {n} points for a mistake.", "A trap costs {name} {n} points."],
        mul: &["A power-up multiplies {name}'s score by {n}."],
        div: &["A penalty divides {name}'s score by {n}.", "A trap splits {name}'s score into {n} equal parts and takes all but one part."],
        question: "How many points does {name} have now?",
    },
    Scenario {
        id: "classroom",
        items: &["pencils", "markers", "crayons", "erasers"],
        start: &["The teacher has {a} {item} in a drawer.", "The teacher keeps {a} {item} in a supply box."],
        add: &["The teacher buys a pack of {n} {item}.", "The school office sends {n} more {item}."],
        sub: &["The teacher hands out {n} {item} to students.", "{n} {item} break and are thrown away."],
        mul: &["A donation leaves the teacher with {n} times as many {item}."],
        div: &["The teacher sorts the {item} equally into {n} cups and gives away every cup but one."],
        question: "How many {item} does the teacher have now?",
    },
    Scenario {
        id: "water_tank",
        items: &["liters"],
        start: &["A tank holds {a} liters of water.", "A rain barrel contains {a} liters of water."],
        add: &["{n} liters of water are poured in.", "A storm adds {n} liters of water."],
        sub: &["{n} liters leak out.", "{name} uses {n} liters to water the plants."],
        mul: &["A pump fills it until it holds {n} times as much water."],
        div: &["The water is poured equally into {n} buckets, and only one bucket is kept."],
        question: "How many liters of water are there now?",
    },
];

const NAMES: &[&str] = &[
    "Ava", "Ben", "Chloe", "Diego", "Emma", "Farah", "Gabriel", "Hana", "Isaac", "Jia", "Kofi",
    "Lena", "Mateo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Victor",
    "Wen", "Ximena", "Yusuf", "Zoe",
];

#[derive(Debug, Clone)]
pub struct WordProblems {
    config: WordProblemsConfig,
    common: Common,
}

impl WordProblems {
    pub fn new(config: WordProblemsConfig) -> Result<Self, DataError> {
        check_range(KIND, "steps", config.steps, 1, 5)?;
        if config.ops.is_empty() {
            return Err(DataError::invalid(
                KIND,
                "ops",
                &config.ops,
                "list at least one of \"+\", \"-\", \"*\", \"/\"",
            ));
        }
        let common = Common::new(KIND, config.seed, &config.instruction, config.held_out_fraction)?;
        // The space is far beyond the enumeration limit (10 scenarios × 56 starts × 29+ choices
        // per step), so both splits are always populated.
        Ok(Self { config, common })
    }

    pub fn config(&self) -> &WordProblemsConfig {
        &self.config
    }

    /// The operand for `op` on quantity `q`, or `None` when `op` cannot apply (keeps every
    /// intermediate a whole number between 1 and [`MAX_QUANTITY`]).
    fn operand(op: StepOp, q: u64, rng: &mut ChaCha8Rng) -> Option<u64> {
        match op {
            StepOp::Add => {
                (q + 2 <= MAX_QUANTITY).then(|| rng.random_range(2..=30.min(MAX_QUANTITY - q)))
            }
            StepOp::Sub => (q >= 2).then(|| rng.random_range(1..=(q - 1).min(40))),
            StepOp::Mul => {
                (q * 2 <= MAX_QUANTITY).then(|| rng.random_range(2..=4.min(MAX_QUANTITY / q)))
            }
            StepOp::Div => {
                let divisors: Vec<u64> = (2..=9).filter(|d| q.is_multiple_of(*d)).collect();
                divisors.choose(rng).copied()
            }
        }
    }

    fn draft(&self, rng: &mut ChaCha8Rng) -> Draft {
        let scenario = SCENARIOS.choose(rng).expect("scenarios are non-empty");
        let name = *NAMES.choose(rng).expect("names are non-empty");
        let item = *scenario
            .items
            .choose(rng)
            .expect("every scenario has items");
        let a: u64 = rng.random_range(5..=60);
        let fill = |template: &str, n: u64| {
            template
                .replace("{name}", name)
                .replace("{item}", item)
                .replace("{a}", &a.to_string())
                .replace("{n}", &n.to_string())
        };
        let mut sentences = vec![fill(scenario.start.choose(rng).expect("non-empty"), 0)];
        let mut q = a;
        let mut steps = Vec::new();
        let mut key = format!("{}|{a}", scenario.id);
        for _ in 0..self.config.steps {
            let op = *self.config.ops.choose(rng).expect("validated non-empty");
            // When the drawn op cannot apply, the first one that can: `+` works below the cap
            // and `-` above 1, so one always does.
            let (op, n) = std::iter::once(op)
                .chain(StepOp::ALL)
                .find_map(|o| Self::operand(o, q, rng).map(|n| (o, n)))
                .expect("`+` or `-` always applies");
            let templates = match op {
                StepOp::Add => scenario.add,
                StepOp::Sub => scenario.sub,
                StepOp::Mul => scenario.mul,
                StepOp::Div => scenario.div,
            };
            sentences.push(fill(templates.choose(rng).expect("non-empty"), n));
            q = op.apply(q, n);
            steps.push(json!([op.symbol(), n]));
            key.push_str(&format!("|{}{n}", op.symbol()));
        }
        sentences.push(fill(scenario.question, 0));
        let mut metadata = Map::new();
        metadata.insert("scenario".into(), json!(scenario.id));
        metadata.insert("start".into(), json!(a));
        metadata.insert("steps".into(), json!(steps));
        Draft {
            key,
            question: sentences.join(" "),
            answer: q.to_string(),
            metadata,
        }
    }
}

impl TaskGenerator for WordProblems {
    fn name(&self) -> &str {
        KIND
    }

    fn problem(&self, split: Split, index: u64) -> Problem {
        self.common.generate(split, index, |rng| self.draft(rng))
    }
}
