//! Observability of a training run folder (as `rlxf train` writes it): TensorBoard event files,
//! PNG charts and a self-contained `report.html`. Pure Rust; every entry point takes the run
//! folder's path, so the trainer can call them during or after a run and `rlxf plot` after it.

pub mod charts;
pub mod comparison;
mod error;
pub mod html_report;
mod number_format;
pub mod run_folder;
pub mod tensorboard;

#[cfg(test)]
mod synthetic_run;

use std::fmt;
use std::path::{Path, PathBuf};

pub use charts::{render_charts, write_charts, ChartOutcome, WrittenChart};
pub use error::ReportError;
pub use html_report::{render_report, write_report};
pub use run_folder::RunRecord;
pub use tensorboard::{write_run_metrics, EventWriter, LiveEvents};

/// Everything [`plot_run`] wrote.
#[derive(Debug, Clone)]
pub struct PlotOutputs {
    pub charts: ChartOutcome,
    pub report: PathBuf,
    pub events: PathBuf,
}

/// Charts, `report.html` and a TensorBoard event file for one run folder (what `rlxf plot` does).
pub fn plot_run(run_dir: &Path) -> Result<PlotOutputs, ReportError> {
    let run = RunRecord::load(run_dir)?;
    let charts = render_charts(&run)?;
    let report = html_report::write_report_for(&run, &charts)?;
    let events = tensorboard::write_events(&run)?;
    Ok(PlotOutputs {
        charts,
        report,
        events,
    })
}

impl fmt::Display for PlotOutputs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "report: {}", self.report.display())?;
        writeln!(f, "tensorboard events: {}", self.events.display())?;
        write!(f, "charts: {}", self.charts.written.len())?;
        if let Some(first) = self.charts.written.first() {
            write!(
                f,
                " in {}",
                first.path.parent().unwrap_or(Path::new(".")).display()
            )?;
        }
        if !self.charts.skipped.is_empty() {
            write!(f, "\nno data for: {}", self.charts.skipped.join(", "))?;
        }
        Ok(())
    }
}
