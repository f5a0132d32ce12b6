//! The training loop: sample groups, score them, compute advantages with the recipe's estimator, and
//! take policy-gradient steps with its loss, accumulating gradients over micro-batches.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::algorithm::{self, Advantages, RolloutRewards};
use crate::checkpoint::{self as checksum, CheckpointStore, TrainerState};
use crate::collection::{collect_groups, greedy_rewards};
use crate::config::TrainConfig;
use crate::critic::Critic;
use crate::error::TrainError;
use crate::evaluation::{evaluate, EvalResult};
use crate::logprobs::Activations;
use crate::lr_schedule::learning_rate;
use crate::optimizer::{AdamW, AdamWSettings};
use crate::policy_update::{
    accumulate_policy_gradients, clip_grad_norm, flatten, SamplerGap, TrainSample, UpdateSettings, UpdateStats,
};
use crate::rollout::{prepare, sample_and_score, ScoredGroup};
use crate::rollout_estimates::{rollout_estimates, EstimateSettings};
use crate::run_dir::RunDir;
use crate::run_inputs::RunInputs;
use crate::run_record::{model_hashes, write_environment};
use crate::step_metrics::best_and_worst;
pub use crate::step_metrics::{StepMetrics, TrainSummary};
use indicatif::{ProgressBar, ProgressStyle};
use rlxf_algos::KlController;
use rlxf_data::{Split, TaskGenerator};
use rlxf_model::{device_memory, runtime, ChatTokenizer, DType, LanguageModel, Sampler};
use rlxf_rewards::Reward;

pub struct Trainer {
    config: TrainConfig,
    policy: LanguageModel,
    reference: Option<LanguageModel>,
    tokenizer: ChatTokenizer,
    reward: Box<dyn Reward>,
    task: Box<dyn TaskGenerator>,
    optimizer: AdamW,
    /// PPO's value model.
    critic: Option<Critic>,
    /// Index of the next training problem.
    cursor: u64,
    run: RunDir,
    /// Supplies the KL coefficient (fixed `beta`, or adaptive toward `kl_target`).
    kl: Box<dyn KlController + Send>,
    checkpoints: CheckpointStore,
    stop: Option<Arc<AtomicBool>>,
    resume: Option<ResumePoint>,
    config_sha256: String,
}

/// Where a resumed run picks up.
struct ResumePoint {
    state: TrainerState,
}

impl Trainer {
    /// Loads everything the run needs; fails before any training work on a bad model, reward or task.
    pub fn new(config: TrainConfig) -> Result<Self, TrainError> {
        let inputs = RunInputs::build(&config)?;
        let run = RunDir::create(config.run_dir.as_deref(), &config.to_toml())?;
        Self::build(config, inputs, run, None)
    }

    /// Builds the recipe's reward and task and drops them: what `rlxf train --dry-run` checks beyond
    /// `TrainConfig::validate`, without loading the model or creating a run folder.
    pub fn check_inputs(config: &TrainConfig) -> Result<(), TrainError> {
        RunInputs::build(config).map(drop)
    }

    /// Continues the run in `run_dir` from its newest intact checkpoint. `overrides` are applied on
    /// top of the run's saved config (for example more steps); other changes make the continuation
    /// differ from the original run and are reported.
    pub fn resume(run_dir: &Path, overrides: &[String]) -> Result<Self, TrainError> {
        let (config, checkpoint, run) = checksum::open_for_resume(run_dir, overrides)?;
        let mut config = config;
        // The KL reference stays the run's starting model, not the checkpoint.
        if config.model.reference_path.is_none() {
            config.model.reference_path = Some(config.model.path.clone());
        }
        config.model.path = checkpoint.policy_dir();
        let inputs = RunInputs::build(&config)?;
        let mut trainer = Self::build(
            config,
            inputs,
            run,
            Some(ResumePoint {
                state: checkpoint.state.clone(),
            }),
        )?;
        trainer.optimizer.load(&checkpoint.path)?;
        if let Some(critic) = trainer.critic.as_mut() {
            critic.load(&checkpoint.path)?;
        }
        trainer.cursor = checkpoint.state.data_cursor;
        trainer.kl.restore(checkpoint.state.kl_coef);
        eprintln!(
            "resuming {} from step {} ({})",
            run_dir.display(),
            checkpoint.state.step,
            checkpoint.path.display()
        );
        Ok(trainer)
    }

    /// Checked after every step: when set (by a signal handler), the trainer writes a checkpoint
    /// and returns [`TrainError::Interrupted`].
    pub fn with_stop_flag(mut self, flag: Arc<AtomicBool>) -> Self {
        self.stop = Some(flag);
        self
    }

    fn build(
        config: TrainConfig,
        RunInputs { reward, task }: RunInputs,
        run: RunDir,
        resume: Option<ResumePoint>,
    ) -> Result<Self, TrainError> {
        let threads = runtime::set_threads(config.model.threads);
        let torch_version = runtime::check_torch_version()?;
        let device = runtime::parse_device(&config.model.device)?;
        let dtype: DType = config.model.dtype.parse().map_err(TrainError::Other)?;
        let bf16_autocast = config.model.bf16_autocast(dtype)?;
        tch::manual_seed(config.seed as i64);
        if let (Some(train), Some(held_out)) = (task.len(Split::Train), task.len(Split::HeldOut)) {
            eprintln!(
                "data: {train} training problems, {held_out} held out ({})",
                task.name()
            );
        }
        let mut policy = LanguageModel::load(&config.model.path, device, dtype.kind())?;
        policy.set_bf16_autocast(bf16_autocast)?;
        let stochastic_rounding = config.model.stochastic_autocast_rounding(dtype)?;
        if bf16_autocast && !stochastic_rounding && resume.is_none() && policy.net.product_weights_on_bf16_grid() {
            eprintln!(
                "note: the policy's weights are bf16 values (a bf16 checkpoint); under bf16 autocast the forward sees an update only once it passes half a bf16 step, which at small learning rates takes many steps (docs/benchmarks/peers-cpu.md, \"Why autocast learns less\"); model.autocast_rounding = \"stochastic\" or f32 have no such lag"
            );
        }
        let tokenizer = ChatTokenizer::from_dir(&config.model.path, &policy.config.eos_token_ids)?;
        // The reference model exists only when the KL term is on (beta > 0) or KL is reported.
        let reference = if config.algorithm.beta > 0.0 || config.algorithm.measure_kl {
            let path = config
                .model
                .reference_path
                .as_ref()
                .unwrap_or(&config.model.path);
            let mut r = LanguageModel::load(path, device, dtype.kind())?;
            r.set_bf16_autocast(bf16_autocast)?;
            r.freeze();
            Some(r)
        } else {
            None
        };
        let o = &config.optimizer;
        let settings = AdamWSettings {
            beta1: o.beta1,
            beta2: o.beta2,
            eps: o.eps,
            weight_decay: o.weight_decay,
        };
        let mut optimizer = AdamW::new(&policy.vs, settings, o.lr);
        if stochastic_rounding {
            optimizer.round_forward_copies_to_bf16(policy.net.product_parameters(), config.seed)?;
        }
        let critic = config
            .critic
            .as_ref()
            .map(|c| Critic::new(c, &policy, settings, config.seed))
            .transpose()?;
        let config_sha256 = match &resume {
            Some(r) => r.state.config_sha256.clone(),
            None => checksum::sha256_text(&config.to_toml()),
        };
        if resume.is_none() {
            write_environment(
                &run,
                &config,
                &torch_version,
                threads,
                &config_sha256,
                serde_json::json!({
                    "parameters": policy.num_parameters(),
                    "model_sha256": model_hashes(&config.model.path)?,
                    "task": config.data.task,
                }),
            )?;
        }
        let checkpoints = CheckpointStore::new(&run.path, config.checkpoint.keep_last);
        tracing::info!(run_dir = %run.path.display(), threads, torch = %torch_version, params = policy.num_parameters(), "run starts");
        let kl = algorithm::kl_controller(&config.algorithm)
            .map_err(|e| TrainError::Other(format!("algorithm: {e}")))?;
        Ok(Self {
            config,
            policy,
            reference,
            tokenizer,
            reward,
            task,
            optimizer,
            critic,
            cursor: 0,
            run,
            kl,
            checkpoints,
            stop: None,
            resume,
            config_sha256,
        })
    }

    pub fn run_dir(&self) -> &std::path::Path {
        &self.run.path
    }

    fn sampler(&self) -> Sampler<'_> {
        Sampler { max_batch: self.config.model.generation_batch, ..Sampler::new(&self.policy, &self.tokenizer) }
    }

    pub fn evaluate(&self, label: &str) -> Result<EvalResult, TrainError> {
        let result = evaluate(
            &self.sampler(),
            &self.tokenizer,
            self.reward.as_ref(),
            self.task.as_ref(),
            self.config.data.system_prompt.as_deref(),
            self.config.eval.held_out,
            self.config.eval.max_new_tokens,
        )?;
        self.run
            .write_jsonl(&format!("eval_{label}.jsonl"), &result.samples)?;
        Ok(result)
    }

    /// Runs the whole recipe: evaluation, `steps` GRPO steps, evaluation, final checkpoint. A resumed
    /// run skips the first evaluation and the steps already done.
    pub fn train(mut self) -> Result<TrainSummary, TrainError> {
        let total_start = Instant::now();
        let (first_step, before, train_seconds_before) = match self.resume.take() {
            Some(r) => (r.state.step + 1, r.state.before, r.state.train_seconds),
            None => {
                let before = self.evaluate("before")?;
                eprintln!(
                    "held-out accuracy before: {:.1}% ({} problems, {:.0} s)",
                    100.0 * before.accuracy,
                    before.problems,
                    before.seconds
                );
                (1, before, 0.0)
            }
        };
        let steps = self.config.algorithm.steps;
        let bar = ProgressBar::new(steps as u64);
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] step {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_position(first_step as u64 - 1);
        let train_start = Instant::now();
        for step in first_step..=steps {
            let mut metrics = self.step(step)?;
            let every = self.config.eval.every;
            if every > 0 && step % every == 0 && step < steps {
                metrics.eval_accuracy = Some(self.evaluate(&format!("step{step}"))?.accuracy);
            }
            self.run.log_metrics(&metrics)?;
            // The step's freed blocks go back to the kernel rather than piling up holes in the heap.
            rlxf_model::host_memory::release_free_memory();
            let line = format!(
                "reward {:.3} acc {:.3} kl {:.4} len {:.0} tok/s {:.0}",
                metrics.reward_mean,
                metrics.accuracy,
                metrics.kl,
                metrics.completion_tokens_mean,
                metrics.generated_tokens_per_second
            );
            if bar.is_hidden() {
                eprintln!("step {step}/{steps} {line} ({:.0} s)", metrics.step_seconds);
            }
            bar.inc(1);
            bar.set_message(line);
            let train_seconds = train_seconds_before + train_start.elapsed().as_secs_f64();
            let interrupted = self.stop.as_ref().is_some_and(|f| f.load(Ordering::SeqCst));
            let every = self.config.checkpoint.every;
            if interrupted || (every > 0 && step % every == 0 && step < steps) {
                let checkpoint = self.save_checkpoint(step, &before, train_seconds)?;
                if interrupted {
                    bar.abandon();
                    return Err(TrainError::Interrupted {
                        step,
                        checkpoint,
                        run_dir: self.run.path.clone(),
                    });
                }
            }
        }
        bar.finish();
        let train_seconds = train_seconds_before + train_start.elapsed().as_secs_f64();
        let after = self.evaluate("after")?;
        eprintln!(
            "held-out accuracy after: {:.1}% (before {:.1}%, {:+.1} points; training {:.0} s)",
            100.0 * after.accuracy,
            100.0 * before.accuracy,
            100.0 * (after.accuracy - before.accuracy),
            train_seconds
        );
        let save_kind = self
            .config
            .model
            .save_dtype
            .parse::<DType>()
            .map_err(TrainError::Other)?
            .kind();
        self.policy.save(&self.run.path.join("final"), save_kind)?;
        let summary = TrainSummary {
            run_dir: self.run.path.display().to_string(),
            before,
            after,
            steps,
            train_seconds,
            total_seconds: total_start.elapsed().as_secs_f64(),
        };
        self.run.write_json("summary.json", &summary)?;
        Ok(summary)
    }

    /// Policy in its training dtype (so reloading is exact), optimizer state and trainer state.
    fn save_checkpoint(
        &self,
        step: usize,
        before: &EvalResult,
        train_seconds: f64,
    ) -> Result<PathBuf, TrainError> {
        let state = TrainerState {
            step,
            seed: self.config.seed,
            data_cursor: self.cursor,
            config_sha256: self.config_sha256.clone(),
            metrics_lines: self.run.metrics_lines,
            samples_lines: self.run.samples_lines,
            train_seconds,
            before: before.clone(),
            kl_coef: self.kl.value(),
        };
        let path = self.checkpoints.save(&state, |dir| {
            self.policy.save(&dir.join("policy"), self.policy.kind())?;
            if let Some(critic) = &self.critic {
                critic.save(dir)?;
            }
            self.optimizer.save(dir)
        })?;
        tracing::info!(checkpoint = %path.display(), step, "checkpoint written");
        Ok(path)
    }

    fn learning_rate(&self, step: usize) -> f64 {
        let o = &self.config.optimizer;
        learning_rate(o.schedule, o.lr, o.warmup_steps, step, self.config.algorithm.steps)
    }

    /// Seed of sample `g` of training problem `problem`: distinct per sample, fixed by the run seed.
    fn sample_seed(&self, problem: u64, g: usize) -> u64 {
        let a = &self.config.algorithm;
        let index = (problem + a.prompts_per_step as u64) * a.group_size as u64 + g as u64;
        splitmix64(self.config.seed ^ splitmix64(index))
    }

    /// The next `prompts_per_step` training problems, sampled and scored.
    fn sample_round(&mut self) -> Result<Vec<ScoredGroup>, TrainError> {
        let a = &self.config.algorithm;
        let first = self.cursor;
        let prompts = (0..a.prompts_per_step as u64)
            .map(|i| {
                prepare(
                    self.task.problem(Split::Train, first + i),
                    &self.tokenizer,
                    self.config.data.system_prompt.as_deref(),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.cursor += a.prompts_per_step as u64;
        sample_and_score(
            &self.sampler(),
            self.reward.as_ref(),
            prompts,
            a.group_size,
            &self.config.sampling,
            |p, g| self.sample_seed(first + p as u64, g),
        )
    }

    fn step(&mut self, step: usize) -> Result<StepMetrics, TrainError> {
        let step_start = Instant::now();
        let a = self.config.algorithm.clone();
        let gen_start = Instant::now();
        let max_rounds = a.dynamic_sampling.then_some(a.max_sampling_rounds);
        let collected = collect_groups(a.prompts_per_step, a.group_size, max_rounds, || {
            self.sample_round()
        })?;
        let groups = &collected.groups;
        let greedy = if algorithm::needs_greedy_baseline(&a) {
            let s = &self.config.sampling;
            Some(greedy_rewards(
                &self.sampler(),
                self.reward.as_ref(),
                groups,
                s.max_new_tokens,
                &s.stop,
            )?)
        } else {
            None
        };
        let generation_seconds = gen_start.elapsed().as_secs_f64() - collected.scoring_seconds;
        self.run.log_samples(&best_and_worst(step, groups))?;
        let train_start = Instant::now();
        let pairs: Vec<(&[u32], &[u32])> = groups
            .iter()
            .flat_map(|g| {
                g.completions
                    .iter()
                    .map(move |c| (g.prompt.ids.as_slice(), c.token_ids.as_slice()))
            })
            .collect();
        let estimates = rollout_estimates(
            &self.policy,
            self.reference.as_ref(),
            self.critic.as_ref(),
            &pairs,
            &EstimateSettings {
                kl: a.kl_in_reward.then_some(a.kl_estimator),
                micro_batch_size: self.config.optimizer.micro_batch_size,
                temperature: self.config.sampling.temperature,
                pad_id: self.tokenizer.pad_id(),
            },
        );
        let rewards: Vec<f64> = groups
            .iter()
            .flat_map(|g| g.scores.iter().map(|s| s.value))
            .collect();
        let lengths: Vec<usize> = pairs.iter().map(|(_, c)| c.len().max(1)).collect();
        let rollout = RolloutRewards {
            rewards: &rewards,
            lengths: &lengths,
            greedy_rewards: greedy.as_deref(),
            token_kl: estimates.token_kl.as_deref(),
            values: estimates.values.as_deref(),
        };
        let advantages = if groups.is_empty() {
            Advantages::PerSequence(Vec::new())
        } else {
            algorithm::advantages(&a, &rollout)
                .map_err(|e| TrainError::Other(format!("advantages: {e}")))?
                .0
        };
        let value_targets = match (&advantages, &estimates.values) {
            (
                Advantages::PerToken {
                    returns: Some(returns),
                    ..
                },
                Some(values),
            ) => Some((returns.as_slice(), values.as_slice())),
            _ => None,
        };
        let samples = flatten(groups, &advantages, value_targets);
        let lr = self.learning_rate(step);
        self.optimizer.set_lr(lr);
        let mut last = UpdateStats::default();
        let mut sampler_gap = SamplerGap::default();
        if !samples.is_empty() {
            for iteration in 0..a.num_iterations {
                last = self.update(&samples, iteration == 0)?;
                if iteration == 0 {
                    sampler_gap = last.sampler_gap;
                }
            }
        }
        let n = collected.sampled().max(1) as f64;
        let kl = if last.surrogate.tokens > 0.0 {
            last.surrogate.kl_sum / last.surrogate.tokens
        } else {
            0.0
        };
        if self.reference.is_some() && !samples.is_empty() {
            self.kl
                .update(kl, samples.len())
                .map_err(|e| TrainError::Other(format!("KL controller: {e}")))?;
        }
        let device_memory = device_memory::stats(self.policy.device());
        Ok(StepMetrics {
            step,
            reward_mean: collected.sampled_rewards.iter().sum::<f64>() / n,
            accuracy: collected.sampled_correct as f64 / n,
            informative_groups: collected.informative_fraction,
            loss: last.loss,
            kl,
            entropy: last.entropy_mean,
            clip_fraction: if last.surrogate.tokens > 0.0 {
                last.surrogate.clipped_tokens / last.surrogate.tokens
            } else {
                0.0
            },
            grad_norm: last.grad_norm,
            lr,
            sampler_logprob_gap_mean: sampler_gap.mean(),
            sampler_logprob_gap_max: sampler_gap.max,
            sampling_rounds: collected.rounds,
            trained_groups: groups.len(),
            value_loss: last.value_loss,
            greedy_reward_mean: greedy
                .as_ref()
                .map(|g| g.iter().sum::<f64>() / g.len().max(1) as f64),
            completion_tokens_mean: collected.sampled_tokens as f64 / n,
            truncated_fraction: collected.sampled_truncated as f64 / n,
            generation_seconds,
            scoring_seconds: collected.scoring_seconds,
            training_seconds: train_start.elapsed().as_secs_f64(),
            step_seconds: step_start.elapsed().as_secs_f64(),
            generated_tokens_per_second: collected.sampled_tokens as f64
                / generation_seconds.max(1e-9),
            peak_rss_mb: runtime::peak_rss_mb(),
            cuda_max_allocated_mb: device_memory.map(|m| m.peak_allocated_mb()),
            cuda_max_reserved_mb: device_memory.map(|m| m.peak_reserved_mb()),
            eval_accuracy: None,
        })
    }

    /// One optimizer step over all samples, accumulating gradients over micro-batches. `first_pass`:
    /// the weights are still the sampler's, so the sampler/trainer log-prob gap is measured.
    fn update(&mut self, samples: &[TrainSample<'_>], first_pass: bool) -> Result<UpdateStats, TrainError> {
        let a = &self.config.algorithm;
        let settings = UpdateSettings {
            loss: algorithm::policy_loss(a, self.kl.value()),
            max_completion_len: self.config.sampling.max_new_tokens,
            micro_batch_size: self.config.optimizer.micro_batch_size,
            temperature: self.config.sampling.temperature,
            pad_id: self.tokenizer.pad_id(),
            old_from_sampler: a.num_iterations > 1,
            mask_truncated: a.mask_truncated,
            measure_sampler_gap: first_pass,
            activations: if self.config.model.gradient_checkpointing {
                Activations::Recomputed
            } else {
                Activations::Kept
            },
        };
        let max_norm = self.config.optimizer.max_grad_norm;
        self.optimizer.zero_grad();
        if let Some(critic) = self.critic.as_mut() {
            critic.zero_grad();
        }
        let mut stats = accumulate_policy_gradients(
            &self.policy,
            self.reference.as_ref(),
            self.critic.as_ref(),
            samples,
            &settings,
        );
        stats.grad_norm = clip_grad_norm(&self.policy.vs, max_norm);
        self.optimizer.step()?;
        self.optimizer.zero_grad();
        if let Some(critic) = self.critic.as_mut() {
            stats.critic_grad_norm = Some(critic.step(max_norm)?);
            critic.zero_grad();
        }
        Ok(stats)
    }
}

/// Mixes a 64-bit value (SplitMix64 finaliser): seeds derived from nearby integers become unrelated.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}
