//! PNG line charts of a run (`<run>/charts/*.png`): one per training metric present in
//! metrics.jsonl (raw series plus its debiased EMA), and the held-out accuracy before, during and
//! after training.

mod catalog;
pub mod comparison;
mod line_chart;
mod smoothing;

use std::path::{Path, PathBuf};

pub use catalog::{ChartSpec, HELD_OUT_CHART, TRAINING_CHARTS};
pub use line_chart::{HEIGHT, WIDTH};
pub use smoothing::{debiased_ema, DEFAULT_EMA_WEIGHT};

use crate::error::ReportError;
use crate::run_folder::RunRecord;
use line_chart::{draw, LineChart, Series, RAW_COLOR, SMOOTH_COLOR};

/// A chart written to disk.
#[derive(Debug, Clone, PartialEq)]
pub struct WrittenChart {
    pub title: String,
    pub path: PathBuf,
}

/// What [`render_charts`] did: the charts written, in report order, and the titles of those
/// skipped because the run has no such metric.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChartOutcome {
    pub written: Vec<WrittenChart>,
    pub skipped: Vec<String>,
}

/// Writes the charts of a run folder into `<run_dir>/charts/` and returns their paths.
pub fn write_charts(run_dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let outcome = render_charts(&RunRecord::load(run_dir)?)?;
    Ok(outcome.written.into_iter().map(|c| c.path).collect())
}

/// [`write_charts`] for an already loaded run, also telling which charts were skipped.
pub fn render_charts(run: &RunRecord) -> Result<ChartOutcome, ReportError> {
    let dir = run.path.join("charts");
    std::fs::create_dir_all(&dir).map_err(|e| ReportError::write(&dir, e))?;
    let mut outcome = ChartOutcome::default();
    let charts = TRAINING_CHARTS
        .iter()
        .map(|spec| (spec, training_chart(run, spec)));
    let charts = charts.chain(std::iter::once((&HELD_OUT_CHART, held_out_chart(run))));
    for (spec, chart) in charts {
        match chart {
            Some(chart) => {
                let path = dir.join(format!("{}.png", spec.file));
                draw(&chart, &path)?;
                outcome.written.push(WrittenChart {
                    title: spec.title.to_string(),
                    path,
                });
            }
            None => outcome
                .skipped
                .push(format!("{} ({})", spec.title, spec.key)),
        }
    }
    Ok(outcome)
}

fn training_chart(run: &RunRecord, spec: &ChartSpec) -> Option<LineChart> {
    let raw = run.series(spec.key);
    if raw.is_empty() {
        return None;
    }
    let values: Vec<f64> = raw.iter().map(|p| p.1).collect();
    let smoothed = debiased_ema(&values, DEFAULT_EMA_WEIGHT);
    let few = raw.len() <= 30;
    let series = vec![
        Series {
            label: spec.key.to_string(),
            points: raw.clone(),
            color: RAW_COLOR,
            stroke_width: 2,
            markers: few,
            value_labels: false,
        },
        Series {
            label: format!("EMA (weight {DEFAULT_EMA_WEIGHT})"),
            points: raw
                .iter()
                .zip(smoothed)
                .map(|(&(x, _), y)| (x, y))
                .collect(),
            color: SMOOTH_COLOR,
            stroke_width: 3,
            markers: false,
            value_labels: false,
        },
    ];
    Some(LineChart {
        title: spec.title.to_string(),
        y_label: spec.y_label.to_string(),
        unit_interval: spec.unit_interval,
        series,
    })
}

/// Points: before training at step 0, each periodic evaluation, after training at the last step
/// (unless a periodic evaluation already sits there).
pub(crate) fn held_out_points(run: &RunRecord) -> Vec<(f64, f64)> {
    let mut points = Vec::new();
    if let Some(summary) = &run.summary {
        points.push((0.0, summary.before.accuracy));
    }
    points.extend(run.series(HELD_OUT_CHART.key));
    if let Some(summary) = &run.summary {
        let last = summary.steps as f64;
        if !points.iter().any(|p| p.0 == last) {
            points.push((last, summary.after.accuracy));
        }
    }
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points
}

fn held_out_chart(run: &RunRecord) -> Option<LineChart> {
    let points = held_out_points(run);
    if points.is_empty() {
        return None;
    }
    let series = vec![Series {
        label: "held-out accuracy".into(),
        points,
        color: SMOOTH_COLOR,
        stroke_width: 3,
        markers: true,
        value_labels: true,
    }];
    Some(LineChart {
        title: HELD_OUT_CHART.title.to_string(),
        y_label: HELD_OUT_CHART.y_label.to_string(),
        unit_interval: true,
        series,
    })
}

#[cfg(test)]
mod tests;
