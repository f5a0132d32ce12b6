//! The learning rate of each optimizer step: linear warm-up, then constant or decaying to zero at the
//! last step (Hugging Face's `get_linear_schedule_with_warmup` / `get_cosine_schedule_with_warmup`,
//! the schedules TRL's trainers default to).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LrSchedule {
    #[default]
    Constant,
    Linear,
    Cosine,
}

/// Learning rate of `step` (1-based) of `total_steps`: `lr * step / warmup` during warm-up, then the
/// schedule's factor of the progress after warm-up, `(step - warmup - 1) / (total - warmup)`.
pub fn learning_rate(
    schedule: LrSchedule,
    lr: f64,
    warmup_steps: usize,
    step: usize,
    total_steps: usize,
) -> f64 {
    if warmup_steps > 0 && step <= warmup_steps {
        return lr * step as f64 / warmup_steps as f64;
    }
    let decay_steps = total_steps.saturating_sub(warmup_steps);
    if decay_steps == 0 {
        return lr;
    }
    // Hugging Face counts steps from 0, so its first update after warm-up uses the full rate: step
    // `warmup + 1` here is its step `warmup`.
    let progress = (step.saturating_sub(warmup_steps + 1)) as f64 / decay_steps as f64;
    match schedule {
        LrSchedule::Constant => lr,
        LrSchedule::Linear => lr * (1.0 - progress).max(0.0),
        LrSchedule::Cosine => lr * 0.5 * (1.0 + (std::f64::consts::PI * progress.min(1.0)).cos()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_up_then_each_schedule() {
        let lr = |s, step| learning_rate(s, 1.0, 2, step, 12);
        for s in [LrSchedule::Constant, LrSchedule::Linear, LrSchedule::Cosine] {
            assert_eq!(lr(s, 1), 0.5);
            assert_eq!(lr(s, 2), 1.0);
            assert_eq!(lr(s, 3), 1.0);
        }
        assert_eq!(lr(LrSchedule::Constant, 12), 1.0);
        // 10 decay steps: step 8 is 5 steps into them.
        assert!((lr(LrSchedule::Linear, 8) - 0.5).abs() < 1e-12);
        assert!((lr(LrSchedule::Cosine, 8) - 0.5).abs() < 1e-12);
        assert!((lr(LrSchedule::Linear, 12) - 0.1).abs() < 1e-12);
        let last_cosine = 0.5 * (1.0 + (std::f64::consts::PI * 0.9).cos());
        assert!((lr(LrSchedule::Cosine, 12) - last_cosine).abs() < 1e-12);
    }

    #[test]
    fn matches_hugging_face_linear_schedule_with_warmup() {
        // transformers.get_linear_schedule_with_warmup(opt, num_warmup_steps=3, num_training_steps=10),
        // the rate used by updates 1..=10 (scheduler.step() after each), lr 1.
        let hf = [0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0, 6.0 / 7.0, 5.0 / 7.0, 4.0 / 7.0, 3.0 / 7.0, 2.0 / 7.0, 1.0 / 7.0];
        // Hugging Face's first update runs at rate 0 (warm-up counted from step 0); ours at
        // 1/warmup, one step ahead during warm-up and equal from the first update after it.
        for (i, expected) in hf.iter().enumerate().skip(3) {
            let got = learning_rate(LrSchedule::Linear, 1.0, 3, i + 1, 10);
            assert!((got - expected).abs() < 1e-12, "update {}: {got} vs {expected}", i + 1);
        }
    }

    #[test]
    fn no_warm_up_and_degenerate_lengths() {
        assert_eq!(learning_rate(LrSchedule::Linear, 2.0, 0, 1, 4), 2.0);
        assert!((learning_rate(LrSchedule::Linear, 2.0, 0, 4, 4) - 0.5).abs() < 1e-12);
        assert_eq!(learning_rate(LrSchedule::Cosine, 2.0, 5, 5, 5), 2.0);
        assert_eq!(learning_rate(LrSchedule::Linear, 2.0, 0, 1, 1), 2.0);
    }
}
