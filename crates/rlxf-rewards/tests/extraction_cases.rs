//! Hand-labelled extraction cases: (completion, policy, expected answer and rule, why).

use rlxf_rewards::extract::{ExtractionPolicy, Rule};

fn standard() -> ExtractionPolicy {
    ExtractionPolicy::standard()
}

/// What the standard policy should find: the answer and the rule, or nothing.
type Expected = Option<(&'static str, Rule)>;

/// (completion, expected under the standard policy, why)
const CASES: &[(&str, Expected, &str)] = &[
    (
        "So the result is \\boxed{42}.",
        Some(("42", Rule::Boxed)),
        "plain box",
    ),
    (
        "\\boxed{1} then corrected: \\boxed{2}",
        Some(("2", Rule::Boxed)),
        "the last box wins",
    ),
    (
        "\\boxed{\\frac{1}{2}}",
        Some(("\\frac{1}{2}", Rule::Boxed)),
        "nested braces",
    ),
    (
        "$\\boxed{\\{1,2\\}}$",
        Some(("\\{1,2\\}", Rule::Boxed)),
        "escaped braces do not close the box",
    ),
    (
        "\\fbox{7}",
        Some(("7", Rule::Boxed)),
        "fbox counts as a box",
    ),
    (
        "The answer is $\\boxed 5$.",
        Some(("5", Rule::Boxed)),
        "TeX short form \\boxed 5 stops at $",
    ),
    (
        "\\boxed{ 12 }",
        Some(("12", Rule::Boxed)),
        "content is trimmed",
    ),
    (
        "\\boxed{3} and then \\boxed{4",
        Some(("3", Rule::Boxed)),
        "unclosed (truncated) last box falls back to the complete one",
    ),
    (
        "\\boxed{}",
        None,
        "an empty box is not an answer, and there is no number",
    ),
    (
        "\\boxedx{3}",
        Some(("3", Rule::LastNumber)),
        "\\boxedx is another command; last number applies",
    ),
    (
        "<answer> 17 </answer>",
        Some(("17", Rule::AnswerTag)),
        "answer tag, trimmed",
    ),
    (
        "<answer>1</answer> <ANSWER>2</ANSWER>",
        Some(("2", Rule::AnswerTag)),
        "last tag, case-insensitive",
    ),
    (
        "<answer>\n(1, 2)\n</answer>",
        Some(("(1, 2)", Rule::AnswerTag)),
        "multi-line tag content",
    ),
    (
        "<answer>5",
        Some(("5", Rule::LastNumber)),
        "unclosed tag is not an answer tag",
    ),
    (
        "\\boxed{3} <answer>4</answer>",
        Some(("3", Rule::Boxed)),
        "box is tried before the tag",
    ),
    (
        "Thus the answer is 12.",
        Some(("12", Rule::AnswerIs)),
        "answer-is phrase, full stop removed",
    ),
    (
        "The final answer is 3.5.",
        Some(("3.5", Rule::AnswerIs)),
        "decimal point kept, full stop removed",
    ),
    (
        "The final answer is $\\frac{1}{2}$. I hope it is correct.",
        Some(("\\frac{1}{2}", Rule::AnswerIs)),
        "Minerva format: math span",
    ),
    (
        "Final Answer: 7\nSome trailing text",
        Some(("7", Rule::AnswerIs)),
        "final answer colon, cut at line end",
    ),
    (
        "the answer is **42**",
        Some(("42", Rule::AnswerIs)),
        "markdown bold removed",
    ),
    (
        "The answer is (1, 2), as shown.",
        Some(("(1, 2)", Rule::AnswerIs)),
        "comma inside brackets does not end the answer",
    ),
    (
        "The answer is 10, which is even.",
        Some(("10", Rule::AnswerIs)),
        "comma-space ends the answer",
    ),
    (
        "The answer is 1. Wait, the answer is 2.",
        Some(("2", Rule::AnswerIs)),
        "last phrase wins",
    ),
    (
        "I have 3 apples and 5 pears, total 8",
        Some(("8", Rule::LastNumber)),
        "last number",
    ),
    (
        "It costs 1,234 dollars",
        Some(("1,234", Rule::LastNumber)),
        "thousands separator kept",
    ),
    (
        "The value is -3.25 here",
        Some(("-3.25", Rule::LastNumber)),
        "negative decimal",
    ),
    (
        "so 5-3",
        Some(("3", Rule::LastNumber)),
        "a dash after a digit is minus, not a sign",
    ),
    (
        "so x=-3",
        Some(("-3", Rule::LastNumber)),
        "a dash after = is a sign",
    ),
    (
        "about 3/4 of them",
        Some(("3/4", Rule::LastNumber)),
        "slash fraction",
    ),
    (
        "it equals $\\frac{3}{4}$ total",
        Some(("\\frac{3}{4}", Rule::LastNumber)),
        "LaTeX fraction as last number",
    ),
    ("no digits here", None, "nothing to extract"),
    ("", None, "empty completion"),
];

#[test]
fn hand_labelled_extractions() {
    let mut failures = Vec::new();
    for &(text, expected, why) in CASES {
        let got = standard().extract(text).map(|e| (e.answer, e.rule));
        if got != expected {
            failures.push(format!(
                "{text:?}: expected {expected:?}, got {got:?} ({why})"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn spans_point_into_the_completion() {
    for &(text, _, _) in CASES {
        if let Some(e) = standard().extract(text) {
            assert_eq!(&text[e.span.clone()], e.answer);
        }
    }
}

#[test]
fn boxed_only_policy_ignores_other_markers() {
    let p = ExtractionPolicy::boxed();
    assert_eq!(p.extract("The answer is 5"), None, "no box, strict policy");
    assert_eq!(p.extract("<answer>5</answer>").map(|e| e.answer), None);
    assert_eq!(p.extract("\\boxed{5}").map(|e| e.answer), Some("5"));
}

#[test]
fn policy_order_decides() {
    let text = "The answer is 3; see \\boxed{4}";
    let phrase_first: ExtractionPolicy = "answer_is_then_boxed".parse().unwrap();
    assert_eq!(
        phrase_first.extract(text).map(|e| (e.answer, e.rule)),
        Some(("3", Rule::AnswerIs))
    );
    let p = ExtractionPolicy::boxed_then_last_number();
    assert_eq!(p.extract(text).map(|e| e.rule), Some(Rule::Boxed));
    assert_eq!(
        p.extract("no box, 9 items").map(|e| (e.answer, e.rule)),
        Some(("9", Rule::LastNumber))
    );
}

#[test]
fn policy_names_round_trip_and_errors_are_clear() {
    for name in [
        "boxed",
        "answer_tag",
        "boxed_then_last_number",
        "boxed_then_answer_tag_then_answer_is_then_last_number",
    ] {
        let p: ExtractionPolicy = name.parse().unwrap();
        assert_eq!(p.to_string(), name);
    }
    assert_eq!(
        "standard".parse::<ExtractionPolicy>().unwrap(),
        ExtractionPolicy::standard()
    );
    let err = "boxed_then_lastnumber"
        .parse::<ExtractionPolicy>()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`lastnumber`") && err.contains("last_number"),
        "{err}"
    );
    assert!("boxed_then_boxed".parse::<ExtractionPolicy>().is_err());

    let from_list: ExtractionPolicy = serde_json::from_str(r#"["answer_tag", "boxed"]"#).unwrap();
    assert_eq!(from_list.rules(), &[Rule::AnswerTag, Rule::Boxed]);
    let from_str: ExtractionPolicy = serde_json::from_str(r#""boxed_then_last_number""#).unwrap();
    assert_eq!(from_str, ExtractionPolicy::boxed_then_last_number());
}

#[test]
fn many_unclosed_boxes_stay_fast() {
    // Quadratic scanning would take seconds here; the one-pass brace matcher is linear.
    let text = "\\boxed{".repeat(20_000);
    let start = std::time::Instant::now();
    assert_eq!(standard().extract(&text), None);
    assert!(start.elapsed().as_secs_f64() < 2.0);
}
