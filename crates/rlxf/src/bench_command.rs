//! `rlxf bench rollout`: sampler throughput on fixed-length work, the rlxf half of
//! `bench/rollout.sh` (the other half is transformers `generate` in bench/peers/hf_generate.py, fed the
//! same prompt token ids). One JSON line per timed run.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use rlxf_core::{GenerationRequest, SamplingParams};
use rlxf_model::{device_memory, runtime, ChatTokenizer, DType, LanguageModel, Sampler};
use tch::Device;

#[derive(Args)]
pub struct RolloutArgs {
    #[arg(long)]
    model: PathBuf,
    /// JSON file: a list of prompts, each a list of token ids (bench/peers/make_prompts.py writes it).
    #[arg(long)]
    prompts: PathBuf,
    /// Rows generated at once (the first N prompts).
    #[arg(long)]
    batch: usize,
    /// Exact completion length: end-of-sequence is held back until then.
    #[arg(long, default_value_t = 256)]
    new_tokens: usize,
    #[arg(long, default_value_t = 1.0)]
    temperature: f64,
    /// Timed runs after one untimed warm-up.
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    #[arg(long, default_value_t = 0)]
    threads: usize,
    #[arg(long, default_value = "cpu")]
    device: String,
    /// f32 or bf16.
    #[arg(long, default_value = "f32")]
    dtype: String,
    /// bf16: mixed precision, f32 weights with the products in bf16 (needs --dtype f32).
    #[arg(long)]
    autocast: Option<String>,
    /// Where each step's tokens are chosen: host or device (default: host on CPU, device on a GPU).
    #[arg(long, value_parser = ["host", "device"])]
    choose_on: Option<String>,
}

pub fn rollout(args: RolloutArgs) -> Result<()> {
    let threads = runtime::set_threads(args.threads);
    let torch = runtime::check_torch_version()?;
    let device = runtime::parse_device(&args.device)?;
    let dtype: DType = args.dtype.parse().map_err(anyhow::Error::msg)?;
    let bf16_autocast = runtime::parse_bf16_autocast(args.autocast.as_deref(), dtype).map_err(|e| anyhow::anyhow!("--{e}"))?;
    let mut model = LanguageModel::load(&args.model, device, dtype.kind())?;
    model.set_bf16_autocast(bf16_autocast)?;
    let tokenizer = ChatTokenizer::from_dir(&args.model, &model.config.eos_token_ids)?;
    let text = std::fs::read_to_string(&args.prompts).with_context(|| format!("reading {}", args.prompts.display()))?;
    let prompts: Vec<Vec<u32>> = serde_json::from_str(&text)
        .with_context(|| format!("{}: expected a JSON list of token-id lists", args.prompts.display()))?;
    if prompts.len() < args.batch {
        bail!("{} holds {} prompts, fewer than --batch {}", args.prompts.display(), prompts.len(), args.batch);
    }
    let requests: Vec<GenerationRequest> = prompts[..args.batch]
        .iter()
        .enumerate()
        .map(|(i, ids)| GenerationRequest { prompt_text: String::new(), prompt_ids: ids.clone(), seed: i as u64 })
        .collect();
    let params = SamplingParams {
        temperature: args.temperature,
        top_p: 1.0,
        top_k: 0,
        max_new_tokens: args.new_tokens,
        min_new_tokens: args.new_tokens,
        stop: vec![],
    };
    let mut sampler = Sampler { max_batch: args.batch, ..Sampler::new(&model, &tokenizer) };
    if let Some(site) = &args.choose_on {
        sampler.choose_on_device = site == "device";
    }
    let choose_on = if sampler.choose_on_device { "device" } else { "host" };
    // Warm-up: allocator and kernel caches, as the peer gets.
    sampler.generate_all(&requests[..1], &SamplingParams { max_new_tokens: 8, min_new_tokens: 0, ..params.clone() })?;
    for run in 0..args.repeats {
        if let Device::Cuda(index) = device {
            tch::Cuda::synchronize(index as i64);
            device_memory::reset_peak(device);
        }
        let start = Instant::now();
        let out = sampler.generate_all(&requests, &params)?;
        if let Device::Cuda(index) = device {
            tch::Cuda::synchronize(index as i64);
        }
        let seconds = start.elapsed().as_secs_f64();
        let tokens: usize = out.iter().map(|c| c.token_ids.len()).sum();
        let mut record = serde_json::json!({
            "engine": "rlxf", "task": "rollout", "run": run, "batch": args.batch,
            "prompt_tokens": requests[0].prompt_ids.len(), "new_tokens": args.new_tokens,
            "generated_tokens": tokens, "seconds": seconds, "tokens_per_second": tokens as f64 / seconds,
            "peak_rss_mb": runtime::peak_rss_mb(), "threads": threads, "torch": torch, "device": args.device, "dtype": args.dtype,
            "autocast": args.autocast, "choose_on": choose_on,
        });
        // The caching allocator's peaks, the figures hf_generate.py reads with torch.cuda.max_memory_*.
        if let Some(memory) = device_memory::stats(device) {
            record["cuda_max_allocated_mb"] = memory.peak_allocated_mb().into();
            record["cuda_max_reserved_mb"] = memory.peak_reserved_mb().into();
        }
        println!("{record}");
    }
    Ok(())
}
