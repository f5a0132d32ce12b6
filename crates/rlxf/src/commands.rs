//! The subcommands, each a thin call into a library crate.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::{Context, Result};
use rlxf_core::{GenerationRequest, SamplingParams};
use rlxf_model::{runtime, ChatMessage, ChatTokenizer, LanguageModel, Sampler};
use rlxf_train::{TrainConfig, Trainer};

pub fn train(config: Option<PathBuf>, overrides: &[String], dry_run: bool, resume: Option<PathBuf>) -> Result<()> {
    if !dry_run && crate::preference_command::is_preference_run(config.as_deref(), resume.as_deref(), overrides)? {
        return crate::preference_command::train(config, overrides, resume);
    }
    let trainer = match resume {
        Some(run_dir) if !dry_run => Trainer::resume(&run_dir, overrides)?,
        Some(run_dir) => {
            let resolved = TrainConfig::load(Some(&run_dir.join("config.toml")), overrides)?;
            eprintln!("# resolved recipe\n{}", resolved.to_toml());
            return Ok(());
        }
        None => {
            let config = TrainConfig::load(config.as_deref(), overrides)?;
            eprintln!("# resolved recipe\n{}", config.to_toml());
            if dry_run {
                Trainer::check_inputs(&config)?;
                return Ok(());
            }
            Trainer::new(config)?
        }
    };
    eprintln!("run folder: {}", trainer.run_dir().display());
    let summary = trainer.with_stop_flag(stop_on_signals()?).train()?;
    // Charts, report.html and TensorBoard events of the finished run; a failure here does not undo
    // the training, so it is a warning (`rlxf plot RUN_DIR` retries it).
    match rlxf_report::plot_run(Path::new(&summary.run_dir)) {
        Ok(outputs) => eprintln!("{outputs}"),
        Err(e) => eprintln!("warning: charts and report not written ({e}); run `rlxf plot {}`", summary.run_dir),
    }
    println!("{}", serde_json::to_string_pretty(&serde_json::json!({
        "run_dir": summary.run_dir,
        "accuracy_before": summary.before.accuracy,
        "accuracy_after": summary.after.accuracy,
        "train_seconds": summary.train_seconds,
        "total_seconds": summary.total_seconds,
    }))?);
    Ok(())
}

pub fn import_gguf(gguf: &Path, out_dir: &Path, dtype: &str) -> Result<()> {
    let dtype = match dtype {
        "bf16" => rlxf_gguf::OutputDType::Bf16,
        "f16" => rlxf_gguf::OutputDType::F16,
        "f32" => rlxf_gguf::OutputDType::F32,
        other => anyhow::bail!("--dtype {other}: use bf16, f16 or f32"),
    };
    let report = rlxf_gguf::import_gguf(gguf, out_dir, &rlxf_gguf::ImportOptions { dtype })?;
    eprintln!(
        "imported {} ({} tensors, {} parameters) into {}",
        report.architecture,
        report.tensors,
        report.parameters,
        report.out_dir.display()
    );
    Ok(())
}

pub fn verify(prediction: &str, gold: &str, extraction: &str, raw: bool) -> Result<()> {
    use rlxf_rewards::math::{compare, parse_answer, parse_number, Parsed};
    use rlxf_rewards::{ExtractionPolicy, MathOptions};

    let policy: ExtractionPolicy = extraction.parse().map_err(|e| anyhow::anyhow!("--extraction {extraction}: {e}"))?;
    let extracted = if raw { Some(("raw", prediction)) } else { policy.extract(prediction).map(|e| (e.rule.name(), e.answer)) };
    let opts = MathOptions::default();
    let parsed = |s: &str| match parse_number(s, &opts) {
        Parsed::Value(v) => serde_json::json!({"value": v.to_string()}),
        Parsed::Unparseable(_) => match parse_answer(s, &opts) {
            Ok(answer) => serde_json::json!({"symbolic": answer.to_string(), "steps": answer.steps()}),
            Err(why) => serde_json::json!({"unparseable": why.to_string(), "normalized": rlxf_rewards::math::normalize_text(s)}),
        },
    };
    let report = match extracted {
        Some((rule, answer)) => {
            let verdict = compare(answer, gold, &opts);
            serde_json::json!({
                "equal": verdict.equal,
                "method": verdict.method.to_string(),
                "extracted": {"rule": rule, "answer": answer},
                "prediction": parsed(answer),
                "gold": parsed(gold),
            })
        }
        None => serde_json::json!({"equal": false, "method": "no_answer", "extracted": null, "gold": parsed(gold)}),
    };
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

pub fn generate(
    model_dir: &Path,
    prompts: &[String],
    max_new_tokens: usize,
    temperature: f64,
    seed: u64,
    device: &str,
    threads: usize,
) -> Result<()> {
    runtime::set_threads(threads);
    runtime::check_torch_version()?;
    let device = runtime::parse_device(device)?;
    let model = LanguageModel::load(model_dir, device, tch::Kind::Float)?;
    let tokenizer = ChatTokenizer::from_dir(model_dir, &model.config.eos_token_ids)?;
    let requests = prompts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let text = tokenizer.render_chat(&[ChatMessage::new("user", p)])?;
            let ids = tokenizer.encode(&text)?;
            Ok(GenerationRequest { prompt_text: text, prompt_ids: ids, seed: seed.wrapping_add(i as u64) })
        })
        .collect::<Result<Vec<_>>>()?;
    let params = SamplingParams { temperature, max_new_tokens, ..SamplingParams::default() };
    let completions = Sampler::new(&model, &tokenizer).generate_all(&requests, &params).context("generation failed")?;
    for (prompt, c) in prompts.iter().zip(completions) {
        println!("{}", serde_json::json!({"prompt": prompt, "completion": c.text, "tokens": c.token_ids.len(), "finish": c.finish}));
    }
    Ok(())
}

/// The first SIGINT/SIGTERM asks the trainer to checkpoint and stop after the current step; a
/// second one exits at once.
pub fn stop_on_signals() -> Result<Arc<AtomicBool>> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&stop))?;
        signal_hook::flag::register(signal, Arc::clone(&stop))?;
    }
    Ok(stop)
}
