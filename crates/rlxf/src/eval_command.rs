//! `rlxf eval`: a model on a suite, with pass@k / avg@k / maj@k tables.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use rlxf_core::SamplingParams;
use rlxf_eval::{evaluate_suite, write_outputs, EvalSettings, EvalSuite};
use rlxf_model::{runtime, ChatTokenizer, DType, LanguageModel, Sampler};
use rlxf_rewards::RewardSpec;

#[derive(Args)]
pub struct EvalArgs {
    /// Model folder (Hugging Face layout) or a run's `final/` or checkpoint `policy/` folder.
    #[arg(long)]
    model: PathBuf,
    /// Built-in suite: `math` (MATH-500 subset, AIME 2024/2025, CNMO) or `humaneval`.
    #[arg(long, default_value = "math")]
    suite: String,
    /// Data file (JSONL, optionally .gz) instead of the suite's default under ../shared/data.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Reward spec (TOML) replacing the suite's reward.
    #[arg(long)]
    reward: Option<PathBuf>,
    /// Completions per problem (k of pass@k).
    #[arg(long, default_value_t = 1)]
    samples: usize,
    /// 0 = greedy (only with --samples 1).
    #[arg(long, default_value_t = 0.0)]
    temperature: f64,
    #[arg(long, default_value_t = 1.0)]
    top_p: f64,
    #[arg(long, default_value_t = 512)]
    max_new_tokens: usize,
    /// Evaluate only the first N problems.
    #[arg(long)]
    limit: Option<usize>,
    /// Output folder (default runs/eval-<suite>-<timestamp>).
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// System message (default: the chat template's).
    #[arg(long)]
    system: Option<String>,
    #[arg(long, default_value = "cpu")]
    device: String,
    #[arg(long, default_value = "f32")]
    dtype: String,
    /// bf16: mixed precision, f32 weights with the products in bf16 (needs --dtype f32).
    #[arg(long)]
    autocast: Option<String>,
    /// libtorch threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Sequences generated at once.
    #[arg(long, default_value_t = 64)]
    batch: usize,
}

pub fn eval(args: EvalArgs) -> Result<()> {
    if args.samples == 0 {
        bail!("--samples must be at least 1");
    }
    if args.samples > 1 && args.temperature <= 0.0 {
        bail!("--samples {} with greedy decoding gives identical samples; set --temperature (e.g. 0.6)", args.samples);
    }
    let mut suite = EvalSuite::preset(&args.suite, args.data.as_deref())?;
    if let Some(path) = &args.reward {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading reward spec {}", path.display()))?;
        suite.reward = RewardSpec::from_toml(&text).with_context(|| format!("reward spec {}", path.display()))?;
    }
    let reward = crate::reward_registry::build(&suite.reward)?;
    // Data problems (missing file, bad template) surface before the model loads.
    suite.load(args.limit)?;
    let sampling = SamplingParams { temperature: args.temperature, top_p: args.top_p, max_new_tokens: args.max_new_tokens, ..SamplingParams::default() };
    sampling.validate().map_err(|e| anyhow::anyhow!("sampling: {e}"))?;

    runtime::set_threads(args.threads);
    runtime::check_torch_version()?;
    let device = runtime::parse_device(&args.device)?;
    let dtype: DType = args.dtype.parse().map_err(|e: String| anyhow::anyhow!("--dtype: {e}"))?;
    let bf16_autocast = runtime::parse_bf16_autocast(args.autocast.as_deref(), dtype).map_err(|e| anyhow::anyhow!("--{e}"))?;
    let mut model = LanguageModel::load(&args.model, device, dtype.kind())?;
    model.set_bf16_autocast(bf16_autocast)?;
    let tokenizer = ChatTokenizer::from_dir(&args.model, &model.config.eos_token_ids)?;
    let sampler = Sampler { max_batch: args.batch, ..Sampler::new(&model, &tokenizer) };
    let settings = EvalSettings {
        samples: args.samples,
        sampling,
        seed: args.seed,
        limit: args.limit,
        system_prompt: args.system.clone(),
        problems_per_batch: (args.batch / args.samples).max(1),
    };
    let bar = ProgressBar::new(0);
    bar.set_style(ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} problems").unwrap_or_else(|_| ProgressStyle::default_bar()));
    let output = evaluate_suite(&suite, &sampler, &tokenizer, reward.as_ref(), &settings, |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
        if bar.is_hidden() {
            eprintln!("{done}/{total} problems");
        }
    })?;
    bar.finish_and_clear();
    for skipped in &output.skipped {
        eprintln!("warning: {skipped}");
    }
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("runs").join(format!("eval-{}-{}", args.suite, chrono::Utc::now().format("%Y%m%d-%H%M%S")))
    });
    write_outputs(&out, &suite, &settings, &output, &args.model)?;
    println!("{}", rlxf_eval::summary::render_table(&output.rows));
    eprintln!("{} problems x {} samples in {:.0} s; results in {}", output.problems.len(), args.samples, output.seconds, out.display());
    Ok(())
}
