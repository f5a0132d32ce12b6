//! A table (Markdown) and overlay charts comparing finished runs: held-out accuracy before and after,
//! and the end-of-run reward, KL, entropy and length, each averaged over the last steps so one noisy
//! step does not decide the row.

use std::path::{Path, PathBuf};

use crate::charts::comparison::write_comparison_charts;
use crate::error::ReportError;
use crate::number_format::percent;
use crate::run_folder::RunRecord;

/// Steps averaged for the "at the end" columns.
pub const END_WINDOW: usize = 3;

#[derive(Debug, Clone, PartialEq)]
pub struct ComparisonRow {
    pub label: String,
    pub before: Option<f64>,
    pub after: Option<f64>,
    pub reward_end: Option<f64>,
    pub kl_end: Option<f64>,
    pub entropy_end: Option<f64>,
    pub length_end: Option<f64>,
    pub train_seconds: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct Comparison {
    pub rows: Vec<ComparisonRow>,
    pub charts: Vec<PathBuf>,
}

/// The run's label: `algorithm.name` from its config.toml, else the folder name.
pub fn run_label(run: &RunRecord) -> String {
    let from_config = run.config.as_deref().and_then(|text| {
        let table: toml::Table = toml::from_str(text).ok()?;
        Some(table.get("algorithm")?.get("name")?.as_str()?.to_string())
    });
    from_config.unwrap_or_else(|| run.name())
}

fn end_mean(run: &RunRecord, key: &str) -> Option<f64> {
    let series = run.series(key);
    let tail = &series[series.len().saturating_sub(END_WINDOW)..];
    (!tail.is_empty()).then(|| tail.iter().map(|p| p.1).sum::<f64>() / tail.len() as f64)
}

pub fn comparison_row(run: &RunRecord, label: String) -> ComparisonRow {
    ComparisonRow {
        label,
        before: run.summary.as_ref().map(|s| s.before.accuracy),
        after: run.summary.as_ref().map(|s| s.after.accuracy),
        reward_end: end_mean(run, "reward_mean"),
        kl_end: end_mean(run, "kl"),
        entropy_end: end_mean(run, "entropy"),
        length_end: end_mean(run, "completion_tokens_mean"),
        train_seconds: run.summary.as_ref().map(|s| s.train_seconds),
    }
}

/// Loads each run folder, writes the overlay charts into `out`, and returns the rows.
pub fn compare_runs(dirs: &[PathBuf], out: &Path) -> Result<Comparison, ReportError> {
    let runs = dirs.iter().map(|d| RunRecord::load(d)).collect::<Result<Vec<_>, _>>()?;
    let labels: Vec<String> = runs.iter().map(run_label).collect();
    let rows = runs.iter().zip(&labels).map(|(r, l)| comparison_row(r, l.clone())).collect();
    let charts = write_comparison_charts(&runs, &labels, out)?;
    Ok(Comparison { rows, charts })
}

/// The rows as a Markdown table; missing values (an unfinished run) print as "-".
pub fn markdown_table(rows: &[ComparisonRow]) -> String {
    let dash = || "-".to_string();
    let pct = |v: Option<f64>| v.map(percent).unwrap_or_else(dash);
    let num = |v: Option<f64>, digits: usize| v.map(|x| format!("{x:.digits$}")).unwrap_or_else(dash);
    let mut out = format!(
        "| run | held-out before | held-out after | change | reward (last {END_WINDOW} steps) | KL (last {END_WINDOW}) | entropy (last {END_WINDOW}) | length (last {END_WINDOW}) | training time |\n"
    );
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in rows {
        let change = match (r.before, r.after) {
            (Some(b), Some(a)) => format!("{:+.1} pts", 100.0 * (a - b)),
            _ => dash(),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.label,
            pct(r.before),
            pct(r.after),
            change,
            num(r.reward_end, 3),
            num(r.kl_end, 4),
            num(r.entropy_end, 3),
            num(r.length_end, 1),
            r.train_seconds.map(|s| format!("{s:.0} s")).unwrap_or_else(dash),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_run(dir: &Path, name: &str, rewards: &[f64], before: f64, after: f64) -> PathBuf {
        let run = dir.join(name);
        std::fs::create_dir_all(&run).unwrap();
        let metrics: String = rewards
            .iter()
            .enumerate()
            .map(|(i, r)| format!("{{\"step\":{},\"reward_mean\":{r},\"kl\":0.01,\"entropy\":0.5}}\n", i + 1))
            .collect();
        std::fs::write(run.join("metrics.jsonl"), metrics).unwrap();
        let totals = |a: f64| format!("{{\"accuracy\":{a},\"mean_reward\":{a},\"mean_tokens\":10.0,\"problems\":100,\"seconds\":1.0}}");
        std::fs::write(
            run.join("summary.json"),
            format!("{{\"before\":{},\"after\":{},\"steps\":{},\"train_seconds\":42.0,\"total_seconds\":50.0}}", totals(before), totals(after), rewards.len()),
        )
        .unwrap();
        std::fs::write(run.join("config.toml"), format!("[algorithm]\nname = \"{name}\"\n")).unwrap();
        run
    }

    #[test]
    fn rows_average_the_last_steps_and_charts_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_run(dir.path(), "grpo", &[0.1, 0.2, 0.4, 0.6, 0.8], 0.2, 0.6);
        let b = write_run(dir.path(), "rloo", &[0.1, 0.1], 0.2, 0.25);
        let out = dir.path().join("cmp");
        let c = compare_runs(&[a, b], &out).unwrap();
        assert_eq!(c.rows[0].label, "grpo");
        assert!((c.rows[0].reward_end.unwrap() - 0.6).abs() < 1e-12);
        assert!((c.rows[1].reward_end.unwrap() - 0.1).abs() < 1e-12);
        let table = markdown_table(&c.rows);
        assert!(table.contains("| grpo | 20.0% | 60.0% | +40.0 pts | 0.600 | 0.0100 | 0.500 | - | 42 s |"), "{table}");
        assert!(c.charts.iter().any(|p| p.ends_with("compare_reward.png")));
        assert!(c.charts.iter().any(|p| p.ends_with("compare_held_out.png")));
        for p in &c.charts {
            assert!(std::fs::metadata(p).unwrap().len() > 1000, "{}", p.display());
        }
        assert!(compare_runs(&[dir.path().join("missing")], &out).is_err());
    }
}
