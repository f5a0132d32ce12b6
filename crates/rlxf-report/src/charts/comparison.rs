//! Several runs on one chart per metric (smoothed), for comparing algorithms or settings that
//! share a task and a budget.

use std::path::{Path, PathBuf};

use plotters::style::RGBColor;

use super::line_chart::{draw, LineChart, Series};
use super::{debiased_ema, held_out_points, DEFAULT_EMA_WEIGHT};
use crate::error::ReportError;
use crate::run_folder::RunRecord;

/// Distinguishable colours (Tableau 10), cycled when there are more runs.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The metrics compared, with chart titles and file stems.
const COMPARED: [(&str, &str, &str, bool); 5] = [
    ("reward_mean", "reward", "Mean reward (EMA)", false),
    ("accuracy", "accuracy", "Training accuracy (EMA)", true),
    ("kl", "kl", "KL to the starting policy (EMA)", false),
    ("entropy", "entropy", "Entropy per token (EMA)", false),
    ("completion_tokens_mean", "length", "Completion length, tokens (EMA)", false),
];

/// Writes `<out>/compare_<metric>.png` for each compared metric some run has, plus the held-out
/// accuracy chart; `labels[i]` names `runs[i]` in the legends.
pub fn write_comparison_charts(runs: &[RunRecord], labels: &[String], out: &Path) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(out).map_err(|e| ReportError::write(out, e))?;
    let mut written = Vec::new();
    let color = |i: usize| PALETTE[i % PALETTE.len()];
    for (key, file, title, unit_interval) in COMPARED {
        let series: Vec<Series> = runs
            .iter()
            .zip(labels)
            .enumerate()
            .filter_map(|(i, (run, label))| {
                let raw = run.series(key);
                if raw.is_empty() {
                    return None;
                }
                let values: Vec<f64> = raw.iter().map(|p| p.1).collect();
                let smooth = debiased_ema(&values, DEFAULT_EMA_WEIGHT);
                Some(Series {
                    label: label.clone(),
                    points: raw.iter().zip(smooth).map(|(&(x, _), y)| (x, y)).collect(),
                    color: color(i),
                    stroke_width: 2,
                    markers: false,
                    value_labels: false,
                })
            })
            .collect();
        if series.is_empty() {
            continue;
        }
        let path = out.join(format!("compare_{file}.png"));
        draw(&LineChart { title: title.to_string(), y_label: key.to_string(), unit_interval, series }, &path)?;
        written.push(path);
    }
    let held_out: Vec<Series> = runs
        .iter()
        .zip(labels)
        .enumerate()
        .filter_map(|(i, (run, label))| {
            let points = held_out_points(run);
            (!points.is_empty()).then(|| Series {
                label: label.clone(),
                points,
                color: color(i),
                stroke_width: 2,
                markers: true,
                value_labels: false,
            })
        })
        .collect();
    if !held_out.is_empty() {
        let path = out.join("compare_held_out.png");
        draw(&LineChart { title: "Held-out accuracy".into(), y_label: "accuracy".into(), unit_interval: true, series: held_out }, &path)?;
        written.push(path);
    }
    Ok(written)
}
