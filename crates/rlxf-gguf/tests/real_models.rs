//! Imports of the real models fetched by `scripts/fetch-models.sh` (ignored by default):
//! SmolLM2-135M-Instruct against the reference conversion in /work/shared/fixtures (config,
//! tokenizer ids, templates) and, when the repo venv has gguf-py, every weight bit for bit
//! against gguf-py's dequantization; Qwen2.5-Coder-0.5B-Instruct (only after `--qwen`).
//!
//! Run: `scripts/fetch-models.sh && cargo test -p rlxf-gguf -- --ignored`

use std::path::{Path, PathBuf};
use std::process::Command;

use rlxf_gguf::{import_gguf, ImportOptions};
use serde_json::Value;
use tokenizers::Tokenizer;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The reference conversion of SmolLM2: `RLXF_SMOLLM2_FIXTURE`, else `shared/fixtures` beside the
/// repository (where developer machines and CI have it). Missing is a failure, not a skip.
fn smollm_fixture() -> PathBuf {
    let path = std::env::var_os("RLXF_SMOLLM2_FIXTURE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/fixtures/smollm2-135m-instruct"));
    assert!(
        path.join("tokenizer.json").exists(),
        "{}: reference fixture missing; set RLXF_SMOLLM2_FIXTURE to the folder holding it",
        path.display()
    );
    path
}

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Text that exercises the pre-tokenizer and added-token matching.
const CORPUS: &[&str] = &[
    "Hello, world! The quick brown fox jumps over the lazy dog.",
    "What is the capital of France? The capital of France is Paris.",
    "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
    "fn main() {\n\tlet v: Vec<u32> = (0..10).map(|x| x * x).collect();\n\tprintln!(\"{v:?}\");\n}\n",
    "SELECT id, name FROM users WHERE age >= 18 ORDER BY name DESC; -- comment",
    "1234567890 3.14159 -42 1e-5 0x1F 2024-11-23 $1,000,000.00 12:30pm 100% 7/8",
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May.",
    r"$\frac{a}{b} + \sqrt{x^2 + y^2} = \int_0^\infty e^{-x}\,dx$ so the answer is \boxed{42}.",
    r"\begin{align} f(x) &= \sum_{n=0}^{N} a_n x^n \\ g &= \alpha\beta\gamma \end{align}",
    "Ünïcödé: naïve café, 日本語のテキスト, 中文字符, русский текст, العربية, ελληνικά, 한국어",
    "emoji 🤖🚀👍🏽 and ZWJ 👨‍👩‍👧 and flags 🇫🇷",
    "   leading spaces, trailing   \t\ttabs\n\n\n  multiple\r\nnewlines     ",
    "\u{a0}\u{2003}\u{3000} odd spaces\u{200b}zero width",
    "<|im_start|>system\nYou are a helpful AI assistant.<|im_end|>\n<|im_start|>user\nWhat's 2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n",
    "<|endoftext|>text after end<|im_end|><|im_start|>",
    "I'm we're they've she'll he'd it's DON'T WON'T y'all",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa ababababababababab",
    "",
    " ",
    "x",
];

fn encode_all(tok: &Tokenizer, text: &str) -> Vec<u32> {
    tok.encode(text, true).unwrap().get_ids().to_vec()
}

fn reference_weights_check(gguf: &Path, out: &Path) {
    let python = repo_root().join(".venv/bin/python");
    let has_gguf = python.exists()
        && Command::new(&python)
            .args(["-c", "import gguf"])
            .output()
            .is_ok_and(|o| o.status.success());
    if !has_gguf {
        eprintln!("weights not cross-checked: no .venv with gguf-py (run scripts/setup-venv.sh)");
        return;
    }
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference/gguf_reference.py");
    let o = Command::new(&python)
        .arg(script)
        .arg("check-import")
        .arg(gguf)
        .arg(out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "weights differ from gguf-py:\n{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    eprintln!("{stdout}");
}

#[test]
#[ignore = "needs models: run scripts/fetch-models.sh"]
fn smollm2_matches_reference_conversion() {
    let gguf = repo_root().join("models/cache/SmolLM2-135M-Instruct.Q4_1.gguf");
    assert!(
        gguf.exists(),
        "{} is missing: run scripts/fetch-models.sh",
        gguf.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("smollm2");
    let report = import_gguf(&gguf, &out, &ImportOptions::default()).unwrap();
    assert_eq!(report.architecture, "llama");
    assert_eq!(report.tensors, 272);
    assert_eq!(report.parameters, 134_515_008);
    let types: Vec<(&str, usize)> = report
        .quant_types
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(types, [("F32", 61), ("Q4_1", 210), ("Q8_0", 1)]);

    let config = json(&out.join("config.json"));
    for (k, v) in [
        ("vocab_size", 49152),
        ("hidden_size", 576),
        ("num_hidden_layers", 30),
        ("num_key_value_heads", 3),
    ] {
        assert_eq!(config[k], v, "config.json {k}");
    }
    let ours = Tokenizer::from_file(out.join("tokenizer.json")).unwrap();
    for text in CORPUS {
        let ids = encode_all(&ours, text);
        assert_eq!(
            ours.decode(&ids, false).unwrap(),
            *text,
            "round trip of {text:?}"
        );
    }
    assert_eq!(encode_all(&ours, "<|im_start|>user"), [1, 4093]);

    compare_with_fixture(&out, &smollm_fixture());
    reference_weights_check(&gguf, &out);
}

/// Config, templates and token ids against the reference conversion.
fn compare_with_fixture(out: &Path, fixture: &Path) {
    // config.json agrees on every field of the reference (which has only architectural ones).
    let ours = json(&out.join("config.json"));
    let reference = json(&fixture.join("config.json"));
    for (k, v) in reference.as_object().unwrap() {
        assert_eq!(&ours[k], v, "config.json field {k}");
    }
    assert_eq!(
        json(&out.join("generation_config.json")),
        json(&fixture.join("generation_config.json"))
    );

    let ours = json(&out.join("tokenizer_config.json"));
    let reference = json(&fixture.join("tokenizer_config.json"));
    for k in [
        "backend",
        "bos_token",
        "eos_token",
        "pad_token",
        "unk_token",
        "tokenizer_class",
    ] {
        assert_eq!(ours[k], reference[k], "tokenizer_config.json {k}");
    }
    let template = std::fs::read_to_string(out.join("chat_template.jinja")).unwrap();
    assert_eq!(
        template,
        std::fs::read_to_string(fixture.join("chat_template.jinja")).unwrap()
    );
    assert_eq!(ours["chat_template"], template.as_str());

    let ours = Tokenizer::from_file(out.join("tokenizer.json")).unwrap();
    let reference = Tokenizer::from_file(fixture.join("tokenizer.json")).unwrap();
    assert_eq!(ours.get_vocab_size(true), reference.get_vocab_size(true));
    for text in CORPUS {
        assert_eq!(
            encode_all(&ours, text),
            encode_all(&reference, text),
            "ids differ on {text:?}"
        );
    }
    // The one known difference: SmolLM2's own tokenizer (and llama.cpp's "smollm" pre-tokenizer)
    // isolates every Unicode digit before the GPT-2 split; the reference conversion (made by
    // transformers' GGUF loader, which ignores tokenizer.ggml.pre for this vocabulary) does not.
    // They differ only where a non-ASCII digit such as '½' follows a space (ASCII digits have no
    // merges in this vocabulary). ('½' is U+00BD, bytes C2 BD, spelled "Â½" in byte-level symbols.)
    let id = |t: &str| reference.token_to_id(t).unwrap();
    assert_eq!(encode_all(&ours, " ½"), [id("Ġ"), id("Â½")]);
    assert_eq!(encode_all(&reference, " ½"), [id("ĠÂ"), id("½")]);
}

#[test]
#[ignore = "needs models: run scripts/fetch-models.sh --qwen"]
fn qwen25_coder_imports() {
    let gguf = repo_root().join("models/cache/qwen2.5-coder-0.5b-instruct.Q4_K_M.gguf");
    assert!(gguf.exists(), "{} is missing: run scripts/fetch-models.sh --qwen", gguf.display());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("qwen");
    let report = import_gguf(&gguf, &out, &ImportOptions::default()).unwrap();
    assert_eq!(report.architecture, "qwen2");
    assert_eq!(report.tensors, 291);
    assert_eq!(report.parameters, 630_167_424);

    let c = json(&out.join("config.json"));
    let want = serde_json::json!({
        "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "attention_bias": true,
        "vocab_size": 151936, "hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24,
        "num_attention_heads": 14, "num_key_value_heads": 2, "head_dim": 64, "max_position_embeddings": 32768,
        "rope_theta": 1000000.0, "tie_word_embeddings": false, "bos_token_id": 151643, "eos_token_id": 151645,
        "pad_token_id": 151643, "torch_dtype": "bfloat16",
    });
    for (k, v) in want.as_object().unwrap() {
        assert_eq!(&c[k], v, "config.json {k}");
    }

    let tok = Tokenizer::from_file(out.join("tokenizer.json")).unwrap();
    // Ids from the upstream Qwen2.5 tokenizer.
    assert_eq!(encode_all(&tok, "Hello"), [9707]);
    assert_eq!(encode_all(&tok, "<|im_start|>user\n"), [151644, 872, 198]);
    assert_eq!(tok.token_to_id("<|im_end|>"), Some(151645));
    let tool = encode_all(&tok, "<tool_call>");
    assert_eq!(tool, [151657]);
    assert_eq!(
        tok.decode(&tool, true).unwrap(),
        "<tool_call>",
        "user-defined tokens are not special"
    );
    for text in CORPUS {
        let ids = encode_all(&tok, text);
        assert_eq!(
            tok.decode(&ids, false).unwrap(),
            *text,
            "round trip of {text:?}"
        );
    }

    reference_weights_check(&gguf, &out);
}
