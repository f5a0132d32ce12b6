//! Compute settings: device, dtype, CPU threads, and the libtorch version check done at start-up.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tch::{Device, Kind};

use crate::error::{ModelError, Result};

/// Whether the A/B switch `env` (an `RLXF_*` variable) is set to `value`, in any case: each
/// hand-written path has one that puts libtorch's or the composed path back, for benchmarks.
pub fn switched_to(env: &str, value: &str) -> bool {
    std::env::var(env).is_ok_and(|v| v.eq_ignore_ascii_case(value))
}

/// Whether autograd must record an operation on `tensors`: grad mode is on and one of them
/// requires a gradient. The hand-written CPU kernels have no backward, so they step aside then.
pub fn grad_needed<'a>(tensors: impl IntoIterator<Item = &'a tch::Tensor>) -> bool {
    // SAFETY: sets the thread-local grad mode and immediately restores the value it reports.
    let grad_mode = unsafe {
        let previous = torch_sys::at_grad_set_enabled(0);
        torch_sys::at_grad_set_enabled(previous);
        previous != 0
    };
    grad_mode && tensors.into_iter().any(tch::Tensor::requires_grad)
}

/// The libtorch version this binary was built against (tch 0.24).
pub const EXPECTED_TORCH_VERSION: &str = "2.11.0";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    F32,
    Bf16,
}

impl DType {
    pub fn kind(self) -> Kind {
        match self {
            Self::F32 => Kind::Float,
            Self::Bf16 => Kind::BFloat16,
        }
    }
}

impl FromStr for DType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "f32" | "float32" => Ok(Self::F32),
            "bf16" | "bfloat16" => Ok(Self::Bf16),
            other => Err(format!("unknown dtype `{other}` (use f32 or bf16)")),
        }
    }
}

/// Reads a recipe's `model.autocast` against its `model.dtype`: `Some("bf16")` asks for bf16 mixed
/// precision (see [`crate::autocast`]), which keeps f32 parameters; `None` computes in `dtype`.
pub fn parse_bf16_autocast(autocast: Option<&str>, dtype: DType) -> Result<bool, String> {
    match (autocast, dtype) {
        (None, _) => Ok(false),
        (Some("bf16" | "bfloat16"), DType::F32) => Ok(true),
        (Some("bf16" | "bfloat16"), DType::Bf16) => Err(
            "autocast = \"bf16\" keeps f32 parameters and computes in bf16: set dtype = \"f32\" with it (dtype = \"bf16\" alone is pure bf16)".into(),
        ),
        (Some(other), _) => Err(format!("unknown autocast `{other}` (use bf16, or leave it out to compute in the parameters' dtype)")),
    }
}

/// Parses `cpu`, `cuda` or `cuda:N` without touching the hardware (for validating recipes).
pub fn parse_device_name(s: &str) -> std::result::Result<Device, String> {
    match s {
        "cpu" => Ok(Device::Cpu),
        "cuda" => Ok(Device::Cuda(0)),
        other => other
            .strip_prefix("cuda:")
            .and_then(|n| n.parse().ok())
            .map(Device::Cuda)
            .ok_or_else(|| format!("unknown device `{other}` (use cpu, cuda or cuda:N)")),
    }
}

/// Parses a device name and checks that CUDA is really there when asked for.
pub fn parse_device(s: &str) -> Result<Device> {
    let device = parse_device_name(s).map_err(ModelError::Invalid)?;
    if let Device::Cuda(n) = device {
        if !tch::Cuda::is_available() {
            return Err(ModelError::Invalid(
                "device cuda requested but libtorch sees no CUDA device (is LD_LIBRARY_PATH pointing at a CUDA build of torch 2.11?)".into(),
            ));
        }
        let count = tch::Cuda::device_count() as usize;
        if n >= count {
            return Err(ModelError::Invalid(format!("device cuda:{n} requested but only {count} CUDA device(s) exist")));
        }
    }
    Ok(device)
}

/// Sets libtorch's intra-op thread count; 0 means all available cores.
/// Why explicit: OpenMP spinning on oversubscribed cores makes libtorch several times slower.
pub fn set_threads(threads: usize) -> usize {
    let n = if threads == 0 { std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) } else { threads };
    tch::set_num_threads(n as i32);
    n
}

/// Finds the libtorch the process actually loaded and checks its version, so a wrong
/// `LD_LIBRARY_PATH` fails at start-up with a clear message instead of crashing later.
pub fn check_torch_version() -> Result<String> {
    // Touch libtorch so it is mapped before we look.
    let _ = tch::get_num_threads();
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let Some(lib) = maps
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .find(|p| p.ends_with("/libtorch_cpu.so"))
        .map(std::path::PathBuf::from)
    else {
        return Ok(format!("{EXPECTED_TORCH_VERSION} (assumed: loaded libtorch not found in /proc/self/maps)"));
    };
    check_version_of(&lib)
}

/// Checks the version of the libtorch whose `libtorch_cpu.so` is at `lib`.
fn check_version_of(lib: &std::path::Path) -> Result<String> {
    let root = lib.parent().and_then(|p| p.parent()).map(|p| p.to_path_buf()).unwrap_or_default();
    let version = read_version(&root).ok_or_else(|| {
        ModelError::Invalid(format!("cannot read the version of the libtorch loaded from {}", lib.display()))
    })?;
    let base = version.split('+').next().unwrap_or(&version);
    if base != EXPECTED_TORCH_VERSION {
        return Err(ModelError::Invalid(format!(
            "libtorch {version} loaded from {}, but rlxf was built for {EXPECTED_TORCH_VERSION}: point LD_LIBRARY_PATH at a torch {EXPECTED_TORCH_VERSION} install (scripts/setup-venv.sh makes one)",
            lib.display()
        )));
    }
    Ok(version)
}

fn read_version(torch_root: &std::path::Path) -> Option<String> {
    // pip wheels: torch/version.py has `__version__ = '2.11.0+cu130'`; libtorch zips: build-version.
    if let Ok(text) = std::fs::read_to_string(torch_root.join("version.py")) {
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("__version__") {
                return rest.split(['\'', '"']).nth(1).map(str::to_owned);
            }
        }
    }
    std::fs::read_to_string(torch_root.join("build-version")).ok().map(|s| s.trim().to_string())
}

/// The process's peak resident set (VmHWM), in MiB; 0 where /proc is unavailable.
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok()))
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_torch(version_py: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("lib")).unwrap();
        std::fs::write(dir.path().join("version.py"), version_py).unwrap();
        let lib = dir.path().join("lib/libtorch_cpu.so");
        (dir, lib)
    }

    #[test]
    fn bf16_autocast_needs_f32_parameters() {
        assert_eq!(parse_bf16_autocast(None, DType::Bf16), Ok(false));
        assert_eq!(parse_bf16_autocast(Some("bf16"), DType::F32), Ok(true));
        assert!(parse_bf16_autocast(Some("bf16"), DType::Bf16).unwrap_err().contains("set dtype = \"f32\""));
        assert!(parse_bf16_autocast(Some("fp8"), DType::F32).unwrap_err().contains("unknown autocast `fp8`"));
    }

    #[test]
    fn accepts_2_11_with_any_build_suffix() {
        let (_d, lib) = fake_torch("__version__ = '2.11.0+cu130'\ngit_version = 'x'\n");
        assert_eq!(check_version_of(&lib).unwrap(), "2.11.0+cu130");
    }

    #[test]
    fn rejects_other_versions_with_the_fix() {
        let (_d, lib) = fake_torch("__version__ = '2.13.0+cpu'\n");
        let e = check_version_of(&lib).unwrap_err().to_string();
        assert!(e.contains("2.13.0+cpu") && e.contains("2.11.0") && e.contains("LD_LIBRARY_PATH"), "{e}");
    }

    #[test]
    fn the_loaded_libtorch_is_2_11() {
        assert!(check_torch_version().unwrap().starts_with("2.11.0"));
    }
}
