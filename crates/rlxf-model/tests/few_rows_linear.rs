//! The few-rows CPU kernel against libtorch's `linear` (MKL), on the shapes decoding uses and on
//! awkward ones (column and input tails, one row, odd row counts), with and without bias, on one
//! and two threads, for every instruction-set variant this CPU runs; and the cases it must leave to
//! libtorch. The bf16 variant against exact sums and libtorch's bf16 `linear`, and under autocast.
use rlxf_model::autocast::Bf16Autocast;
use rlxf_model::few_rows_linear::{available, bf16_available, try_linear, try_linear_bf16, try_linear_on, Isa, MAX_ROWS};
use tch::{Device, Kind, Tensor};

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

fn supported_variants() -> Vec<Isa> {
    let variants: Vec<Isa> = Isa::ALL.into_iter().filter(|isa| isa.supported()).collect();
    if variants.is_empty() {
        eprintln!("skipped: this CPU lacks AVX2/FMA");
    }
    variants
}

fn check(isa: Isa, rows: i64, inputs: i64, outputs: i64, with_bias: bool) {
    let x = Tensor::randn([rows, inputs], (Kind::Float, tch::Device::Cpu));
    let w = Tensor::randn([outputs, inputs], (Kind::Float, tch::Device::Cpu)) / (inputs as f64).sqrt();
    let b = with_bias.then(|| Tensor::randn([outputs], (Kind::Float, tch::Device::Cpu)));
    let expected = x.linear(&w, b.as_ref());
    let got = try_linear_on(isa, &x, &w, b.as_ref()).expect("the kernel applies to a no-grad f32 CPU product");
    assert_eq!(got.size(), expected.size());
    let diff = max_abs_diff(&got, &expected);
    assert!(diff < 1e-4, "{isa:?} rows {rows} inputs {inputs} outputs {outputs} bias {with_bias}: max abs diff {diff}");
}

#[test]
fn matches_linear_on_decoding_and_tail_shapes() {
    tch::manual_seed(0);
    for isa in supported_variants() {
        for threads in [1, 2] {
            tch::set_num_threads(threads);
            for &(inputs, outputs) in &[(576, 576), (576, 192), (576, 1536), (1536, 576), (576, 4099), (13, 7), (896, 4864), (7, 1)] {
                // every row tail of both tile heights (2 and 4)
                for rows in [1, 2, 3, 5, 6, 7, 32, 33, 34, 35, MAX_ROWS] {
                    check(isa, rows, inputs, outputs, false);
                }
                check(isa, 5, inputs, outputs, true);
            }
        }
    }
}

#[test]
fn the_default_variant_is_the_widest_this_cpu_runs() {
    let widest = [Isa::Avx512, Isa::Avx2].into_iter().find(|isa| isa.supported());
    if std::env::var("RLXF_FEW_ROWS_GEMM").is_err() {
        assert_eq!(rlxf_model::few_rows_linear::default_isa(), widest);
    }
}

#[test]
fn is_no_less_exact_than_mkl_against_f64() {
    tch::manual_seed(1);
    tch::set_num_threads(2);
    for isa in supported_variants() {
        for &(rows, inputs, outputs) in &[(32, 576, 1536), (32, 1536, 576), (8, 576, 49152), (1, 4864, 896)] {
            let x = Tensor::randn([rows, inputs], (Kind::Float, tch::Device::Cpu));
            let w = Tensor::randn([outputs, inputs], (Kind::Float, tch::Device::Cpu));
            let exact = x.to_kind(Kind::Double).linear(&w.to_kind(Kind::Double), None::<&Tensor>);
            let error = |y: &Tensor| (y.to_kind(Kind::Double) - &exact).abs().mean(Kind::Double).double_value(&[]);
            let kernel = error(&try_linear_on(isa, &x, &w, None).unwrap());
            let mkl = error(&x.linear(&w, None::<&Tensor>));
            assert!(kernel <= 1.5 * mkl, "{isa:?} [{rows}, {inputs}] x [{outputs}]: mean abs error {kernel:e} vs MKL {mkl:e}");
        }
    }
}

#[test]
fn keeps_leading_dimensions() {
    if !available() {
        return;
    }
    let x = Tensor::randn([4, 1, 64], (Kind::Float, tch::Device::Cpu));
    let w = Tensor::randn([10, 64], (Kind::Float, tch::Device::Cpu));
    let got = try_linear(&x, &w, None).unwrap();
    assert_eq!(got.size(), [4, 1, 10]);
    assert!(max_abs_diff(&got, &x.linear(&w, None::<&Tensor>)) < 1e-4);
    // a non-contiguous input (a transposed view) gives the same product
    let xt = Tensor::randn([64, 3], (Kind::Float, tch::Device::Cpu)).tr();
    assert!(max_abs_diff(&try_linear(&xt, &w, None).unwrap(), &xt.linear(&w, None::<&Tensor>)) < 1e-4);
}

#[test]
fn leaves_gradients_many_rows_and_other_dtypes_to_libtorch() {
    let w = Tensor::randn([8, 16], (Kind::Float, tch::Device::Cpu)).set_requires_grad(true);
    let x = Tensor::randn([2, 16], (Kind::Float, tch::Device::Cpu));
    assert!(try_linear(&x, &w, None).is_none(), "a trainable weight under grad mode needs autograd");
    assert_eq!(tch::no_grad(|| try_linear(&x, &w, None).is_some()), available());
    let many = Tensor::randn([MAX_ROWS + 1, 16], (Kind::Float, tch::Device::Cpu));
    assert!(tch::no_grad(|| try_linear(&many, &w, None)).is_none());
    let half = x.to_kind(Kind::BFloat16);
    assert_eq!(tch::no_grad(|| try_linear(&half, &w.to_kind(Kind::BFloat16), None).is_some()), bf16_available());
    assert!(tch::no_grad(|| try_linear(&half, &w, None)).is_none(), "mixed dtypes outside autocast are libtorch's");
    assert!(tch::no_grad(|| try_linear(&x.to_kind(Kind::Double), &w.to_kind(Kind::Double), None)).is_none());
}

/// bf16 operands: each output must be the exact sum (f64 here) rounded to bf16, give or take the f32
/// sums' own rounding, and no further from exact on average than libtorch's bf16 `linear`.
fn check_bf16(rows: i64, inputs: i64, outputs: i64, with_bias: bool) {
    let x = Tensor::randn([rows, inputs], (Kind::Float, Device::Cpu)).to_kind(Kind::BFloat16);
    let w = (Tensor::randn([outputs, inputs], (Kind::Float, Device::Cpu)) / (inputs as f64).sqrt()).to_kind(Kind::BFloat16);
    let b = with_bias.then(|| Tensor::randn([outputs], (Kind::Float, Device::Cpu)).to_kind(Kind::BFloat16));
    let got = try_linear_bf16(&x, &w, b.as_ref()).expect("the bf16 kernel applies to no-grad bf16 CPU products");
    assert_eq!((got.size(), got.kind()), (vec![rows, outputs], Kind::BFloat16));
    let exact = x.to_kind(Kind::Double).linear(&w.to_kind(Kind::Double), b.as_ref().map(|b| b.to_kind(Kind::Double)).as_ref());
    let error = (got.to_kind(Kind::Double) - &exact).abs();
    // Half a bf16 step (2^-8 relative) for the final rounding, plus slack for the f32 sums.
    let bound = exact.abs() * (1.0 / 256.0) * 1.01 + 1e-4;
    let worst = (&error - &bound).max().double_value(&[]);
    assert!(worst <= 0.0, "rows {rows} inputs {inputs} outputs {outputs} bias {with_bias}: an output is {worst:e} past its rounding bound");
    let torch = x.linear(&w, b.as_ref());
    let mean = |e: &Tensor| e.mean(Kind::Double).double_value(&[]);
    let (ours, theirs) = (mean(&error), mean(&(torch.to_kind(Kind::Double) - &exact).abs()));
    assert!(ours <= 1.1 * theirs, "rows {rows} [{inputs}] x [{outputs}]: mean abs error {ours:e} vs libtorch's {theirs:e}");
}

#[test]
fn bf16_rounds_exact_sums_on_decoding_and_tail_shapes() {
    if !bf16_available() {
        eprintln!("skipped: this CPU lacks AVX-512 BF16");
        return;
    }
    tch::manual_seed(2);
    for threads in [1, 2] {
        tch::set_num_threads(threads);
        // 13 and 7 inputs leave a scalar tail past the 16-value blocks; 4099 and 7 a column tail.
        for &(inputs, outputs) in &[(576, 576), (576, 192), (1536, 576), (576, 4099), (13, 7), (896, 4864), (40, 1)] {
            for rows in [1, 2, 3, 4, 5, 32, 35, MAX_ROWS] {
                check_bf16(rows, inputs, outputs, false);
            }
            check_bf16(6, inputs, outputs, true);
        }
    }
}

#[test]
fn under_autocast_products_are_bf16_from_f32_operands() {
    if !bf16_available() {
        eprintln!("skipped: this CPU lacks AVX-512 BF16");
        return;
    }
    tch::manual_seed(3);
    let x = Tensor::randn([32, 576], (Kind::Float, Device::Cpu));
    let w = (Tensor::randn([1536, 576], (Kind::Float, Device::Cpu)) / 24.0).set_requires_grad(true);
    let b = Tensor::randn([1536], (Kind::Float, Device::Cpu)).set_requires_grad(true);
    let _no_grad = tch::no_grad_guard();
    let _autocast = Bf16Autocast::enter(Device::Cpu);
    let got = try_linear(&x, &w, Some(&b)).expect("the kernel takes autocast's bf16 products");
    assert_eq!(got.kind(), Kind::BFloat16);
    // The same operands autocast's linear takes: its bf16 product differs only by the sums' order.
    let theirs = x.linear(&w, Some(&b));
    assert_eq!(theirs.kind(), Kind::BFloat16);
    let exact_on_bf16 = x.to_kind(Kind::BFloat16).to_kind(Kind::Double).linear(
        &w.to_kind(Kind::BFloat16).to_kind(Kind::Double),
        Some(&b.to_kind(Kind::BFloat16).to_kind(Kind::Double)),
    );
    let bound = exact_on_bf16.abs() * (1.0 / 256.0) * 1.01 + 1e-4;
    assert!(((got.to_kind(Kind::Double) - &exact_on_bf16).abs() - &bound).max().double_value(&[]) <= 0.0);
    let differ = got.ne_tensor(&theirs).to_kind(Kind::Float).mean(Kind::Float).double_value(&[]);
    assert!(differ < 0.05, "{:.1}% of outputs differ from autocast's linear", 100.0 * differ);
    // Many rows stay with libtorch.
    assert!(try_linear(&Tensor::randn([MAX_ROWS + 1, 576], (Kind::Float, Device::Cpu)), &w, None).is_none());
}
