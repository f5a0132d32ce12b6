//! Rough throughput probe of a model folder: sampler tokens/s and one forward+backward over a batch.
//! `cargo run --release -p rlxf-model --example speed -- MODEL_DIR [BATCH] [PROMPT_LEN] [NEW_TOKENS] [THREADS]`

use std::time::Instant;

use rlxf_core::{GenerationRequest, SamplingParams};
use rlxf_model::{ChatTokenizer, LanguageModel, Sampler};
use tch::{Device, Kind, Tensor};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(&args[1]);
    let arg = |i: usize, d: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let (batch, prompt_len, new_tokens, threads) = (arg(2, 64), arg(3, 48), arg(4, 64), arg(5, 2));
    tch::set_num_threads(threads as i32);
    let model = LanguageModel::load(&dir, Device::Cpu, Kind::Float).unwrap();
    let tok = ChatTokenizer::from_dir(&dir, &model.config.eos_token_ids).unwrap();
    let reqs: Vec<GenerationRequest> = (0..batch)
        .map(|i| GenerationRequest {
            prompt_text: String::new(),
            prompt_ids: (0..prompt_len).map(|j| (100 + (i * 7 + j * 13) % 1000) as u32).collect(),
            seed: i as u64,
        })
        .collect();
    // Never stop early: measure exactly new_tokens per row.
    let params = SamplingParams { temperature: 1.0, max_new_tokens: new_tokens, ..SamplingParams::default() };
    let sampler = Sampler { max_batch: batch, ..Sampler::new(&model, &tok) };
    let t = Instant::now();
    let out = sampler.generate_all(&reqs, &params).unwrap();
    let secs = t.elapsed().as_secs_f64();
    let generated: usize = out.iter().map(|c| c.token_ids.len()).sum();
    println!("sample: batch {batch} prompt {prompt_len} -> {generated} tokens in {secs:.2} s = {:.0} tok/s", generated as f64 / secs);
    let total = (prompt_len + new_tokens) as i64;
    let ids = Tensor::randint(1000, [batch as i64, total], (Kind::Int64, Device::Cpu));
    let t = Instant::now();
    let logits = model.logits(&ids, &Tensor::ones_like(&ids));
    let loss = logits.narrow(1, prompt_len as i64, new_tokens as i64).log_softmax(-1, Kind::Float).mean(Kind::Float);
    let fwd = t.elapsed().as_secs_f64();
    loss.backward();
    println!("train: forward {fwd:.2} s, forward+backward {:.2} s for {batch} x {total}", t.elapsed().as_secs_f64());
}
