//! Batched autoregressive sampling with a pre-allocated KV cache over left-padded prompts.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rlxf_core::{Completion, FinishReason, GenerationRequest, Generator, SamplingParams};
use tch::{Device, Kind, Tensor};

use crate::error::{ModelError, Result};
use crate::mask::causal_mask;
use crate::model::LanguageModel;
use crate::openmp;
use crate::prompt_sharing::distinct_prompts;
use crate::device_token_choice::{self, ChoiceRule};
use crate::token_choice::{choose, Choice};
use crate::tokenizer::ChatTokenizer;

/// Generates with the in-process policy. `max_batch` bounds memory: larger request lists run in chunks.
/// `choose_on_device` picks where each step's tokens are chosen: on the host (the default on CPU,
/// where the logits already are) or on the model's device (the default on a GPU, so that only the
/// tokens cross to the host); both give the same tokens from the same seeds.
pub struct Sampler<'a> {
    pub model: &'a LanguageModel,
    pub tokenizer: &'a ChatTokenizer,
    pub max_batch: usize,
    pub choose_on_device: bool,
}

/// Per-row state while decoding.
struct Row {
    request: usize,
    rng: ChaCha8Rng,
    tokens: Vec<u32>,
    logprobs: Vec<f32>,
    next_position: i64,
    finish: Option<FinishReason>,
    text_cut: Option<usize>,
}

impl<'a> Sampler<'a> {
    pub fn new(model: &'a LanguageModel, tokenizer: &'a ChatTokenizer) -> Self {
        Self { model, tokenizer, max_batch: 64, choose_on_device: model.device() != Device::Cpu }
    }

    pub fn generate_all(&self, requests: &[GenerationRequest], params: &SamplingParams) -> Result<Vec<Completion>> {
        params.validate().map_err(ModelError::Invalid)?;
        let mut out = Vec::with_capacity(requests.len());
        // One autocast region over all steps: each weight is cast to bf16 once, not once per step.
        let _region = self.model.net.generation_region();
        for chunk in requests.chunks(self.max_batch.max(1)) {
            out.extend(tch::no_grad(|| self.generate_batch(chunk, params))?);
        }
        Ok(out)
    }

    fn generate_batch(&self, requests: &[GenerationRequest], params: &SamplingParams) -> Result<Vec<Completion>> {
        let device = self.model.device();
        let b = requests.len() as i64;
        let prompt_len = requests.iter().map(|r| r.prompt_ids.len()).max().unwrap_or(0) as i64;
        if requests.iter().any(|r| r.prompt_ids.is_empty()) {
            return Err(ModelError::Invalid("empty prompt: every request needs at least one token".into()));
        }
        let capacity = prompt_len + params.max_new_tokens as i64;
        let limit = self.model.config.max_position_embeddings as i64;
        if capacity > limit {
            return Err(ModelError::Invalid(format!(
                "a {prompt_len}-token prompt plus max_new_tokens {} exceeds the model's max_position_embeddings ({limit})",
                params.max_new_tokens
            )));
        }
        let pad = self.tokenizer.pad_id() as i64;
        // Left-pad so every row's next token lands in the same column.
        let mut ids = vec![pad; (b * prompt_len) as usize];
        let mut valid = vec![0i64; (b * capacity) as usize];
        let mut rows = Vec::with_capacity(requests.len());
        for (i, r) in requests.iter().enumerate() {
            let offset = (prompt_len as usize) - r.prompt_ids.len();
            for (j, &t) in r.prompt_ids.iter().enumerate() {
                ids[i * prompt_len as usize + offset + j] = t as i64;
                valid[i * capacity as usize + offset + j] = 1;
            }
            rows.push(Row {
                request: i,
                rng: ChaCha8Rng::seed_from_u64(r.seed),
                tokens: Vec::new(),
                logprobs: Vec::new(),
                next_position: r.prompt_ids.len() as i64,
                finish: None,
                text_cut: None,
            });
        }
        // Samples of one group share their prompt: run the prompt once and copy its cache rows.
        let prompts: Vec<&[u32]> = requests.iter().map(|r| r.prompt_ids.as_slice()).collect();
        let (unique, row_to_unique) = distinct_prompts(&prompts);
        let u = unique.len() as i64;
        let unique_rows = Tensor::from_slice(&unique.iter().map(|&i| i as i64).collect::<Vec<_>>()).to_device(device);
        let ids = Tensor::from_slice(&ids).view([b, prompt_len]).to_device(device).index_select(0, &unique_rows);
        // Validity of every cache slot: prompt padding is 0, generated slots become 1 as they fill.
        let mut key_valid = Tensor::from_slice(&valid).view([b, capacity]).to_device(device);
        let prompt_valid = key_valid.narrow(1, 0, prompt_len).index_select(0, &unique_rows);
        let positions = crate::mask::positions_from_valid(&prompt_valid);
        let mut cache = self.model.net.new_cache(u, capacity, self.model.compute_kind(), device);
        let mask = causal_mask(&prompt_valid, prompt_len);
        let hidden = self.model.net.hidden_states(&ids, &positions, &mask, Some(&mut cache));
        let expand = Tensor::from_slice(&row_to_unique).to_device(device);
        let mut logits = self.model.net.logits(&hidden.narrow(1, prompt_len - 1, 1).squeeze_dim(1)).index_select(0, &expand);
        if u < b {
            cache.expand_rows(&expand);
        }
        // The rows in the cache, in cache order (ascending). A finished row stays, fed padding with its
        // logits ignored, until enough rows have finished to be worth compacting the cache.
        let mut in_cache: Vec<usize> = (0..rows.len()).collect();
        let mut host = Vec::new();
        for step in 0..params.max_new_tokens {
            let choices = if self.choose_on_device {
                self.choose_on_device(&logits, &mut rows, &in_cache, params)?
            } else {
                self.choose_on_host(&logits, &mut rows, &in_cache, params, &mut host)?
            };
            let mut next = Vec::with_capacity(in_cache.len());
            for (&ri, choice) in in_cache.iter().zip(choices) {
                let Some(c) = choice else {
                    next.push(pad);
                    continue;
                };
                let row = &mut rows[ri];
                row.tokens.push(c.token);
                row.logprobs.push(c.logprob);
                next.push(c.token as i64);
                self.update_finish(row, params)?;
                if row.finish.is_none() && step + 1 == params.max_new_tokens {
                    row.finish = Some(FinishReason::Length);
                }
            }
            let still: Vec<usize> = (0..in_cache.len()).filter(|&s| rows[in_cache[s]].finish.is_none()).collect();
            if still.is_empty() {
                break;
            }
            let mut next_ids = Tensor::from_slice(&next).view([in_cache.len() as i64, 1]).to_device(device);
            let finished = in_cache.len() - still.len();
            if finished * 8 >= in_cache.len() {
                // Drop finished rows so later steps cost only what is still running; waiting until an
                // eighth of the rows are done bounds both the wasted compute and the copying.
                let keep = Tensor::from_slice(&still.iter().map(|&s| s as i64).collect::<Vec<_>>()).to_device(device);
                cache.retain_rows(&keep);
                key_valid = key_valid.index_select(0, &keep);
                next_ids = next_ids.index_select(0, &keep);
                in_cache = still.iter().map(|&s| in_cache[s]).collect();
            }
            let col = cache.len();
            let _ = key_valid.narrow(1, col, 1).fill_(1);
            let positions: Vec<i64> = in_cache
                .iter()
                .map(|&ri| {
                    let p = rows[ri].next_position;
                    rows[ri].next_position += 1;
                    p
                })
                .collect();
            let positions = Tensor::from_slice(&positions).view([in_cache.len() as i64, 1]).to_device(device);
            let mask = causal_mask(&key_valid.narrow(1, 0, col + 1), 1);
            let hidden = self.model.net.hidden_states(&next_ids, &positions, &mask, Some(&mut cache));
            logits = self.model.net.logits(&hidden.squeeze_dim(1));
        }
        rows.sort_by_key(|r| r.request);
        rows.into_iter().map(|row| self.finish_row(row)).collect()
    }

    /// Copies the logits to the host and chooses each live row's token there, on libtorch's threads.
    fn choose_on_host(&self, logits: &Tensor, rows: &mut [Row], in_cache: &[usize], params: &SamplingParams, host: &mut Vec<f32>) -> Result<Vec<Option<Choice>>> {
        let vocab = logits.size()[1] as usize;
        let logits_f32 = logits.to_kind(Kind::Float).to_device(Device::Cpu).contiguous();
        host.resize(in_cache.len() * vocab, 0.0);
        logits_f32.f_copy_data(host, in_cache.len() * vocab)?;
        // Each row draws with its own RNG, so choosing rows in parallel changes no token.
        // `in_cache` is ascending, so the cached rows in order are the cache's rows in order.
        let mut cached = vec![false; rows.len()];
        in_cache.iter().for_each(|&ri| cached[ri] = true);
        let mut live: Vec<_> = rows
            .iter_mut()
            .zip(&cached)
            .filter_map(|(row, &on)| on.then_some(row))
            .zip(host.chunks_mut(vocab))
            .collect();
        let eos_ids = self.tokenizer.eos_ids();
        Ok(openmp::map_mut(&mut live, &|(row, row_logits)| {
            if row.finish.is_some() {
                return None;
            }
            if row.tokens.len() < params.min_new_tokens {
                for &eos in eos_ids {
                    if let Some(l) = row_logits.get_mut(eos as usize) {
                        *l = f32::NEG_INFINITY;
                    }
                }
            }
            Some(choose(row_logits, params.temperature, params.top_k, params.top_p, &mut row.rng))
        }))
    }

    /// Chooses on the logits' device; each live row's uniform still comes from its own RNG, drawn
    /// exactly when the host path would draw it, so both paths follow the same random streams.
    fn choose_on_device(&self, logits: &Tensor, rows: &mut [Row], in_cache: &[usize], params: &SamplingParams) -> Result<Vec<Option<Choice>>> {
        let live: Vec<bool> = in_cache.iter().map(|&ri| rows[ri].finish.is_none()).collect();
        let mut uniforms = Vec::with_capacity(in_cache.len());
        let mut hold_back = Vec::with_capacity(in_cache.len());
        for (&ri, &live) in in_cache.iter().zip(&live) {
            let row = &mut rows[ri];
            uniforms.push(if live && params.temperature > 0.0 { row.rng.random::<f64>() } else { 0.0 });
            hold_back.push(live && row.tokens.len() < params.min_new_tokens);
        }
        let rule = ChoiceRule { temperature: params.temperature, top_k: params.top_k, top_p: params.top_p };
        let chosen = device_token_choice::choose_rows(logits, &uniforms, &hold_back, self.tokenizer.eos_ids(), rule)?;
        Ok(live.into_iter().zip(chosen).map(|(live, c)| live.then_some(c)).collect())
    }

    fn update_finish(&self, row: &mut Row, params: &SamplingParams) -> Result<()> {
        let last = *row.tokens.last().expect("a token was just pushed");
        if self.tokenizer.eos_ids().contains(&last) {
            row.finish = Some(FinishReason::Eos);
            return Ok(());
        }
        if !params.stop.is_empty() {
            let text = self.tokenizer.decode(&row.tokens)?;
            if let Some((at, stop)) = params.stop.iter().filter_map(|s| text.find(s.as_str()).map(|at| (at, s))).min() {
                row.text_cut = Some(at);
                row.finish = Some(FinishReason::Stop(stop.clone()));
            }
        }
        Ok(())
    }

    fn finish_row(&self, row: Row) -> Result<Completion> {
        let mut text = self.tokenizer.decode(&row.tokens)?;
        if let Some(cut) = row.text_cut {
            text.truncate(cut);
        }
        Ok(Completion {
            text,
            token_ids: row.tokens,
            logprobs: row.logprobs,
            finish: row.finish.unwrap_or(FinishReason::Length),
        })
    }
}

impl Generator for Sampler<'_> {
    type Error = ModelError;

    fn generate(&mut self, requests: &[GenerationRequest], params: &SamplingParams) -> Result<Vec<Completion>> {
        self.generate_all(requests, params)
    }
}
