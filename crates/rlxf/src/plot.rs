//! `rlxf plot RUN_DIR`: charts, report.html and TensorBoard events from a run folder; `rlxf compare
//! RUN_DIR...`: a Markdown table and overlay charts of several runs.

use std::path::{Path, PathBuf};

use anyhow::Result;

pub fn plot(run_dir: &Path) -> Result<()> {
    let outputs = rlxf_report::plot_run(run_dir)?;
    println!("{outputs}");
    Ok(())
}

pub fn compare(run_dirs: &[PathBuf], out: &Path) -> Result<()> {
    let comparison = rlxf_report::comparison::compare_runs(run_dirs, out)?;
    print!("{}", rlxf_report::comparison::markdown_table(&comparison.rows));
    for chart in &comparison.charts {
        eprintln!("chart: {}", chart.display());
    }
    Ok(())
}
