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

/// SmolLM2-135M-Instruct: (name, inputs, outputs, copies per decoding step).
const SHAPES: [(&str, i64, i64, usize); 5] = [
    ("q_proj, o_proj", 576, 576, 30),
    ("k_proj, v_proj", 576, 192, 30),
    ("gate_proj, up_proj", 576, 1536, 30),
    ("down_proj", 1536, 576, 30),
    ("lm_head", 576, 49152, 1),
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
    for &(name, inputs, outputs, copies) in &SHAPES {
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
        // q/o and k/v and gate/up appear twice per layer.
        let per_step = if name.contains(',') { 2.0 } else { 1.0 } * copies as f64;
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
