//! `rlxf`: reinforcement learning from any feedback. The CLI only parses arguments and calls the
//! library crates; everything it does is callable from Rust.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench_attention;
mod bench_command;
mod bench_projections;
mod best_time;
mod commands;
mod problems_command;
mod eval_command;
mod make_pairs_command;
mod reward_registry;
mod plot;
mod preference_command;
mod reward_commands;

#[derive(Parser)]
#[command(name = "rlxf", version, about = "RL post-training for language models (GRPO and family), in one binary")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a policy with a recipe (no --config: the built-in GRPO arithmetic recipe); preference
    /// recipes (dpo, ipo, hinge, simpo, kto, reward_model) train from a pair file.
    Train {
        /// TOML recipe; see recipes/.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Override a recipe key, e.g. --set optimizer.lr=1e-5 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
        /// Validate the recipe, print it resolved, and exit without training.
        #[arg(long)]
        dry_run: bool,
        /// Continue the run in this folder from its newest intact checkpoint (--set still applies).
        #[arg(long, value_name = "RUN_DIR", conflicts_with = "config")]
        resume: Option<PathBuf>,
    },
    /// Evaluate a model on a suite (MATH-500/AIME, HumanEval, or a JSONL file): pass@k, avg@k,
    /// maj@k, per-sample output.
    Eval(eval_command::EvalArgs),
    /// Build preference pairs (and KTO examples) from scored samples: correct completions chosen,
    /// wrong ones rejected.
    MakePairs(make_pairs_command::MakePairsArgs),
    /// Convert a llama.cpp GGUF file into a Hugging Face model folder.
    ImportGguf {
        gguf: PathBuf,
        out_dir: PathBuf,
        /// Weight dtype of the written safetensors: bf16, f16 or f32.
        #[arg(long, default_value = "bf16")]
        dtype: String,
    },
    /// Check one predicted answer against a reference: prints the extracted answer, both parsed
    /// forms and the verdict as JSON.
    Verify {
        /// A model completion (the answer is extracted from it) or, with --raw, the answer itself.
        prediction: String,
        /// The reference answer.
        gold: String,
        /// Extraction rules, e.g. `standard`, `boxed`, `boxed_then_last_number`.
        #[arg(long, default_value = "standard")]
        extraction: String,
        /// Compare the prediction as given, without extracting an answer from it.
        #[arg(long)]
        raw: bool,
    },
    /// Sample completions for prompts from a model folder (a quick check of a model or checkpoint).
    Generate {
        #[arg(long)]
        model: PathBuf,
        /// User message; repeat for a batch.
        #[arg(long = "prompt", required = true)]
        prompts: Vec<String>,
        #[arg(long, default_value_t = 128)]
        max_new_tokens: usize,
        /// 0 = greedy.
        #[arg(long, default_value_t = 0.0)]
        temperature: f64,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long, default_value = "cpu")]
        device: String,
        #[arg(long, default_value_t = 0)]
        threads: usize,
    },
    /// Draw a run folder's charts (charts/*.png), write its report.html and a TensorBoard event
    /// file from its metrics.jsonl (open with `tensorboard --logdir runs/`).
    Plot {
        /// The run folder `rlxf train` wrote, e.g. runs/20261123-025214.
        run_dir: PathBuf,
    },
    /// Print the problems of a recipe's task as JSONL (the training split by default).
    Problems {
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
        /// train or held_out.
        #[arg(long, default_value = "train")]
        split: String,
        /// Index of the first problem.
        #[arg(long, default_value_t = 0)]
        start: u64,
        #[arg(long, default_value_t = 10)]
        count: u64,
    },
    /// Benchmarks of rlxf's own parts (the peers' halves live in bench/).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Compare finished runs: print a Markdown table (held-out accuracy before/after, end-of-run
    /// reward, KL, entropy, length, time) and write overlay charts.
    Compare {
        /// Run folders, e.g. runs/algorithms/*.
        #[arg(required = true)]
        run_dirs: Vec<PathBuf>,
        /// Folder for the charts (compare_*.png).
        #[arg(long, default_value = "runs/comparison")]
        out: PathBuf,
    },
    /// Score completions with a reward spec for other frameworks: a JSONL batch, or an HTTP server.
    Reward {
        #[command(subcommand)]
        command: reward_commands::RewardCommand,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Sampler throughput on fixed-length completions from given prompt token ids (JSON lines).
    Rollout(bench_command::RolloutArgs),
    /// One decoding step's projections: libtorch `linear` vs rlxf's few-rows kernel, same inputs.
    Projections(bench_projections::ProjectionsArgs),
    /// One decoding step's attention over the KV cache: libtorch SDPA vs rlxf's kernel, same inputs.
    Attention(bench_attention::AttentionArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("RLXF_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    // Before any thread starts: mallopt must not race allocations.
    let memory_policy = rlxf_model::host_memory::retain_freed_memory();
    tracing::debug!(?memory_policy, "host memory");
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train { config, overrides, dry_run, resume } => commands::train(config, &overrides, dry_run, resume),
        Command::Eval(args) => eval_command::eval(args),
        Command::MakePairs(args) => make_pairs_command::make_pairs(args),
        Command::ImportGguf { gguf, out_dir, dtype } => commands::import_gguf(&gguf, &out_dir, &dtype),
        Command::Verify { prediction, gold, extraction, raw } => commands::verify(&prediction, &gold, &extraction, raw),
        Command::Generate { model, prompts, max_new_tokens, temperature, seed, device, threads } => {
            commands::generate(&model, &prompts, max_new_tokens, temperature, seed, &device, threads)
        }
        Command::Plot { run_dir } => plot::plot(&run_dir),
        Command::Compare { run_dirs, out } => plot::compare(&run_dirs, &out),
        Command::Problems { config, overrides, split, start, count } => {
            problems_command::problems(config, &overrides, &split, start, count)
        }
        Command::Bench { command: BenchCommand::Rollout(args) } => bench_command::rollout(args),
        Command::Bench { command: BenchCommand::Projections(args) } => bench_projections::projections(args),
        Command::Bench { command: BenchCommand::Attention(args) } => bench_attention::attention(args),
        Command::Reward { command } => reward_commands::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if matches!(e.downcast_ref(), Some(rlxf_train::TrainError::Interrupted { .. })) => {
            eprintln!("{e}");
            // 128 + SIGINT, what shells report for a run stopped by Ctrl-C.
            ExitCode::from(130)
        }
        Err(e) => {
            // One line: the chain of causes joined, never a backtrace.
            eprintln!("error: {}", e.chain().map(|c| c.to_string()).collect::<Vec<_>>().join(": "));
            ExitCode::FAILURE
        }
    }
}
