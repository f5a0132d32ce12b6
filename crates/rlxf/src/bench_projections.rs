//! `rlxf bench projections`: the projections of one decoding step, timed in one process with
//! libtorch's `linear` (MKL) and with rlxf's few-rows kernel (`rlxf_model::few_rows_linear`), on the
//! same inputs. Each shape gets as many distinct weights as the model has layers, so the weights
//! stream from memory as they do in a decoding step instead of sitting in cache.

use std::time::Instant;

use anyhow::{bail, Result};
use clap::Args;
use rlxf_model::{few_rows_linear, runtime};
use tch::{Device, Kind, Tensor};

#[derive(Args)]
pub struct ProjectionsArgs {
    /// Rows per product (the batch of a decoding step).
    #[arg(long, default_value_t = 32)]
    rows: i64,
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Timed rounds per shape and engine; the best is reported.
    #[arg(long, default_value_t = 7)]
    repeats: usize,
}

/// One projection shape of SmolLM2-135M-Instruct's decoding step.
struct Shape {
    name: &'static str,
    inputs: i64,
    outputs: i64,
    /// Distinct weights: one per layer (30), or one for the vocabulary projection.
    weights: usize,
    /// Products of this shape per layer (q and o share a shape, as do k and v, gate and up).
    per_weight: usize,
}

const SHAPES: [Shape; 5] = [
    Shape { name: "q_proj, o_proj", inputs: 576, outputs: 576, weights: 30, per_weight: 2 },
    Shape { name: "k_proj, v_proj", inputs: 576, outputs: 192, weights: 30, per_weight: 2 },
    Shape { name: "gate_proj, up_proj", inputs: 576, outputs: 1536, weights: 30, per_weight: 2 },
    Shape { name: "down_proj", inputs: 1536, outputs: 576, weights: 30, per_weight: 1 },
    Shape { name: "lm_head", inputs: 576, outputs: 49152, weights: 1, per_weight: 1 },
];

fn best_seconds(repeats: usize, mut f: impl FnMut()) -> f64 {
    f();
    (0..repeats)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

pub fn projections(args: ProjectionsArgs) -> Result<()> {
    if args.rows < 1 || args.rows > few_rows_linear::MAX_ROWS {
        bail!("--rows {} is outside 1..={}, the rows the few-rows kernel takes", args.rows, few_rows_linear::MAX_ROWS);
    }
    if !few_rows_linear::available() {
        bail!("the few-rows kernel cannot run here (needs x86-64 with AVX2 and FMA, and {} not set to mkl)", few_rows_linear::ENGINE_ENV);
    }
    let threads = runtime::set_threads(args.threads);
    let torch = runtime::check_torch_version()?;
    let _no_grad = tch::no_grad_guard();
    tch::manual_seed(0);
    println!("torch {torch}, {threads} threads, f32, {} rows, best of {}", args.rows, args.repeats);
    println!("| projection | [in, out] | libtorch linear | rlxf kernel | ratio | libtorch GFLOP/s | rlxf GFLOP/s |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    let (mut total_torch, mut total_rlxf, mut total_flops) = (0.0, 0.0, 0.0);
    for &Shape { name, inputs, outputs, weights: copies, per_weight } in &SHAPES {
        let x = Tensor::randn([args.rows, inputs], (Kind::Float, Device::Cpu));
        let weights: Vec<Tensor> =
            (0..copies).map(|_| Tensor::randn([outputs, inputs], (Kind::Float, Device::Cpu))).collect();
        let per_product = |seconds: f64| seconds / copies as f64;
        let torch_s = per_product(best_seconds(args.repeats, || {
            for w in &weights {
                let _ = x.linear(w, None::<&Tensor>);
            }
        }));
        let rlxf_s = per_product(best_seconds(args.repeats, || {
            for w in &weights {
                let _ = few_rows_linear::try_linear(&x, w, None).expect("checked available()");
            }
        }));
        let flops = 2.0 * (args.rows * inputs * outputs) as f64;
        let per_step = (per_weight * copies) as f64;
        total_torch += torch_s * per_step;
        total_rlxf += rlxf_s * per_step;
        total_flops += flops * per_step;
        println!(
            "| {name} | [{inputs}, {outputs}] | {:.1} us | {:.1} us | {:.2}x | {:.1} | {:.1} |",
            torch_s * 1e6,
            rlxf_s * 1e6,
            torch_s / rlxf_s,
            flops / torch_s / 1e9,
            flops / rlxf_s / 1e9
        );
    }
    println!(
        "| all of one step | | {:.1} ms | {:.1} ms | {:.2}x | {:.1} | {:.1} |",
        total_torch * 1e3,
        total_rlxf * 1e3,
        total_torch / total_rlxf,
        total_flops / total_torch / 1e9,
        total_flops / total_rlxf / 1e9
    );
    Ok(())
}
