//! `rlxf problems`: the problems a recipe's task yields, as JSONL (to inspect a generator, or to give
//! another framework exactly the prompts rlxf trains and evaluates on).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use rlxf_data::Split;
use rlxf_train::TrainConfig;

pub fn problems(config: Option<PathBuf>, overrides: &[String], split: &str, start: u64, count: u64) -> Result<()> {
    let config = TrainConfig::load(config.as_deref(), overrides)?;
    let split = match split {
        "train" => Split::Train,
        "held_out" | "held-out" | "test" => Split::HeldOut,
        other => anyhow::bail!("--split {other}: use train or held_out"),
    };
    let task = config.data.task.build()?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for index in start..start + count {
        writeln!(out, "{}", serde_json::to_string(&task.problem(split, index))?)?;
    }
    out.flush()?;
    Ok(())
}
