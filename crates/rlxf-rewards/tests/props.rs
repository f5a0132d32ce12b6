//! Property tests: totality, symmetry, and agreement between rewritten forms of a number.

use proptest::prelude::*;
use rlxf_rewards::extract::{ExtractionPolicy, Rule};
use rlxf_rewards::math::{compare, normalize_text, parse_number, MathOptions, PercentMode};

/// Strings built from the tokens the parsers care about, so proptest reaches deep paths
/// (arbitrary unicode rarely forms `\frac{`).
fn latexish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("\\frac".to_string()),
        Just("\\dfrac".to_string()),
        Just("\\boxed".to_string()),
        Just("\\text".to_string()),
        Just("\\left(".to_string()),
        Just("\\right)".to_string()),
        Just("\\sqrt".to_string()),
        Just("\\times 10^".to_string()),
        Just("<answer>".to_string()),
        Just("</answer>".to_string()),
        Just("the answer is".to_string()),
        Just("$".to_string()),
        Just("\\".to_string()),
        prop::sample::select(vec![
            "{", "}", "(", ")", "^", "e", "E", "-", "+", ".", ",", "/", "%", " ", "=", "x", "°",
            "−"
        ])
        .prop_map(str::to_string),
        "[0-9]{1,4}",
        "\\PC{0,3}",
    ];
    prop::collection::vec(token, 0..24).prop_map(|v| v.concat())
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), latexish()]
}

fn all_options() -> Vec<MathOptions> {
    [
        PercentMode::Strip,
        PercentMode::Fraction,
        PercentMode::Either,
    ]
    .into_iter()
    .map(|percent| MathOptions {
        percent,
        ..MathOptions::default()
    })
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn never_panics(a in any_text(), b in any_text()) {
        for opts in all_options() {
            let _ = parse_number(&a, &opts);
            let _ = compare(&a, &b, &opts);
        }
        let _ = normalize_text(&a);
        for rule in Rule::ALL {
            if let Some(e) = rule.find(&a) {
                prop_assert_eq!(&a[e.span.clone()], e.answer);
            }
        }
        let _ = ExtractionPolicy::standard().extract(&a);
    }

    #[test]
    fn comparison_is_symmetric(a in any_text(), b in any_text()) {
        for opts in all_options() {
            prop_assert_eq!(compare(&a, &b, &opts), compare(&b, &a, &opts));
        }
    }

    #[test]
    fn comparison_is_reflexive(a in any_text()) {
        prop_assert!(compare(&a, &a, &MathOptions::default()).equal);
    }

    #[test]
    fn integer_rewrites_are_equal(n in any::<i64>()) {
        let opts = MathOptions::default();
        let plain = n.to_string();
        let forms = [
            with_thousands(n),
            format!("{n}.0"),
            format!("\\frac{{{}}}{{1}}", n),
            format!("\\frac{{{}}}{{2}}", i128::from(n) * 2),
            format!("{}/3", i128::from(n) * 3),
            format!("${n}$"),
            format!("\\boxed{{{n}}}"),
            format!("{n}\\text{{ units}}"),
            format!("{n}\\%"),
        ];
        for f in &forms {
            prop_assert!(compare(f, &plain, &opts).equal, "{} vs {}", f, plain);
        }
        prop_assert!(!compare(&plain, &(i128::from(n) + 1).to_string(), &opts).equal);
    }

    #[test]
    fn decimal_rewrites_are_equal(int_part in 0u32..100_000, frac in 0u32..1000, neg in any::<bool>()) {
        // x = sign · (int_part + frac/1000), written as a decimal, a fraction and in e-notation.
        let opts = MathOptions::default();
        let sign = if neg { "-" } else { "" };
        let decimal = format!("{sign}{int_part}.{frac:03}");
        let thousandths = u64::from(int_part) * 1000 + u64::from(frac);
        let forms = [
            format!("{sign}\\frac{{{thousandths}}}{{1000}}"),
            format!("{sign}{thousandths}/1000"),
            format!("{sign}{thousandths}e-3"),
            format!("{sign}{thousandths} \\times 10^{{-3}}"),
            format!("{sign}{}.{frac:03}", with_thousands(i64::from(int_part))),
            format!("{decimal}000"),
        ];
        for f in &forms {
            prop_assert!(compare(f, &decimal, &opts).equal, "{} vs {}", f, decimal);
        }
    }

    #[test]
    fn fraction_rewrites_are_equal(p in -10_000i64..10_000, q in 1i64..10_000, k in 1i64..50) {
        let opts = MathOptions::default();
        let base = format!("{p}/{q}");
        for f in [format!("\\frac{{{}}}{{{}}}", p * k, q * k), format!("\\dfrac{{{p}}}{{{q}}}"), format!("({})/{}", p * k, q * k)] {
            prop_assert!(compare(&f, &base, &opts).equal, "{} vs {}", f, base);
        }
    }
}

fn with_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

proptest! {
    #[test]
    fn expression_evaluation_never_panics(a in any_text()) {
        let _ = rlxf_rewards::math::eval_arithmetic(&a);
    }
}
