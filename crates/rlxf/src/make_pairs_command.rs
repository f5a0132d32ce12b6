//! `rlxf make-pairs`: preference pairs (and KTO examples) from scored samples of the recipe's own
//! model on its task, or from the per-sample JSONL of `rlxf eval`.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use rlxf_train::preference::make_pairs::{
    pair_all, read_eval_samples, sample_problems, write_jsonl,
};
use rlxf_train::TrainConfig;

#[derive(Args)]
pub struct MakePairsArgs {
    /// Recipe whose model, task, sampling settings and reward make the samples (no --config: the
    /// built-in recipe).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Override a recipe key (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
    /// Training problems to sample (the first N of the task's train split).
    #[arg(long, default_value_t = 200)]
    problems: usize,
    /// Completions sampled per problem.
    #[arg(long, default_value_t = 8)]
    samples: usize,
    /// At most this many pairs (and labelled examples of each kind) per problem.
    #[arg(long, default_value_t = 2)]
    max_pairs: usize,
    /// Pair the samples of this `rlxf eval` per-sample JSONL instead of sampling.
    #[arg(long, value_name = "SAMPLES_JSONL", conflicts_with_all = ["config", "overrides"])]
    from: Option<PathBuf>,
    /// The pair file to write ({prompt, chosen, rejected} lines).
    #[arg(long)]
    out: PathBuf,
    /// Also write KTO examples ({prompt, completion, label} lines).
    #[arg(long)]
    kto_out: Option<PathBuf>,
}

pub fn make_pairs(args: MakePairsArgs) -> Result<()> {
    if args.max_pairs == 0 {
        bail!("--max-pairs must be at least 1");
    }
    let problems = match &args.from {
        Some(path) => {
            let (problems, skipped) = read_eval_samples(path)?;
            for s in &skipped {
                eprintln!("warning: {s}");
            }
            if problems.is_empty() {
                bail!(
                    "{}: no usable sample lines ({} skipped)",
                    path.display(),
                    skipped.len()
                );
            }
            problems
        }
        None => {
            let config = TrainConfig::load(args.config.as_deref(), &args.overrides)?;
            let start = std::time::Instant::now();
            sample_problems(&config, args.problems, args.samples, |done, total| {
                eprintln!(
                    "sampled {done}/{total} problems ({:.0} s)",
                    start.elapsed().as_secs_f64()
                );
            })?
        }
    };
    let (pairs, labelled, counts) = pair_all(&problems, args.max_pairs);
    write_jsonl(&args.out, &pairs)?;
    eprintln!("{counts}");
    eprintln!("pairs written to {}", args.out.display());
    if let Some(path) = &args.kto_out {
        write_jsonl(path, &labelled)?;
        eprintln!("labelled examples written to {}", path.display());
    }
    println!("{}", serde_json::to_string_pretty(&counts)?);
    if pairs.is_empty() {
        bail!("no pairs: no problem had both a correct and a wrong completion (sample more per problem, or use a temperature that varies the answers)");
    }
    Ok(())
}
