//! `rlxf bench attention`: the attention of one decoding step over the KV cache, timed in one process
//! with libtorch's `scaled_dot_product_attention` and with rlxf's kernel
//! (`rlxf_model::decode_attention`), on the same inputs. Every layer gets its own cache, laid out as
//! the sampler's (`[rows, kv heads, capacity, head dim]` buffers read through views of the filled
//! positions), so the cache streams from memory as it does in a decoding step. Reports the time per
//! step and the rate at which each engine reads the cache.

use anyhow::{bail, Result};
use clap::Args;
use rlxf_model::{decode_attention, runtime};
use tch::{Device, Kind, Tensor};

use crate::best_time::best_seconds;

#[derive(Args)]
pub struct AttentionArgs {
    /// Rows of the decoding step (the batch).
    #[arg(long, default_value_t = 32)]
    rows: i64,
    /// Cached positions attended to (prompt plus tokens so far).
    #[arg(long, default_value_t = 256)]
    positions: i64,
    /// Left-padding positions of every other row (masked out, as for a shorter prompt).
    #[arg(long, default_value_t = 16)]
    padding: i64,
    /// Defaults are SmolLM2-135M-Instruct's.
    #[arg(long, default_value_t = 30)]
    layers: usize,
    #[arg(long, default_value_t = 9)]
    heads: i64,
    #[arg(long, default_value_t = 3)]
    kv_heads: i64,
    #[arg(long, default_value_t = 64)]
    head_dim: i64,
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Timed rounds per engine; the best is reported.
    #[arg(long, default_value_t = 9)]
    repeats: usize,
    /// The query's and cache's dtype: f32, or bf16 (a bf16 model's or bf16 autocast's cache).
    #[arg(long, default_value = "f32")]
    dtype: String,
}

/// Largest |kernel - SDPA| accepted on random inputs: f32 sums in a different order; in bf16, the
/// kernel's one rounding of its output (half a step of bf16 at outputs below 2, with margin), against
/// SDPA in f32 on the same bf16 values.
const MAX_DIFFERENCE_F32: f64 = 1e-4;
const MAX_DIFFERENCE_BF16: f64 = 1e-2;

struct LayerInputs {
    q: Tensor,
    keys: Tensor,
    values: Tensor,
}

pub fn attention(args: AttentionArgs) -> Result<()> {
    if args.rows < 1 || args.positions < 1 || args.layers == 0 || args.kv_heads < 1 || args.heads % args.kv_heads != 0 {
        bail!("--rows, --positions, --layers and --kv-heads must be positive and --heads a multiple of --kv-heads");
    }
    if args.padding >= args.positions {
        bail!("--padding {} must be below --positions {}", args.padding, args.positions);
    }
    if !decode_attention::available() {
        bail!("the decoding attention kernel cannot run here (needs x86-64 with AVX2 and FMA, and {} not set to sdpa)", decode_attention::ENGINE_ENV);
    }
    let (kind, max_difference, element_bytes) = match args.dtype.as_str() {
        "f32" => (Kind::Float, MAX_DIFFERENCE_F32, 4),
        "bf16" => (Kind::BFloat16, MAX_DIFFERENCE_BF16, 2),
        other => bail!("--dtype {other} is not one of f32, bf16"),
    };
    let threads = runtime::set_threads(args.threads);
    let torch = runtime::check_torch_version()?;
    let _no_grad = tch::no_grad_guard();
    tch::manual_seed(0);
    let (b, s, d) = (args.rows, args.positions, args.head_dim);
    // Room for more positions than are filled, as in the sampler, so the views have the cache's strides.
    let capacity = s + s / 2;
    let f32_cpu = (Kind::Float, Device::Cpu);
    let layers: Vec<LayerInputs> = (0..args.layers)
        .map(|_| LayerInputs {
            q: Tensor::randn([b, args.heads, 1, d], f32_cpu).to_kind(kind),
            keys: Tensor::randn([b, args.kv_heads, capacity, d], f32_cpu).to_kind(kind).narrow(2, 0, s),
            values: Tensor::randn([b, args.kv_heads, capacity, d], f32_cpu).to_kind(kind).narrow(2, 0, s),
        })
        .collect();
    let padded_rows = Tensor::arange(b, (Kind::Int64, Device::Cpu)).remainder(2).eq(1).view([b, 1]);
    let before_prompt = Tensor::arange(s, (Kind::Int64, Device::Cpu)).lt(args.padding).view([1, s]);
    let mask = padded_rows.logical_and(&before_prompt).logical_not().view([b, 1, 1, s]);
    let grouped = args.heads != args.kv_heads;
    let sdpa = |l: &LayerInputs| {
        Tensor::scaled_dot_product_attention(&l.q, &l.keys, &l.values, Some(&mask), 0.0, false, None, grouped)
    };
    let kernel = |l: &LayerInputs| decode_attention::try_attend(&l.q, &l.keys, &l.values, &mask);
    let Some(first) = kernel(&layers[0]) else {
        bail!("the decoding attention kernel does not take --head-dim {d} (it takes 64 and 128)");
    };
    let widened = |t: &Tensor| t.to_kind(Kind::Float);
    let exact = LayerInputs { q: widened(&layers[0].q), keys: widened(&layers[0].keys), values: widened(&layers[0].values) };
    let reference = sdpa(&exact).transpose(1, 2).reshape([b, 1, args.heads * d]);
    let difference = f64::try_from((first.to_kind(Kind::Float) - reference).abs().max())?;
    // Timing a kernel that computes something else would be meaningless: this is also a check
    // (NaN fails it too).
    if difference.is_nan() || difference > max_difference {
        bail!("the decoding attention kernel differs from SDPA by {difference:e} (more than {max_difference:e}) on these inputs: a kernel bug, please report it");
    }
    let sdpa_s = best_seconds(args.repeats, || layers.iter().for_each(|l| drop(sdpa(l))));
    let kernel_s = best_seconds(args.repeats, || layers.iter().for_each(|l| drop(kernel(l))));
    let cache_bytes = (2 * args.layers as i64 * b * args.kv_heads * s * d * element_bytes) as f64;
    println!(
        "torch {torch}, {threads} threads, {}, {b} rows, {s} positions, {} heads / {} kv heads of {d}, {} layers, best of {}; max |kernel - sdpa| {difference:.1e}",
        args.dtype, args.heads, args.kv_heads, args.layers, args.repeats
    );
    println!("| engine | one step | cache read |");
    println!("|---|---:|---:|");
    for (engine, seconds) in [("libtorch sdpa", sdpa_s), ("rlxf decode_attention", kernel_s)] {
        println!("| {engine} | {:.2} ms | {:.1} GB/s |", seconds * 1e3, cache_bytes / seconds / 1e9);
    }
    println!("ratio {:.2}x", sdpa_s / kernel_s);
    Ok(())
}
