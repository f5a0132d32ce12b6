//! Verifiers, the Verifier→Reward adaptor, weighted sums and TOML specs.

use rlxf_core::{Completion, FinishReason, Problem, Score};
use rlxf_rewards::verifiers::{
    BoxedFormat, ExactMatch, ExactMatchConfig, MathAnswer, MathAnswerConfig,
};
use rlxf_rewards::{ExtractionPolicy, Registry, Reward, RewardSpec, ScoreInput, Verifier};

fn input<'a>(completion: &'a str, reference: &'a str) -> ScoreInput<'a> {
    ScoreInput::new("What is 1/2 + 1/4?", completion).with_reference(reference)
}

#[test]
fn math_answer_scores_correct_wrong_and_missing() {
    let v = MathAnswer::default(); // boxed only
    let right = v.verify(&input("so \\boxed{\\frac{3}{4}}", "0.75"));
    assert_eq!(right.value, 1.0);
    assert_eq!(right.components["accuracy"], 1.0);
    assert_eq!(right.components["has_answer"], 1.0);

    let wrong = v.verify(&input("so \\boxed{0.7}", "0.75"));
    assert_eq!((wrong.value, wrong.components["has_answer"]), (0.0, 1.0));

    let unboxed = v.verify(&input("the answer is 0.75", "0.75"));
    assert_eq!(
        (unboxed.value, unboxed.components["has_answer"]),
        (0.0, 0.0),
        "boxed-only policy"
    );

    let no_ref = v.verify(&ScoreInput::new("q", "\\boxed{1}"));
    assert_eq!(
        (no_ref.value, no_ref.components["missing_reference"]),
        (0.0, 1.0)
    );
}

#[test]
fn math_answer_policy_and_format_bonus() {
    let v = MathAnswer::new(MathAnswerConfig {
        extraction: ExtractionPolicy::boxed_then_last_number(),
        format_bonus: 0.1,
        ..MathAnswerConfig::default()
    });
    assert_eq!(
        v.verify(&input("it is 3/4", "\\frac34")).value,
        1.1,
        "last-number fallback plus bonus"
    );
    assert_eq!(
        v.verify(&input("it is 5", "0.75")).value,
        0.1,
        "wrong but well-formed"
    );
    assert_eq!(v.verify(&input("no idea", "0.75")).value, 0.0);
}

#[test]
fn boxed_format_and_exact_match() {
    assert_eq!(BoxedFormat.verify(&input("\\boxed{x}", "")).value, 1.0);
    assert_eq!(
        BoxedFormat.verify(&input("\\boxed{x", "")).value,
        0.0,
        "unclosed box is not a format hit"
    );

    let whole = ExactMatch::default();
    assert_eq!(
        whole.verify(&input("  Paris ", "paris")).value,
        1.0,
        "normalized whole-completion match"
    );
    let strict = ExactMatch::new(ExactMatchConfig {
        extraction: None,
        strict: true,
    });
    assert_eq!(strict.verify(&input("Paris", "paris")).value, 0.0);
    let tagged = ExactMatch::new(ExactMatchConfig {
        extraction: Some(ExtractionPolicy::answer_tag()),
        strict: false,
    });
    assert_eq!(
        tagged
            .verify(&input("think... <answer>B</answer>", "b"))
            .value,
        1.0
    );
    assert_eq!(
        tagged.verify(&input("B", "b")).components["has_answer"],
        0.0
    );
}

#[test]
fn verifier_is_a_reward_over_groups() {
    let reward: Box<dyn Reward> = Box::new(MathAnswer::default());
    assert_eq!(reward.name(), "math_answer");
    let texts: Vec<String> = (0..64).map(|i| format!("\\boxed{{{}}}", i % 4)).collect();
    let group: Vec<ScoreInput<'_>> = texts.iter().map(|t| input(t, "2")).collect();
    let scores = reward.score_group(&group);
    assert_eq!(scores.len(), 64);
    for (i, s) in scores.iter().enumerate() {
        assert_eq!(
            s.value,
            if i % 4 == 2 { 1.0 } else { 0.0 },
            "order preserved"
        );
    }
    assert!(reward.score_group(&[]).is_empty());
}

#[test]
fn score_input_from_problem() {
    let p = Problem::new("p1", "What is 2+2?", Some("4".into()));
    let c = Completion {
        text: "\\boxed{4}".into(),
        token_ids: vec![],
        logprobs: vec![],
        finish: FinishReason::Length,
    };
    let i = ScoreInput::from_problem(&p, &c);
    assert!(i.truncated);
    assert_eq!(MathAnswer::default().verify(&i).value, 1.0);
}

const SPEC: &str = r#"
[[reward.terms]]
kind = "math_answer"
weight = 1.0
extraction = "boxed_then_last_number"

[[reward.terms]]
kind = "boxed_format"
weight = 0.5

[[reward.terms]]
kind = "truncated"
weight = -1
"#;

#[test]
fn spec_builds_weighted_sum_with_named_components() {
    let spec = RewardSpec::from_toml(SPEC).unwrap();
    assert_eq!(spec.terms.len(), 3);
    let reward = spec.build().unwrap();
    let texts = ["\\boxed{4}", "4", "\\boxed{5}"];
    let mut group: Vec<ScoreInput<'_>> = texts.iter().map(|t| input(t, "4")).collect();
    group[2].truncated = true;
    let s = reward.score_group(&group);
    assert_eq!(s[0].value, 1.5);
    assert_eq!(s[1].value, 1.0, "last-number fallback, no box");
    assert_eq!(s[2].value, -0.5, "wrong, boxed, truncated");
    let c = &s[0].components;
    assert_eq!(
        (c["math_answer"], c["boxed_format"], c["truncated"]),
        (1.0, 1.0, 0.0)
    );
    assert_eq!(c["math_answer.accuracy"], 1.0);
    assert_eq!(c["boxed_format.format"], 1.0);
}

#[test]
fn spec_accepts_top_level_terms_nested_options_and_names() {
    let spec = RewardSpec::from_toml(
        r#"
        [[terms]]
        kind = "math_answer"
        name = "strict"
        extraction = ["boxed"]
        math = { percent = "fraction" }

        [[terms]]
        kind = "math_answer"
        name = "lenient"
        extraction = "standard"
        "#,
    )
    .unwrap();
    let reward = spec.build().unwrap();
    let s: Vec<Score> = reward.score_group(&[input("The answer is 50\\%", "0.5")]);
    assert_eq!(
        (s[0].components["strict"], s[0].components["lenient"]),
        (0.0, 0.0)
    );
    let s = reward.score_group(&[input("\\boxed{50\\%}", "0.5")]);
    assert_eq!(
        (s[0].components["strict"], s[0].components["lenient"]),
        (1.0, 0.0),
        "percent modes differ"
    );
}

fn build_err(toml: &str) -> String {
    let err = match RewardSpec::from_toml(toml) {
        Ok(spec) => spec.build().err().expect("spec should fail to build"),
        Err(e) => e,
    };
    let msg = err.to_string();
    assert!(!msg.contains('\n'), "errors are one line: {msg}");
    msg
}

#[test]
fn spec_errors_are_one_clear_line() {
    let msg = build_err("[[reward.terms]]\nkind = \"math_anser\"");
    assert!(
        msg.contains("`math_anser`")
            && msg.contains("math_answer, ")
            && msg.contains("boxed_format"),
        "{msg}"
    );

    let msg = build_err("[[reward.terms]]\nkind = \"math_answer\"\nextracton = \"boxed\"");
    assert!(
        msg.contains("extracton") && msg.contains("math_answer"),
        "{msg}"
    );

    let msg = build_err("[[reward.terms]]\nkind = \"math_answer\"\nextraction = \"boxd\"");
    assert!(msg.contains("boxd") && msg.contains("valid rules"), "{msg}");

    let msg = build_err("[[reward.terms]]\nkind = \"boxed_format\"\nweight = 1\nfoo = 2");
    assert!(msg.contains("foo"), "{msg}");

    let msg = build_err("[reward]\nterms = []");
    assert!(msg.contains("no terms"), "{msg}");

    let msg = build_err(
        "[[reward.terms]]\nkind = \"boxed_format\"\n[[reward.terms]]\nkind = \"boxed_format\"",
    );
    assert!(msg.contains("named `boxed_format`"), "{msg}");

    let msg = build_err("[[reward.terms]]\nkind = \"boxed_format\"\nweight = nan");
    assert!(msg.contains("finite"), "{msg}");

    let msg = build_err("[reward\nterms");
    assert!(msg.starts_with("invalid reward spec"), "{msg}");
}

#[test]
fn registry_accepts_new_kinds() {
    struct Constant(f64);
    impl Verifier for Constant {
        fn name(&self) -> &str {
            "constant"
        }
        fn verify(&self, _: &ScoreInput<'_>) -> Score {
            Score::scalar(self.0)
        }
    }
    let mut registry = Registry::builtin();
    registry.register("constant", |p| {
        let v = p
            .get("value")
            .and_then(serde_json::Value::as_f64)
            .ok_or("missing `value` (a number)")?;
        Ok(Box::new(Constant(v)))
    });
    let spec =
        RewardSpec::from_toml("[[reward.terms]]\nkind = \"constant\"\nvalue = 0.25\nweight = 2")
            .unwrap();
    let sum = spec.build_with(&registry).unwrap();
    assert_eq!(sum.score_group(&[input("", "")])[0].value, 0.5);
    assert!(spec.build().is_err(), "not a built-in kind");
}

#[test]
fn spec_round_trips_through_serde() {
    let spec = RewardSpec::from_toml(SPEC).unwrap();
    let json = serde_json::to_string(&spec).unwrap();
    let back: RewardSpec = serde_json::from_str(&json).unwrap();
    assert_eq!(spec, back);
}

#[test]
fn countdown_checks_by_evaluation() {
    use rlxf_rewards::math::{eval_arithmetic, ExprError};
    use rlxf_rewards::verifiers::Countdown;
    let meta = serde_json::json!({"numbers": [8, 95, 39, 18], "target": 30});
    let score = |completion: &str| {
        let i = ScoreInput {
            metadata: &meta,
            ..ScoreInput::new("q", completion)
        };
        Countdown::default().verify(&i)
    };
    assert_eq!(
        score("\\boxed{95 - 8 - 18 - 39}").value,
        1.0,
        "the generator's reference"
    );
    assert_eq!(
        score("<answer>95 - (8 + 18 + 39)</answer>").value,
        1.0,
        "another correct solution"
    );
    assert_eq!(
        score("\\boxed{95 - 8 - 18 - 39 = 30}").value,
        1.0,
        "trailing `= target` allowed"
    );
    let s = score("\\boxed{95 - 65}");
    assert_eq!(
        (
            s.value,
            s.components["valid_expression"],
            s.components["uses_numbers"]
        ),
        (0.0, 1.0, 0.0),
        "right value, wrong numbers"
    );
    let s = score("\\boxed{95 - 8 - 18 - 38}");
    assert_eq!((s.value, s.components["uses_numbers"]), (0.0, 0.0));
    let s = score("\\boxed{95 - 8 - 18 + 39}");
    assert_eq!(
        (s.value, s.components["uses_numbers"]),
        (0.0, 1.0),
        "right numbers, wrong value"
    );
    assert_eq!(
        score("\\boxed{(95 - 8 - 18 - 39}").components["valid_expression"],
        0.0
    );
    assert_eq!(score("the answer is 30").components["has_answer"], 0.0);
    let no_meta = Countdown::default().verify(&ScoreInput::new("q", "\\boxed{1+2}"));
    assert_eq!(no_meta.components["missing_metadata"], 1.0);

    // Exact arithmetic: no float rounding, division exact.
    assert_eq!(
        eval_arithmetic("7 / 2 * 2").unwrap().value,
        eval_arithmetic("7").unwrap().value
    );
    assert_eq!(
        eval_arithmetic("3 \\times (4 \\div 2)")
            .unwrap()
            .literals
            .len(),
        3
    );
    assert_eq!(
        eval_arithmetic("1 / (2 - 2)"),
        Err(ExprError::DivisionByZero)
    );
    assert!(
        eval_arithmetic("-3 + 5").is_err(),
        "unary minus is not allowed"
    );
    assert!(eval_arithmetic(&"(".repeat(500)).is_err());
}

#[test]
fn countdown_is_a_spec_kind() {
    let spec = RewardSpec::from_toml("[[reward.terms]]\nkind = \"countdown\"\nformat_bonus = 0.1")
        .unwrap();
    let meta = serde_json::json!({"numbers": [2, 3], "target": 6});
    let i = ScoreInput {
        metadata: &meta,
        ..ScoreInput::new("q", "\\boxed{2*3}")
    };
    assert_eq!(spec.build().unwrap().score_group(&[i])[0].value, 1.1);
}
