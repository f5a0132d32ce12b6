//! The offline preference loop: load and split the data, then epochs of shuffled batches of pairs
//! (or KTO examples) through the objective, AdamW steps with clipping, checkpoints, and held-out
//! preference accuracy and task accuracy before and after.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rlxf_data::TaskGenerator;
use rlxf_model::{runtime, ChatTokenizer, DType, LanguageModel, RewardModel, Sampler};
use rlxf_rewards::Reward;

use crate::checkpoint::{self as checksum, CheckpointStore, TrainerState};
use crate::config::{ConfigError, TrainConfig};
use crate::error::TrainError;
use crate::evaluation::{evaluate, EvalResult};
use crate::lr_schedule::learning_rate;
use crate::run_dir::RunDir;

use super::config::PreferenceSection;
use super::data::{
    load_data, EncodedExample, EncodedPair, Encoding, EncodingReport, PreferenceSet,
};
use super::objective::{
    example_micro_batch, pair_micro_batch, Learner, PreferenceObjective, Tally,
};
use super::optimization::{var_stores, Optimizers};
use super::report::{accuracy_of, means, PairAccuracy, PreferenceStepMetrics, PreferenceSummary};
use crate::policy_update::clip_joint_grad_norm;

/// Where the trained reward model goes in the run folder (and in checkpoints).
pub const REWARD_MODEL_DIR: &str = "reward_model";
const PAIRS_BEFORE: &str = "pairs_before.json";

pub struct PreferenceTrainer {
    config: TrainConfig,
    section: PreferenceSection,
    objective: PreferenceObjective,
    learner: Learner,
    optimizers: Optimizers,
    tokenizer: ChatTokenizer,
    reward: Box<dyn Reward>,
    task: Box<dyn TaskGenerator>,
    run: RunDir,
    checkpoints: CheckpointStore,
    train: PreferenceSet,
    held_out: PreferenceSet,
    skipped_lines: usize,
    encoding: EncodingReport,
    stop: Option<Arc<AtomicBool>>,
    resume: Option<TrainerState>,
    config_sha256: String,
}

impl PreferenceTrainer {
    /// Loads the data, reward and task (first: a bad file fails before any model is loaded or run
    /// folder created), then creates the run folder and loads the models and the optimizer.
    pub fn new(config: TrainConfig) -> Result<Self, TrainError> {
        Self::build(config, None, None)
    }

    /// Continues a preference run from its newest intact checkpoint (see `Trainer::resume`).
    pub fn resume(run_dir: &Path, overrides: &[String]) -> Result<Self, TrainError> {
        let (config, checkpoint, run) = checksum::open_for_resume(run_dir, overrides)?;
        let mut trainer = Self::build(
            config,
            Some(run),
            Some((checkpoint.path.clone(), checkpoint.state.clone())),
        )?;
        trainer.optimizers.load(&checkpoint.path)?;
        eprintln!(
            "resuming {} from step {} ({})",
            run_dir.display(),
            checkpoint.state.step,
            checkpoint.path.display()
        );
        Ok(trainer)
    }

    /// Checked after every step: when set, the trainer checkpoints and returns [`TrainError::Interrupted`].
    pub fn with_stop_flag(mut self, flag: Arc<AtomicBool>) -> Self {
        self.stop = Some(flag);
        self
    }

    pub fn run_dir(&self) -> &Path {
        &self.run.path
    }

    /// `run` is the resumed run's folder; a new run's folder is created once the inputs are loaded.
    fn build(
        config: TrainConfig,
        run: Option<RunDir>,
        resume: Option<(PathBuf, TrainerState)>,
    ) -> Result<Self, TrainError> {
        let name = config.algorithm.name.clone();
        let section = config.preference.clone().ok_or_else(|| {
            ConfigError::Invalid(format!(
                "algorithm.name = \"{name}\" needs a [preference] section"
            ))
        })?;
        let objective = PreferenceObjective::from_recipe(&name, &section).ok_or_else(|| {
            ConfigError::Invalid(format!(
                "algorithm.name = `{name}` is not a preference objective"
            ))
        })?;
        let threads = runtime::set_threads(config.model.threads);
        let torch_version = runtime::check_torch_version()?;
        let device = runtime::parse_device(&config.model.device)?;
        let kind = config
            .model
            .dtype
            .parse::<DType>()
            .map_err(TrainError::Other)?;
        let bf16_autocast = config.model.bf16_autocast(kind)?;
        let stochastic_rounding = config.model.stochastic_autocast_rounding(kind)?;
        let kind = kind.kind();
        tch::manual_seed(config.seed as i64);
        let model_config =
            rlxf_model::ModelConfig::from_file(&config.model.path.join("config.json"))?;
        let tokenizer = ChatTokenizer::from_dir(&config.model.path, &model_config.eos_token_ids)?;
        let encoding = Encoding {
            tokenizer: &tokenizer,
            default_system: config.data.system_prompt.as_deref(),
            end_of_turn: objective != PreferenceObjective::BradleyTerry,
            max_length: section.max_length,
        };
        let (train, held_out, skipped_lines, report) = load_data(&section, &objective, &encoding)?;
        let crate::run_inputs::RunInputs { reward, task } =
            crate::run_inputs::RunInputs::build(&config)?;
        let run = match run {
            Some(run) => run,
            None => RunDir::create(config.run_dir.as_deref(), &config.to_toml())?,
        };
        let start = resume.as_ref().map(|(path, _)| path);
        let learner = if objective == PreferenceObjective::BradleyTerry {
            let mut reward_model = match start {
                Some(path) => RewardModel::load(&path.join(REWARD_MODEL_DIR), device, kind)?,
                None => RewardModel::from_causal_lm(&config.model.path, device, kind, config.seed)?,
            };
            reward_model.trunk.set_bf16_autocast(bf16_autocast)?;
            Learner::RewardModel(reward_model)
        } else {
            let policy_dir = start.map_or_else(|| config.model.path.clone(), |p| p.join("policy"));
            let mut policy = LanguageModel::load(&policy_dir, device, kind)?;
            policy.set_bf16_autocast(bf16_autocast)?;
            // The reference is the run's starting model, also when resuming from a checkpoint.
            let reference = if objective.needs_reference() {
                let path = config
                    .model
                    .reference_path
                    .as_ref()
                    .unwrap_or(&config.model.path);
                let mut r = LanguageModel::load(path, device, kind)?;
                r.set_bf16_autocast(bf16_autocast)?;
                r.freeze();
                Some(r)
            } else {
                None
            };
            Learner::Policy { policy, reference }
        };
        let optimizers = Optimizers::new(&learner, &config.optimizer, stochastic_rounding.then_some(config.seed))?;
        let config_sha256 = match &resume {
            Some((_, state)) => state.config_sha256.clone(),
            None => checksum::sha256_text(&config.to_toml()),
        };
        if resume.is_none() {
            crate::run_record::write_environment(
                &run,
                &config,
                &torch_version,
                threads,
                &config_sha256,
                serde_json::json!({
                    "data": section.data,
                    "data_sha256": checksum::sha256_file(&section.data)?,
                    "train_items": train.len(),
                    "held_out_items": held_out.len(),
                }),
            )?;
        }
        let checkpoints = CheckpointStore::new(&run.path, config.checkpoint.keep_last);
        Ok(Self {
            config,
            section,
            objective,
            learner,
            optimizers,
            tokenizer,
            reward,
            task,
            run,
            checkpoints,
            train,
            held_out,
            skipped_lines,
            encoding: report,
            stop: None,
            resume: resume.map(|(_, s)| s),
            config_sha256,
        })
    }

    fn steps_per_epoch(&self) -> usize {
        self.train.len().div_ceil(self.section.batch_pairs)
    }

    pub fn total_steps(&self) -> usize {
        self.section.epochs * self.steps_per_epoch()
    }

    /// Indices of the training items of `step` (1-based): a per-epoch shuffle fixed by the seed, so
    /// a resumed run sees the same batches.
    fn batch_of(&self, step: usize) -> (usize, Vec<usize>) {
        let per_epoch = self.steps_per_epoch();
        let epoch = (step - 1) / per_epoch;
        let mut order: Vec<usize> = (0..self.train.len()).collect();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(
            self.config.seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        order.shuffle(&mut rng);
        let start = ((step - 1) % per_epoch) * self.section.batch_pairs;
        let end = (start + self.section.batch_pairs).min(order.len());
        (epoch + 1, order[start..end].to_vec())
    }

    /// Runs `indices` of `set` through the objective in micro-batches; with `train`, accumulates the
    /// gradient of the batch mean loss.
    fn run_items(
        &self,
        set: &PreferenceSet,
        indices: &[usize],
        train: bool,
    ) -> Result<Tally, TrainError> {
        let pad = self.tokenizer.pad_id();
        let mut total = Tally::default();
        let n = indices.len() as f64;
        for chunk in indices.chunks(self.section.micro_batch_pairs) {
            let scale = train.then_some(chunk.len() as f64 / n);
            let tally = match (set, &self.objective) {
                (PreferenceSet::Pairs(pairs), objective) => {
                    let items: Vec<&EncodedPair> = chunk.iter().map(|&i| &pairs[i]).collect();
                    pair_micro_batch(&self.learner, objective, &items, pad, scale)?
                }
                (PreferenceSet::Examples(examples), PreferenceObjective::Kto(loss)) => {
                    let items: Vec<&EncodedExample> = chunk.iter().map(|&i| &examples[i]).collect();
                    example_micro_batch(&self.learner, loss, &items, pad, scale)?
                }
                (PreferenceSet::Examples(_), _) => {
                    return Err(TrainError::Other("labelled examples train kto only".into()))
                }
            };
            total.add(&tally);
        }
        Ok(total)
    }

    /// Preference accuracy on the held-out items (no gradient).
    pub fn evaluate_pairs(&self) -> Result<PairAccuracy, TrainError> {
        let indices: Vec<usize> = (0..self.held_out.len()).collect();
        let tally = tch::no_grad(|| self.run_items(&self.held_out, &indices, false))?;
        let policy_pairs =
            matches!(self.learner, Learner::Policy { .. }) && !self.objective.uses_examples();
        Ok(accuracy_of(
            &tally,
            self.objective.uses_examples(),
            policy_pairs,
        ))
    }

    /// Greedy held-out accuracy on the recipe's task, for policies (`None` for a reward model or
    /// with eval.held_out = 0).
    fn evaluate_task(&self, label: &str) -> Result<Option<EvalResult>, TrainError> {
        let Learner::Policy { policy, .. } = &self.learner else {
            return Ok(None);
        };
        if self.config.eval.held_out == 0 {
            return Ok(None);
        }
        let sampler = Sampler { max_batch: self.config.model.generation_batch, ..Sampler::new(policy, &self.tokenizer) };
        let result = evaluate(
            &sampler,
            &self.tokenizer,
            self.reward.as_ref(),
            self.task.as_ref(),
            self.config.data.system_prompt.as_deref(),
            self.config.eval.held_out,
            self.config.eval.max_new_tokens,
        )?;
        self.run
            .write_jsonl(&format!("eval_{label}.jsonl"), &result.samples)?;
        Ok(Some(result))
    }

    /// Evaluations, the steps, evaluations, the trained model. A resumed run skips the first
    /// evaluations and the steps already done.
    pub fn train(mut self) -> Result<PreferenceSummary, TrainError> {
        let total_start = Instant::now();
        let steps = self.total_steps();
        let (first_step, task_before, pairs_before, seconds_before) = match self.resume.take() {
            Some(state) => {
                let path = self.run.path.join(PAIRS_BEFORE);
                let text = std::fs::read_to_string(&path).map_err(|e| TrainError::io(&path, e))?;
                let pairs: PairAccuracy = serde_json::from_str(&text)
                    .map_err(|e| TrainError::Checkpoint(format!("{}: {e}", path.display())))?;
                let task = (state.before.problems > 0).then_some(state.before);
                (state.step + 1, task, pairs, state.train_seconds)
            }
            None => {
                let pairs = self.evaluate_pairs()?;
                self.run.write_json(PAIRS_BEFORE, &pairs)?;
                eprintln!(
                    "held-out preference accuracy before: {:.1}% ({} items)",
                    100.0 * pairs.accuracy,
                    pairs.items
                );
                let task = self.evaluate_task("before")?;
                if let Some(t) = &task {
                    eprintln!(
                        "held-out task accuracy before: {:.1}% ({} problems, {:.0} s)",
                        100.0 * t.accuracy,
                        t.problems,
                        t.seconds
                    );
                }
                (1, task, pairs, 0.0)
            }
        };
        let train_start = Instant::now();
        // Held-out evaluations between steps are not training time.
        let mut eval_seconds = 0.0;
        for step in first_step..=steps {
            let mut metrics = self.step(step)?;
            let eval_every = self.section.eval_every;
            if eval_every > 0 && step % eval_every == 0 && step < steps {
                let eval_start = Instant::now();
                let held_out = self.evaluate_pairs()?;
                eval_seconds += eval_start.elapsed().as_secs_f64();
                eprintln!(
                    "step {step}: held-out preference accuracy {:.1}% ({} items)",
                    100.0 * held_out.accuracy,
                    held_out.items
                );
                metrics.held_out_accuracy = Some(held_out.accuracy);
            }
            self.run.log_metrics(&metrics)?;
            // As in the GRPO trainer: the step's freed blocks go back to the kernel.
            rlxf_model::host_memory::release_free_memory();
            eprintln!(
                "step {step}/{steps} loss {:.4} acc {:.3} margin {:.3} grad {:.3} ({:.1} s)",
                metrics.loss,
                metrics.reward_accuracy,
                metrics.margin_mean,
                metrics.grad_norm,
                metrics.step_seconds
            );
            let train_seconds =
                seconds_before + train_start.elapsed().as_secs_f64() - eval_seconds;
            let interrupted = self.stop.as_ref().is_some_and(|f| f.load(Ordering::SeqCst));
            let every = self.config.checkpoint.every;
            if interrupted || (every > 0 && step % every == 0 && step < steps) {
                let checkpoint = self.save_checkpoint(step, task_before.as_ref(), train_seconds)?;
                if interrupted {
                    return Err(TrainError::Interrupted {
                        step,
                        checkpoint,
                        run_dir: self.run.path.clone(),
                    });
                }
            }
        }
        let train_seconds =
            seconds_before + train_start.elapsed().as_secs_f64() - eval_seconds;
        let pairs_after = self.evaluate_pairs()?;
        eprintln!(
            "held-out preference accuracy after: {:.1}% (before {:.1}%)",
            100.0 * pairs_after.accuracy,
            100.0 * pairs_before.accuracy
        );
        let task_after = self.evaluate_task("after")?;
        if let (Some(b), Some(a)) = (&task_before, &task_after) {
            eprintln!(
                "held-out task accuracy after: {:.1}% (before {:.1}%, {:+.1} points; training {:.0} s)",
                100.0 * a.accuracy,
                100.0 * b.accuracy,
                100.0 * (a.accuracy - b.accuracy),
                train_seconds
            );
        }
        let model_dir = self.save_final()?;
        let summary = PreferenceSummary {
            run_dir: self.run.path.display().to_string(),
            algorithm: self.config.algorithm.name.clone(),
            train_items: self.train.len(),
            held_out_items: self.held_out.len(),
            skipped_lines: self.skipped_lines,
            encoding: self.encoding,
            steps,
            pairs_before,
            pairs_after,
            task_before,
            task_after,
            model_dir: model_dir.display().to_string(),
            train_seconds,
            total_seconds: total_start.elapsed().as_secs_f64(),
        };
        self.run.write_json("summary.json", &summary)?;
        Ok(summary)
    }

    fn learning_rate(&self, step: usize) -> f64 {
        let o = &self.config.optimizer;
        learning_rate(o.schedule, o.lr, o.warmup_steps, step, self.total_steps())
    }

    fn step(&mut self, step: usize) -> Result<PreferenceStepMetrics, TrainError> {
        let start = Instant::now();
        let (epoch, indices) = self.batch_of(step);
        let lr = self.learning_rate(step);
        self.optimizers.set_lr(lr);
        self.optimizers.zero_grad();
        let tally = self.run_items(&self.train, &indices, true)?;
        let grad_norm = clip_joint_grad_norm(
            &var_stores(&self.learner),
            self.config.optimizer.max_grad_norm,
        );
        self.optimizers.step()?;
        self.optimizers.zero_grad();
        let kto = self.objective.uses_examples();
        let (loss, accuracy, chosen, rejected, margin) = means(&tally, kto);
        Ok(PreferenceStepMetrics {
            step,
            epoch,
            loss,
            reward_accuracy: accuracy,
            margin_mean: margin,
            chosen_reward: chosen,
            rejected_reward: rejected,
            grad_norm,
            lr,
            pairs: tally.items,
            kl_reference_point: kto.then(|| tally.z0_sum / tally.micro_batches.max(1) as f64),
            step_seconds: start.elapsed().as_secs_f64(),
            held_out_accuracy: None,
        })
    }

    fn save_kind(&self) -> Result<tch::Kind, TrainError> {
        Ok(self
            .config
            .model
            .save_dtype
            .parse::<DType>()
            .map_err(TrainError::Other)?
            .kind())
    }

    /// The policy as `final/` or the reward model as `reward_model/`, in `model.save_dtype`.
    fn save_final(&self) -> Result<PathBuf, TrainError> {
        let kind = self.save_kind()?;
        Ok(match &self.learner {
            Learner::Policy { policy, .. } => {
                let dir = self.run.path.join("final");
                policy.save(&dir, kind)?;
                dir
            }
            Learner::RewardModel(model) => {
                let dir = self.run.path.join(REWARD_MODEL_DIR);
                model.save(&dir, kind, self.tokenizer.pad_id())?;
                dir
            }
        })
    }

    /// The learner in its training dtype (exact reload), the optimizer moments and the step.
    fn save_checkpoint(
        &self,
        step: usize,
        task_before: Option<&EvalResult>,
        train_seconds: f64,
    ) -> Result<PathBuf, TrainError> {
        let state = TrainerState {
            step,
            seed: self.config.seed,
            data_cursor: (step * self.section.batch_pairs) as u64,
            config_sha256: self.config_sha256.clone(),
            metrics_lines: self.run.metrics_lines,
            samples_lines: self.run.samples_lines,
            train_seconds,
            before: task_before.cloned().unwrap_or(EvalResult {
                accuracy: 0.0,
                mean_reward: 0.0,
                mean_tokens: 0.0,
                problems: 0,
                seconds: 0.0,
                samples: Vec::new(),
            }),
            kl_coef: 0.0,
        };
        self.checkpoints.save(&state, |dir| {
            match &self.learner {
                Learner::Policy { policy, .. } => {
                    policy.save(&dir.join("policy"), policy.kind())?
                }
                Learner::RewardModel(model) => model.save(
                    &dir.join(REWARD_MODEL_DIR),
                    model.trunk.kind(),
                    self.tokenizer.pad_id(),
                )?,
            }
            self.optimizers.save(dir)
        })
    }
}
