//! The decoding-step attention kernel against libtorch's scaled_dot_product_attention, on cache
//! views (keys and values narrowed from a longer buffer), with left padding in the mask, grouped
//! and plain multi-head attention, both head sizes, one and two threads; and the cases it must
//! leave to libtorch. With a bf16 cache: the f32 attention of the bf16 values, rounded once.
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rlxf_model::decode_attention::{available, try_attend};
use tch::{Device, Kind, Tensor};

fn reference(q: &Tensor, k: &Tensor, v: &Tensor, mask: &Tensor) -> Tensor {
    let (b, heads, _, d) = q.size4().unwrap();
    let grouped = heads != k.size()[1];
    Tensor::scaled_dot_product_attention(q, k, v, Some(mask), 0.0, false, None, grouped)
        .transpose(1, 2)
        .reshape([b, 1, heads * d])
}

/// Standard normal values (Box-Muller) from `rng`, as an f32 tensor of `shape`.
fn seeded_normal<const N: usize>(rng: &mut ChaCha8Rng, shape: [i64; N]) -> Tensor {
    let count = shape.iter().product::<i64>() as usize;
    let values: Vec<f32> = (0..count)
        .map(|_| {
            let (u1, u2) = (1.0 - rng.random::<f64>(), rng.random::<f64>());
            ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
        })
        .collect();
    Tensor::from_slice(&values).view(&shape[..])
}

/// A cache buffer of `capacity` positions with the first `len` filled, viewed like the cache does.
fn cache_view(b: i64, kv_heads: i64, capacity: i64, len: i64, d: i64) -> Tensor {
    Tensor::randn([b, kv_heads, capacity, d], (Kind::Float, Device::Cpu)).narrow(2, 0, len)
}

/// Rows start after `pad[row]` padding positions, as left-padded prompts do.
fn padded_mask(b: i64, len: i64, pad: &[i64]) -> Tensor {
    let valid: Vec<bool> = (0..b).flat_map(|r| (0..len).map(move |s| s >= pad[r as usize])).collect();
    Tensor::from_slice(&valid).view([b, 1, 1, len])
}

#[test]
fn matches_sdpa_on_cache_views_with_padding() {
    if !available() {
        eprintln!("skipped: this CPU lacks AVX2/FMA");
        return;
    }
    tch::manual_seed(0);
    for threads in [1, 2] {
        tch::set_num_threads(threads);
        for &(heads, kv_heads, d) in &[(9, 3, 64), (14, 2, 64), (4, 4, 128), (8, 1, 64)] {
            for &(b, len) in &[(1, 1), (3, 17), (32, 200)] {
                let q = Tensor::randn([b, 1, heads, d], (Kind::Float, Device::Cpu)).transpose(1, 2);
                let k = cache_view(b, kv_heads, len + 9, len, d);
                let v = cache_view(b, kv_heads, len + 9, len, d);
                let pad: Vec<i64> = (0..b).map(|r| (r * 5) % len).collect();
                let mask = padded_mask(b, len, &pad);
                let got = try_attend(&q, &k, &v, &mask).expect("the kernel applies to a decoding step");
                let want = reference(&q, &k, &v, &mask);
                assert_eq!(got.size(), want.size());
                let diff = (&got - &want).abs().max().double_value(&[]);
                assert!(diff < 1e-5, "heads {heads}/{kv_heads} d {d} b {b} len {len} threads {threads}: {diff}");
            }
        }
    }
}

#[test]
fn large_scores_stay_finite() {
    if !available() {
        return;
    }
    // Scores near 1600 sit at f32's limit for the 1e-4 bound (a score's rounding alone is ~1e-4),
    // so some draws of libtorch's shared, unseeded generator failed it (2% of runs): the inputs come
    // from a fixed seed of the test's own generator instead. Most seeds give a one-hot softmax and
    // no difference at all; this one has near-ties (1.4e-5 from SDPA), the case worth checking.
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let q = seeded_normal(&mut rng, [2, 4, 1, 64]) * 40.0;
    let k = seeded_normal(&mut rng, [2, 2, 50, 64]) * 40.0;
    let v = seeded_normal(&mut rng, [2, 2, 50, 64]);
    let mask = padded_mask(2, 50, &[0, 30]);
    let got = try_attend(&q, &k, &v, &mask).unwrap();
    assert!(got.isfinite().all().int64_value(&[]) == 1);
    let diff = (&got - reference(&q, &k, &v, &mask)).abs().max().double_value(&[]);
    assert!(diff < 1e-4, "max |kernel - sdpa| {diff}");
}

#[test]
fn leaves_prefill_gradients_and_other_shapes_to_libtorch() {
    let mask = padded_mask(1, 8, &[0]);
    let k = Tensor::randn([1, 2, 8, 64], (Kind::Float, Device::Cpu));
    let several = Tensor::randn([1, 4, 2, 64], (Kind::Float, Device::Cpu));
    assert!(try_attend(&several, &k, &k, &padded_mask(1, 8, &[0]).expand([1, 1, 2, 8], false)).is_none());
    let q = Tensor::randn([1, 4, 1, 64], (Kind::Float, Device::Cpu)).set_requires_grad(true);
    assert!(try_attend(&q, &k, &k, &mask).is_none(), "autograd needs libtorch's attention");
    assert_eq!(tch::no_grad(|| try_attend(&q, &k, &k, &mask).is_some()), available());
    let odd_head = Tensor::randn([1, 4, 1, 48], (Kind::Float, Device::Cpu));
    let k48 = Tensor::randn([1, 2, 8, 48], (Kind::Float, Device::Cpu));
    assert!(try_attend(&odd_head, &k48, &k48, &mask).is_none());
    let half = q.detach().to_kind(Kind::BFloat16);
    let k_half = k.to_kind(Kind::BFloat16);
    assert_eq!(try_attend(&half, &k_half, &k_half, &mask).is_some(), available());
    assert!(try_attend(&half, &k_half, &k, &mask).is_none(), "keys and values share a dtype");
    let k_double = k.to_kind(Kind::Double);
    assert!(try_attend(&q.detach().to_kind(Kind::Double), &k_double, &k_double, &mask).is_none());
}

#[test]
fn a_bf16_cache_gives_the_f32_attention_of_its_values_rounded_once() {
    if !available() {
        return;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for &(heads, kv_heads, d) in &[(9, 3, 64), (4, 4, 128)] {
        for &(b, len) in &[(1, 1), (3, 17), (32, 200)] {
            let q = seeded_normal(&mut rng, [b, heads, 1, d]);
            let k = (seeded_normal(&mut rng, [b, kv_heads, len + 9, d]) * 2.0).to_kind(Kind::BFloat16).narrow(2, 0, len);
            let v = seeded_normal(&mut rng, [b, kv_heads, len + 9, d]).to_kind(Kind::BFloat16).narrow(2, 0, len);
            let pad: Vec<i64> = (0..b).map(|r| (r * 5) % len).collect();
            let mask = padded_mask(b, len, &pad);
            // An f32 query (autocast's case) is rounded to bf16 first, as autocast's attention does.
            let got = try_attend(&q, &k, &v, &mask).expect("the kernel applies to a bf16 cache");
            assert_eq!((got.size(), got.kind()), (vec![b, 1, heads * d], Kind::BFloat16));
            let widen = |t: &Tensor| t.to_kind(Kind::Float);
            let exact = reference(&widen(&q.to_kind(Kind::BFloat16)), &widen(&k), &widen(&v), &mask);
            let error = (widen(&got) - &exact).abs();
            let bound = exact.abs() * (1.0 / 256.0) * 1.01 + 1e-5;
            let worst = (&error - &bound).max().double_value(&[]);
            assert!(worst <= 0.0, "heads {heads}/{kv_heads} d {d} b {b} len {len}: {worst:e} past the rounding bound");
            // libtorch's own bf16 attention rounds scores and weights on the way: no closer to exact.
            let theirs = reference(&q.to_kind(Kind::BFloat16), &k, &v, &mask);
            let mean = |e: &Tensor| e.mean(Kind::Double).double_value(&[]);
            assert!(mean(&error) <= mean(&(widen(&theirs) - &exact).abs()) * 1.05 + 1e-7, "heads {heads}/{kv_heads} d {d} b {b} len {len}");
        }
    }
}
