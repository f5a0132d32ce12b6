//! The KV-cache sampler on a tiny random model: batching must not change any row's output, and the
//! reported log-probs must equal a full forward pass over prompt + completion.

use rlxf_core::{Completion, FinishReason, GenerationRequest, SamplingParams};
use rlxf_model::{ChatTokenizer, LanguageModel, Sampler};
use tch::{Device, Kind, Tensor};

fn tiny() -> (tempfile::TempDir, LanguageModel, ChatTokenizer) {
    tch::set_num_threads(1);
    let dir = tempfile::tempdir().unwrap();
    rlxf_model::testing::tiny_model("qwen2", 3, dir.path()).unwrap();
    let model = LanguageModel::load(dir.path(), Device::Cpu, Kind::Float).unwrap();
    let tok = ChatTokenizer::from_dir(dir.path(), &model.config.eos_token_ids).unwrap();
    (dir, model, tok)
}

fn requests(tok: &ChatTokenizer) -> Vec<GenerationRequest> {
    ["hi", "What is 12 + 30? Think step by step.", "a much longer prompt, to force several padding columns"]
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let text = tok.render_chat(&[rlxf_model::ChatMessage::new("user", p)]).unwrap();
            GenerationRequest { prompt_ids: tok.encode(&text).unwrap(), prompt_text: text, seed: 100 + i as u64 }
        })
        .collect()
}

/// `count` requests cycling through [`requests`]' prompts, seeds `first_seed`, `first_seed + 1`...
fn seeded_requests(tok: &ChatTokenizer, count: usize, first_seed: u64) -> Vec<GenerationRequest> {
    let base = requests(tok);
    (0..count).map(|i| GenerationRequest { seed: first_seed + i as u64, ..base[i % base.len()].clone() }).collect()
}

/// A tokenizer whose end-of-sequence tokens are the tokens row i of `free` drew at step
/// `first_step + i % spread`, so that rows sampled again from the same seeds stop early and apart.
fn staggered_eos(dir: &std::path::Path, free: &[Completion], first_step: usize, spread: usize) -> ChatTokenizer {
    let eos: Vec<u32> = free.iter().enumerate().map(|(i, c)| c.token_ids[first_step + i % spread]).collect();
    ChatTokenizer::from_dir(dir, &eos).unwrap()
}

/// How many different completion lengths there are.
fn distinct_lengths(lengths: impl IntoIterator<Item = usize>) -> Vec<usize> {
    let mut lengths: Vec<usize> = lengths.into_iter().collect();
    lengths.sort();
    lengths.dedup();
    lengths
}

fn assert_batched_equals_single(params: &SamplingParams) {
    let (_dir, model, tok) = tiny();
    let sampler = Sampler::new(&model, &tok);
    let reqs = requests(&tok);
    let batched = sampler.generate_all(&reqs, params).unwrap();
    for (r, b) in reqs.iter().zip(&batched) {
        let single = sampler.generate_all(std::slice::from_ref(r), params).unwrap().remove(0);
        assert_eq!(single.token_ids, b.token_ids, "batched and one-by-one tokens differ");
        for (x, y) in single.logprobs.iter().zip(&b.logprobs) {
            assert!((x - y).abs() < 1e-4, "logprob {x} vs {y}");
        }
        assert_eq!(single.finish, b.finish);
    }
}

#[test]
fn greedy_batched_equals_one_by_one() {
    assert_batched_equals_single(&SamplingParams::greedy(24));
}

#[test]
fn seeded_sampling_batched_equals_one_by_one_and_repeats() {
    let params = SamplingParams { temperature: 0.9, top_p: 0.95, top_k: 50, max_new_tokens: 24, min_new_tokens: 0, stop: vec![] };
    assert_batched_equals_single(&params);
    let (_dir, model, tok) = tiny();
    let sampler = Sampler::new(&model, &tok);
    let a = sampler.generate_all(&requests(&tok), &params).unwrap();
    let b = sampler.generate_all(&requests(&tok), &params).unwrap();
    assert_eq!(a, b, "same seeds must give the same samples");
}

#[test]
fn sampler_logprobs_equal_full_forward() {
    let (_dir, model, tok) = tiny();
    let params = SamplingParams { temperature: 0.7, max_new_tokens: 16, ..SamplingParams::default() };
    let reqs = requests(&tok);
    let out = Sampler::new(&model, &tok).generate_all(&reqs, &params).unwrap();
    for (r, c) in reqs.iter().zip(&out) {
        let all: Vec<i64> = r.prompt_ids.iter().chain(&c.token_ids).map(|&t| t as i64).collect();
        let ids = Tensor::from_slice(&all).unsqueeze(0);
        let logits = tch::no_grad(|| model.logits(&ids, &Tensor::ones_like(&ids))).squeeze_dim(0) / 0.7;
        let logp = logits.log_softmax(-1, Kind::Float);
        let p = r.prompt_ids.len() as i64;
        for (j, (&t, &lp)) in c.token_ids.iter().zip(&c.logprobs).enumerate() {
            let expect = logp.double_value(&[p - 1 + j as i64, t as i64]);
            assert!((expect - lp as f64).abs() < 1e-4, "token {j}: cache {lp} vs full {expect}");
        }
    }
}

/// Under bf16 autocast the sampler decodes from a bf16 cache in one autocast region; its log-probs
/// must match a full forward under autocast to bf16 rounding (one row or many, the bf16 products
/// round differently, so not bit for bit), and differ from the f32 model's.
#[test]
fn bf16_autocast_sampler_logprobs_equal_full_forward() {
    let (_dir, mut model, tok) = tiny();
    model.set_bf16_autocast(true).unwrap();
    let params = SamplingParams { temperature: 0.7, max_new_tokens: 16, ..SamplingParams::default() };
    let reqs = requests(&tok);
    let out = Sampler::new(&model, &tok).generate_all(&reqs, &params).unwrap();
    let full_logp = |model: &LanguageModel, ids: &Tensor| {
        let logits = tch::no_grad(|| model.logits(ids, &Tensor::ones_like(ids))).squeeze_dim(0).to_kind(Kind::Float) / 0.7;
        logits.log_softmax(-1, Kind::Float)
    };
    let (mut to_autocast, mut to_f32) = (0f64, 0f64);
    for (r, c) in reqs.iter().zip(&out) {
        let all: Vec<i64> = r.prompt_ids.iter().chain(&c.token_ids).map(|&t| t as i64).collect();
        let ids = Tensor::from_slice(&all).unsqueeze(0);
        let autocast_logp = full_logp(&model, &ids);
        model.set_bf16_autocast(false).unwrap();
        let f32_logp = full_logp(&model, &ids);
        model.set_bf16_autocast(true).unwrap();
        let p = r.prompt_ids.len() as i64;
        for (j, (&t, &lp)) in c.token_ids.iter().zip(&c.logprobs).enumerate() {
            let at = [p - 1 + j as i64, t as i64];
            to_autocast = to_autocast.max((autocast_logp.double_value(&at) - lp as f64).abs());
            to_f32 = to_f32.max((f32_logp.double_value(&at) - lp as f64).abs());
        }
    }
    eprintln!("autocast sampler vs full forward: {to_autocast:.3e} (autocast), {to_f32:.3e} (f32)");
    assert!(to_f32 > 1e-3, "autocast changed nothing in the sampler");
    // Logits of magnitude ~1 here: bf16 keeps 8 bits, so a few 1e-3 apart, never 1e-2.
    assert!(to_autocast <= 1e-2, "cache {to_autocast} from the autocast forward");
}

#[test]
fn stops_at_stop_string_and_eos() {
    let (_dir, model, tok) = tiny();
    let sampler = Sampler::new(&model, &tok);
    let reqs = requests(&tok);
    let free = sampler.generate_all(&reqs[..1], &SamplingParams::greedy(20)).unwrap().remove(0);
    assert!(free.text.chars().count() >= 4, "need some text to pick a stop string from: {:?}", free.text);
    // Stop on a substring of what greedy decoding produces anyway.
    let stop: String = free.text.chars().skip(2).take(2).collect();
    let params = SamplingParams { stop: vec![stop.clone()], ..SamplingParams::greedy(20) };
    let cut = sampler.generate_all(&reqs[..1], &params).unwrap().remove(0);
    assert_eq!(cut.finish, FinishReason::Stop(stop.clone()));
    assert!(!cut.text.contains(&stop) && free.text.starts_with(&cut.text));
    assert!(cut.token_ids.len() < free.token_ids.len() || free.finish == FinishReason::Length);
}

#[test]
fn shared_prompt_prefill_equals_one_by_one() {
    let (_dir, model, tok) = tiny();
    let sampler = Sampler::new(&model, &tok);
    let base = requests(&tok);
    // A group: one prompt, four seeds, mixed with another prompt, as the trainer batches them.
    let mut reqs: Vec<GenerationRequest> =
        (0..4).map(|g| GenerationRequest { seed: 7 + g, ..base[1].clone() }).collect();
    reqs.push(base[2].clone());
    reqs.push(GenerationRequest { seed: 99, ..base[1].clone() });
    let params = SamplingParams { temperature: 1.0, max_new_tokens: 16, ..SamplingParams::default() };
    let batched = sampler.generate_all(&reqs, &params).unwrap();
    for (r, b) in reqs.iter().zip(&batched) {
        let single = sampler.generate_all(std::slice::from_ref(r), &params).unwrap().remove(0);
        assert_eq!(single.token_ids, b.token_ids);
    }
    assert_ne!(batched[0].token_ids, batched[1].token_ids, "different seeds should differ");
}

#[test]
fn min_new_tokens_holds_back_end_of_sequence() {
    let (dir, model, tok) = tiny();
    let reqs = requests(&tok);
    let first = Sampler::new(&model, &tok).generate_all(&reqs[..1], &SamplingParams::greedy(8)).unwrap().remove(0).token_ids[0];
    // Declare greedy's first token the end of sequence: free decoding stops at once.
    let eos_tok = ChatTokenizer::from_dir(dir.path(), &[first]).unwrap();
    let sampler = Sampler::new(&model, &eos_tok);
    let free = sampler.generate_all(&reqs[..1], &SamplingParams::greedy(8)).unwrap().remove(0);
    assert_eq!((free.token_ids.len(), free.finish.clone()), (1, FinishReason::Eos));
    let held = SamplingParams { min_new_tokens: 5, ..SamplingParams::greedy(8) };
    let out = sampler.generate_all(&reqs[..1], &held).unwrap().remove(0);
    assert!(out.token_ids.len() >= 5, "{:?}", out.token_ids);
    assert!(!out.token_ids[..4].contains(&first), "EOS sampled before min_new_tokens: {:?}", out.token_ids);
    let fixed = SamplingParams { min_new_tokens: 8, ..SamplingParams { temperature: 1.0, ..SamplingParams::greedy(8) } };
    let rows = sampler.generate_all(&reqs, &fixed).unwrap();
    assert!(rows.iter().all(|c| c.token_ids.len() == 8 && c.finish == FinishReason::Length));
    assert!(SamplingParams { min_new_tokens: 9, ..SamplingParams::greedy(8) }.validate().is_err());
}

#[test]
fn rows_finishing_at_different_steps_equal_one_by_one() {
    // Twenty rows that end at many different steps exercise both ways a finished row is handled:
    // kept in the batch (fed padding) while few have finished, and compacted out of the cache later.
    let (dir, model, tok) = tiny();
    let reqs = seeded_requests(&tok, 20, 500);
    let params = SamplingParams { temperature: 1.0, max_new_tokens: 24, ..SamplingParams::default() };
    let free = Sampler::new(&model, &tok).generate_all(&reqs, &params).unwrap();
    // Declare as end of sequence the token row i draws at step 1 + i % 12, so rows stop early and apart.
    let eos_tok = staggered_eos(dir.path(), &free, 1, 12);
    let sampler = Sampler::new(&model, &eos_tok);
    let batched = sampler.generate_all(&reqs, &params).unwrap();
    let lengths = distinct_lengths(batched.iter().map(|c| c.token_ids.len()));
    assert!(lengths.len() >= 4, "rows should end at several different steps: {lengths:?}");
    for (r, b) in reqs.iter().zip(&batched) {
        let single = sampler.generate_all(std::slice::from_ref(r), &params).unwrap().remove(0);
        assert_eq!(single.token_ids, b.token_ids, "batched and one-by-one tokens differ");
        assert_eq!(single.finish, b.finish);
        for (x, y) in single.logprobs.iter().zip(&b.logprobs) {
            assert!((x - y).abs() < 1e-4, "logprob {x} vs {y}");
        }
    }
}

/// Choosing tokens on the model's device (the GPU default) must give what the host path gives from
/// the same seeds: same draws, same rule. Here both run on the CPU; rows end at different steps, some
/// are held back from end-of-sequence, and top-k/top-p truncation is on.
#[test]
fn device_token_choice_equals_host_choice() {
    let (dir, model, tok) = tiny();
    let reqs = seeded_requests(&tok, 12, 900);
    let rules = [
        SamplingParams::greedy(20),
        SamplingParams { temperature: 1.0, max_new_tokens: 20, ..SamplingParams::default() },
        SamplingParams { temperature: 0.8, top_k: 20, top_p: 0.9, max_new_tokens: 20, min_new_tokens: 6, stop: vec![] },
    ];
    let free = Sampler::new(&model, &tok).generate_all(&reqs, &rules[1]).unwrap();
    let eos_tok = staggered_eos(dir.path(), &free, 2, 9);
    let mut lengths = Vec::new();
    for params in &rules {
        let host = Sampler { choose_on_device: false, ..Sampler::new(&model, &eos_tok) }.generate_all(&reqs, params).unwrap();
        let device = Sampler { choose_on_device: true, ..Sampler::new(&model, &eos_tok) }.generate_all(&reqs, params).unwrap();
        lengths.extend(host.iter().map(|c| c.token_ids.len()));
        for (h, d) in host.iter().zip(&device) {
            assert_eq!(h.token_ids, d.token_ids, "host and device choice differ under {params:?}");
            assert_eq!(h.finish, d.finish);
            for (x, y) in h.logprobs.iter().zip(&d.logprobs) {
                assert!((x - y).abs() < 1e-5, "logprob {x} vs {y}");
            }
        }
    }
    let lengths = distinct_lengths(lengths);
    assert!(lengths.len() >= 4, "rows should end at several steps: {lengths:?}");
}

/// The real model's heads (64 wide, 9 query heads on 3 kv heads) take the decoding-step kernels
/// (attention and projections), which the tiny model's do not: their log-probs must still equal a
/// full forward pass, which uses libtorch's attention and MKL, over left-padded rows of a batch.
#[test]
#[ignore = "needs models: run scripts/fetch-models.sh (scripts/test.sh does)"]
fn real_model_decoding_kernels_equal_full_forward() {
    tch::set_num_threads(2);
    let dir = rlxf_model::testing::smollm_dir().unwrap();
    let model = LanguageModel::load(&dir, Device::Cpu, Kind::Float).unwrap();
    let tok = ChatTokenizer::from_dir(&dir, &model.config.eos_token_ids).unwrap();
    let params = SamplingParams { temperature: 1.0, max_new_tokens: 24, ..SamplingParams::default() };
    let reqs = requests(&tok);
    let out = Sampler::new(&model, &tok).generate_all(&reqs, &params).unwrap();
    let mut worst = 0f64;
    for (r, c) in reqs.iter().zip(&out) {
        let all: Vec<i64> = r.prompt_ids.iter().chain(&c.token_ids).map(|&t| t as i64).collect();
        let ids = Tensor::from_slice(&all).unsqueeze(0);
        let logits = tch::with_grad(|| model.logits(&ids, &Tensor::ones_like(&ids))).detach().squeeze_dim(0);
        let logp = logits.log_softmax(-1, Kind::Float);
        let p = r.prompt_ids.len() as i64;
        for (j, (&t, &lp)) in c.token_ids.iter().zip(&c.logprobs).enumerate() {
            worst = worst.max((logp.double_value(&[p - 1 + j as i64, t as i64]) - lp as f64).abs());
        }
    }
    assert!(worst < 2e-3, "decoding log-probs differ from the full forward by up to {worst}");
}
