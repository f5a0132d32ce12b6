//! `rlxf bench projections`: the projections of one decoding step, timed in one process with
//! libtorch's `linear` (MKL in f32, oneDNN/MKL in bf16) and with each variant of rlxf's few-rows
//! kernel this CPU runs (`rlxf_model::few_rows_linear`: the f32 variants, or the bf16 one), on the
//! same inputs. The ratio is libtorch's time over the default variant's. Each shape gets as many distinct weights as the model has layers, so the weights
//! stream from memory as they do in a decoding step instead of sitting in cache.

use anyhow::{bail, Result};
use clap::Args;
use rlxf_model::few_rows_linear::{self, Isa};
use rlxf_model::runtime;
use tch::{Device, Kind, Tensor};

use crate::best_time::best_seconds;

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
    /// f32, or bf16 (inputs and weights in bf16, as a bf16 model or bf16 autocast decodes).
    #[arg(long, default_value = "f32")]
    dtype: String,
}

/// One kernel variant to time: its column name and the product it computes.
struct Variant {
    name: String,
    product: fn(&Tensor, &Tensor) -> Option<Tensor>,
}

fn f32_variant(isa: Isa) -> Variant {
    let product: fn(&Tensor, &Tensor) -> Option<Tensor> = match isa {
        Isa::Avx2 => |x, w| few_rows_linear::try_linear_on(Isa::Avx2, x, w, None),
        Isa::Avx512 => |x, w| few_rows_linear::try_linear_on(Isa::Avx512, x, w, None),
    };
    Variant { name: format!("{isa:?}"), product }
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

pub fn projections(args: ProjectionsArgs) -> Result<()> {
    if args.rows < 1 || args.rows > few_rows_linear::MAX_ROWS {
        bail!("--rows {} is outside 1..={}, the rows the few-rows kernel takes", args.rows, few_rows_linear::MAX_ROWS);
    }
    let (kind, variants, default_index) = match args.dtype.as_str() {
        "f32" => {
            let Some(default) = few_rows_linear::default_isa() else {
                bail!("the f32 few-rows kernel cannot run here (needs x86-64 with AVX2 and FMA, and {} not set to mkl)", few_rows_linear::ENGINE_ENV);
            };
            let isas: Vec<Isa> = Isa::ALL.into_iter().filter(|isa| isa.supported()).collect();
            let default_index = isas.iter().position(|&isa| isa == default).expect("the default variant is supported");
            (Kind::Float, isas.into_iter().map(f32_variant).collect::<Vec<_>>(), default_index)
        }
        "bf16" => {
            if !few_rows_linear::bf16_available() {
                bail!("the bf16 few-rows kernel cannot run here (needs x86-64 with AVX-512 BF16, and {} not set to mkl)", few_rows_linear::ENGINE_ENV);
            }
            let product: fn(&Tensor, &Tensor) -> Option<Tensor> = |x, w| few_rows_linear::try_linear_bf16(x, w, None);
            (Kind::BFloat16, vec![Variant { name: "Avx512Bf16".into(), product }], 0)
        }
        other => bail!("--dtype {other} is not one of f32, bf16"),
    };
    let threads = runtime::set_threads(args.threads);
    let torch = runtime::check_torch_version()?;
    let _no_grad = tch::no_grad_guard();
    tch::manual_seed(0);
    println!(
        "torch {torch}, {threads} threads, {}, {} rows, best of {}; default variant {}",
        args.dtype, args.rows, args.repeats, variants[default_index].name
    );
    let variant_columns: String = variants.iter().map(|v| format!(" rlxf {} |", v.name)).collect();
    println!("| projection | [in, out] | libtorch linear |{variant_columns} ratio | libtorch GFLOP/s | rlxf GFLOP/s |");
    println!("|---|---|---:|{}---:|---:|---:|", "---:|".repeat(variants.len()));
    let mut total_torch = 0.0;
    let mut total_variants = vec![0.0; variants.len()];
    let mut total_flops = 0.0;
    for &Shape { name, inputs, outputs, weights: copies, per_weight } in &SHAPES {
        let x = Tensor::randn([args.rows, inputs], (Kind::Float, Device::Cpu)).to_kind(kind);
        let weights: Vec<Tensor> =
            (0..copies).map(|_| Tensor::randn([outputs, inputs], (Kind::Float, Device::Cpu)).to_kind(kind)).collect();
        let per_product = |seconds: f64| seconds / copies as f64;
        let torch_s = per_product(best_seconds(args.repeats, || {
            for w in &weights {
                let _ = x.linear(w, None::<&Tensor>);
            }
        }));
        let variant_s: Vec<f64> = variants
            .iter()
            .map(|variant| {
                per_product(best_seconds(args.repeats, || {
                    for w in &weights {
                        let _ = (variant.product)(&x, w).expect("a supported variant");
                    }
                }))
            })
            .collect();
        let flops = 2.0 * (args.rows * inputs * outputs) as f64;
        let per_step = (per_weight * copies) as f64;
        total_torch += torch_s * per_step;
        for (total, s) in total_variants.iter_mut().zip(&variant_s) {
            *total += s * per_step;
        }
        total_flops += flops * per_step;
        let row = Row { torch_s, variant_s: &variant_s, default_index, flops };
        println!("{}", row.markdown(name, &format!("[{inputs}, {outputs}]"), Unit::Micros));
    }
    let step = Row { torch_s: total_torch, variant_s: &total_variants, default_index, flops: total_flops };
    println!("{}", step.markdown("all of one step", "", Unit::Millis));
    Ok(())
}

#[derive(Clone, Copy)]
enum Unit {
    Micros,
    Millis,
}

impl Unit {
    fn format(self, seconds: f64) -> String {
        match self {
            Unit::Micros => format!("{:.1} us", seconds * 1e6),
            Unit::Millis => format!("{:.1} ms", seconds * 1e3),
        }
    }
}

/// One table row: libtorch's time, each variant's, the ratio to the default variant and GFLOP/s.
struct Row<'a> {
    torch_s: f64,
    variant_s: &'a [f64],
    default_index: usize,
    flops: f64,
}

impl Row<'_> {
    fn markdown(&self, label: &str, shape: &str, unit: Unit) -> String {
        let rlxf_s = self.variant_s[self.default_index];
        let cells: String = self.variant_s.iter().map(|&s| format!(" {} |", unit.format(s))).collect();
        format!(
            "| {label} | {shape} | {} |{cells} {:.2}x | {:.1} | {:.1} |",
            unit.format(self.torch_s),
            self.torch_s / rlxf_s,
            self.flops / self.torch_s / 1e9,
            self.flops / rlxf_s / 1e9
        )
    }
}
