//! End-to-end imports of tiny synthetic GGUF files (no downloads): names, shapes, values,
//! the Llama Q/K un-permutation, config, tokenizer, and error handling on bad files.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{
    synthetic_model, vocab, GgufBuilder, Kv, Tensor, FFN, HEADS, HEAD_DIM, HIDDEN, KV_HEADS, LAYERS,
};
use rlxf_gguf::{import_gguf, GgmlType, ImportOptions, OutputDType};
use safetensors::{Dtype, SafeTensors};
use serde_json::Value;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// (metadata, name -> (dtype, shape, raw bytes)) of a safetensors file.
type Tensors = BTreeMap<String, (Dtype, Vec<usize>, Vec<u8>)>;
fn read_safetensors(path: &Path) -> (BTreeMap<String, String>, Tensors) {
    let bytes = std::fs::read(path).unwrap();
    let (_, meta) = SafeTensors::read_metadata(&bytes).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let tensors = st
        .tensors()
        .into_iter()
        .map(|(n, v)| (n, (v.dtype(), v.shape().to_vec(), v.data().to_vec())))
        .collect();
    (
        meta.metadata()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        tensors,
    )
}

fn token_id(tok: &str) -> u32 {
    vocab().0.iter().position(|t| t == tok).unwrap() as u32
}

fn import(
    arch: &str,
    seed: u64,
    dtype: OutputDType,
) -> (
    common::Synthetic,
    tempfile::TempDir,
    rlxf_gguf::ImportReport,
) {
    let model = synthetic_model(arch, seed);
    let dir = tempfile::tempdir().unwrap();
    let gguf = write(dir.path(), "tiny.gguf", &model.gguf.to_bytes());
    let out = dir.path().join("hf");
    let report = import_gguf(&gguf, &out, &ImportOptions { dtype }).unwrap();
    (model, dir, report)
}

#[test]
fn llama_imports_exactly_in_f32() {
    let (model, dir, report) = import("llama", 7, OutputDType::F32);
    let out = dir.path().join("hf");

    assert_eq!(report.architecture, "llama");
    assert_eq!(report.tensors, model.expected.len());
    assert_eq!(
        report.tensors,
        1 + LAYERS * 9 + 1,
        "tied embeddings: no lm_head"
    );
    let params: usize = model
        .expected
        .values()
        .map(|(s, _)| s.iter().product::<usize>())
        .sum();
    assert_eq!(report.parameters, params as u64);
    let want_types: BTreeMap<String, usize> = [
        ("BF16", 1),
        ("F16", 2),
        ("F32", 4),
        ("Q4_0", 1),
        ("Q4_1", 1),
        ("Q4_K", 3),
        ("Q5_0", 1),
        ("Q5_1", 1),
        ("Q5_K", 1),
        ("Q6_K", 2),
        ("Q8_0", 3),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(report.quant_types, want_types);
    assert_eq!(report.out_dir, out);

    let (meta, tensors) = read_safetensors(&out.join("model.safetensors"));
    assert_eq!(meta.get("format").map(String::as_str), Some("pt"));
    let qt: BTreeMap<String, String> = serde_json::from_str(&meta["gguf.quant_types"]).unwrap();
    assert_eq!(qt["model.layers.0.self_attn.q_proj.weight"], "F32");
    assert_eq!(qt["model.layers.1.mlp.down_proj.weight"], "Q6_K");
    assert_eq!(
        tensors.keys().collect::<Vec<_>>(),
        model.expected.keys().collect::<Vec<_>>()
    );
    for (name, (shape, values)) in &model.expected {
        let (dtype, got_shape, data) = &tensors[name];
        assert_eq!(*dtype, Dtype::F32, "{name}");
        assert_eq!(got_shape, shape, "{name}");
        let got: Vec<u32> = data
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let want: Vec<u32> = values.iter().map(|v| v.to_bits()).collect();
        assert!(got == want, "{name}: values differ");
    }

    let config = json(&out.join("config.json"));
    let expect = serde_json::json!({
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "attention_bias": false, "mlp_bias": false,
        "vocab_size": model.vocab_size, "hidden_size": HIDDEN, "intermediate_size": FFN, "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS, "num_key_value_heads": KV_HEADS, "head_dim": HEAD_DIM, "hidden_act": "silu",
        "max_position_embeddings": 128, "rms_norm_eps": f64::from(1e-6f32), "rope_theta": 10000.0, "rope_scaling": null,
        "tie_word_embeddings": true, "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0, "torch_dtype": "float32",
    });
    for (k, v) in expect.as_object().unwrap() {
        assert_eq!(&config[k], v, "config.json {k}");
    }
    assert_eq!(
        json(&out.join("generation_config.json")),
        serde_json::json!({"bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0})
    );

    let tc = json(&out.join("tokenizer_config.json"));
    assert_eq!(tc["bos_token"], "<|im_start|>");
    assert_eq!(tc["eos_token"], "<|im_end|>");
    assert_eq!(tc["pad_token"], "<|endoftext|>");
    assert_eq!(tc["unk_token"], Value::Null);
    assert_eq!(tc["model_max_length"], 128);
    let template = std::fs::read_to_string(out.join("chat_template.jinja")).unwrap();
    assert!(template.starts_with("{% for m in messages %}"));
    assert_eq!(tc["chat_template"], template.as_str());

    check_tokenizer(&out);
}

fn check_tokenizer(out: &Path) {
    let tok = tokenizers::Tokenizer::from_file(out.join("tokenizer.json")).unwrap();
    let text = "hello the 12<|im_end|><tool_call>";
    let ids = tok.encode(text, true).unwrap().get_ids().to_vec();
    let want: Vec<u32> = ["hello", "Ġthe", "Ġ", "1", "2", "<|im_end|>", "<tool_call>"]
        .iter()
        .map(|t| token_id(t))
        .collect();
    assert_eq!(ids, want, "no BOS is added and merges apply");
    // Control tokens are dropped when skipping specials; the user-defined one is kept.
    assert_eq!(tok.decode(&ids, true).unwrap(), "hello the 12<tool_call>");
    assert_eq!(tok.decode(&ids, false).unwrap(), text);
}

#[test]
fn qwen2_keeps_biases_untied_head_and_unpermuted_qk_in_bf16() {
    let (model, dir, report) = import("qwen2", 11, OutputDType::Bf16);
    let out = dir.path().join("hf");
    assert_eq!(report.architecture, "qwen2");
    assert_eq!(
        report.tensors,
        1 + LAYERS * 12 + 2,
        "q/k/v biases and lm_head"
    );
    let (_, tensors) = read_safetensors(&out.join("model.safetensors"));
    for (name, (shape, values)) in &model.expected {
        let (dtype, got_shape, data) = &tensors[name];
        assert_eq!((*dtype, got_shape), (Dtype::BF16, shape), "{name}");
        let got: Vec<u16> = data
            .chunks_exact(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .collect();
        let want: Vec<u16> = values
            .iter()
            .map(|&v| half::bf16::from_f32(v).to_bits())
            .collect();
        assert!(got == want, "{name}: values differ");
    }
    let config = json(&out.join("config.json"));
    assert_eq!(config["architectures"][0], "Qwen2ForCausalLM");
    assert_eq!(config["attention_bias"], true);
    assert_eq!(config["tie_word_embeddings"], false);
    assert_eq!(config["torch_dtype"], "bfloat16");
    check_tokenizer(&out);
}

#[test]
fn f16_output() {
    let (model, dir, _) = import("llama", 3, OutputDType::F16);
    let (_, tensors) = read_safetensors(&dir.path().join("hf/model.safetensors"));
    let (shape, values) = &model.expected["model.layers.0.self_attn.q_proj.weight"];
    let (dtype, got_shape, data) = &tensors["model.layers.0.self_attn.q_proj.weight"];
    assert_eq!((*dtype, got_shape), (Dtype::F16, shape));
    let got: Vec<u16> = data
        .chunks_exact(2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .collect();
    let want: Vec<u16> = values
        .iter()
        .map(|&v| half::f16::from_f32(v).to_bits())
        .collect();
    assert_eq!(got, want);
}

#[test]
fn reads_v2_and_custom_alignment() {
    let mut model = synthetic_model("llama", 5);
    model.gguf.version = 2;
    model.gguf.alignment = 64;
    model.gguf.kv("general.alignment", Kv::U32(64));
    let dir = tempfile::tempdir().unwrap();
    let gguf = write(dir.path(), "v2.gguf", &model.gguf.to_bytes());
    let header = rlxf_gguf::reader::GgufFile::open(&gguf).unwrap();
    assert_eq!(
        (header.header().version, header.header().alignment),
        (2, 64)
    );
    assert_eq!(header.header().data_offset % 64, 0);
    import_gguf(&gguf, &dir.path().join("hf"), &ImportOptions::default()).unwrap();
}

#[test]
fn sentencepiece_vocabulary() {
    // A SentencePiece vocabulary: <unk>, <s>, </s>, 256 byte pieces, then scored pieces.
    let mut tokens: Vec<String> = ["<unk>", "<s>", "</s>"].map(String::from).to_vec();
    let mut types = vec![2, 3, 3];
    let mut scores = vec![0.0f32; 3];
    for b in 0..=255u8 {
        tokens.push(format!("<0x{b:02X}>"));
        types.push(6);
        scores.push(0.0);
    }
    for (piece, score) in [
        ("▁", -100.0),
        ("h", -100.0),
        ("e", -100.0),
        ("l", -100.0),
        ("o", -100.0),
        ("▁h", -1.0),
        ("ll", -2.0),
        ("he", -3.0),
        ("llo", -4.0),
        ("▁he", -5.0),
        ("▁hello", -6.0),
    ] {
        tokens.push(piece.into());
        types.push(1);
        scores.push(score);
    }
    let n_tokens = tokens.len();
    let mut model = synthetic_model("llama", 9);
    let g = &mut model.gguf;
    g.kvs.retain(|(k, _)| !k.starts_with("tokenizer.ggml."));
    g.kv("tokenizer.ggml.model", Kv::Str("llama".into()))
        .kv("tokenizer.ggml.tokens", Kv::StrArray(tokens.clone()))
        .kv("tokenizer.ggml.token_type", Kv::I32Array(types))
        .kv("tokenizer.ggml.scores", Kv::F32Array(scores))
        .kv("tokenizer.ggml.bos_token_id", Kv::U32(1))
        .kv("tokenizer.ggml.eos_token_id", Kv::U32(2))
        .kv("tokenizer.ggml.unknown_token_id", Kv::U32(0));
    // The embedding must match the new vocabulary size.
    let mut rng = common::Rng(1);
    let embd = g
        .tensors
        .iter_mut()
        .find(|t| t.name == "token_embd.weight")
        .unwrap();
    embd.dims = vec![HIDDEN as u64, n_tokens as u64];
    embd.data = common::random_blocks(&mut rng, GgmlType::Q8_0, HIDDEN * n_tokens);

    let dir = tempfile::tempdir().unwrap();
    let gguf = write(dir.path(), "spm.gguf", &g.to_bytes());
    import_gguf(&gguf, &dir.path().join("hf"), &ImportOptions::default()).unwrap();
    let tok = tokenizers::Tokenizer::from_file(dir.path().join("hf/tokenizer.json")).unwrap();
    let id = |t: &str| tokens.iter().position(|x| x == t).unwrap() as u32;
    // BOS is added (llama.cpp's default for SentencePiece); "▁" is prepended; merges recovered
    // from the scores build "▁hello"; 'i' is not a piece, so it falls back to its byte.
    let ids = tok.encode("hello hi", true).unwrap().get_ids().to_vec();
    assert_eq!(ids, [1, id("▁hello"), id("▁h"), id("<0x69>")]);
    assert_eq!(tok.decode(&ids, true).unwrap(), "hello hi");
    let tc = json(&dir.path().join("hf/tokenizer_config.json"));
    assert_eq!(
        (tc["bos_token"].as_str(), tc["unk_token"].as_str()),
        (Some("<s>"), Some("<unk>"))
    );
}

fn import_err(builder: &GgufBuilder) -> String {
    let dir = tempfile::tempdir().unwrap();
    let gguf = write(dir.path(), "model.gguf", &builder.to_bytes());
    let err = import_gguf(&gguf, &dir.path().join("hf"), &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        !dir.path().join("hf").exists(),
        "nothing is written when validation fails"
    );
    err.replace(&dir.path().display().to_string(), "DIR")
}

#[test]
fn clear_errors() {
    // Unsupported quant type: the message names the file, tensor, type and the supported list.
    let mut m = synthetic_model("llama", 1).gguf;
    let t = m
        .tensors
        .iter_mut()
        .find(|t| t.name == "blk.0.attn_q.weight")
        .unwrap();
    t.ggml_type = GgmlType(16);
    t.data = vec![0; 66 * t.dims.iter().product::<u64>() as usize / 256];
    assert_eq!(
        import_err(&m),
        "DIR/model.gguf: tensor blk.0.attn_q.weight has quant type IQ2_XXS, which rlxf cannot dequantize \
         (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K)"
    );

    let mut m = synthetic_model("llama", 1).gguf;
    m.kvs[0].1 = Kv::Str("gemma3".into());
    assert_eq!(
        import_err(&m),
        "DIR/model.gguf: architecture 'gemma3' is not supported (supported: llama, qwen2)"
    );

    let mut m = synthetic_model("llama", 1).gguf;
    m.tensors.retain(|t| t.name != "blk.1.ffn_up.weight");
    assert!(import_err(&m).contains("tensor blk.1.ffn_up.weight is missing"));

    let mut m = synthetic_model("llama", 1).gguf;
    m.tensors.push(Tensor {
        name: "rope_freqs.weight".into(),
        dims: vec![32],
        ggml_type: GgmlType::F32,
        data: vec![0; 128],
    });
    assert!(import_err(&m).contains("tensor rope_freqs.weight is not a llama tensor"));

    let mut m = synthetic_model("llama", 1).gguf;
    m.kvs.retain(|(k, _)| k != "llama.embedding_length");
    assert!(import_err(&m).contains("metadata key llama.embedding_length is missing"));

    let mut m = synthetic_model("llama", 1).gguf;
    m.kvs
        .iter_mut()
        .find(|(k, _)| k == "tokenizer.ggml.pre")
        .unwrap()
        .1 = Kv::Str("mystery".into());
    assert!(import_err(&m).contains("pre-tokenizer 'mystery'"));

    let mut m = synthetic_model("llama", 1).gguf;
    m.kvs
        .iter_mut()
        .find(|(k, _)| k == "llama.feed_forward_length")
        .unwrap()
        .1 = Kv::U32(FFN as u32 * 2);
    assert!(import_err(&m).contains("tensor blk.0.ffn_gate.weight has shape [512, 256] (HF order), but the metadata implies [1024, 256]"));

    // File-derived names are escaped so every message stays on one line.
    let mut m = synthetic_model("llama", 1).gguf;
    m.tensors[3].name = "blk.0.attn_q\n.weight".into();
    let e = import_err(&m);
    assert!(
        e.contains("tensor blk.0.attn_q\\n.weight is not a llama tensor") && !e.contains('\n'),
        "{e}"
    );

    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "x.gguf", b"PK\x03\x04 not a gguf");
    let e = import_gguf(&p, &dir.path().join("hf"), &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.ends_with("x.gguf: not a GGUF file (bad magic \"PK\\x03\\x04\"); pass a llama.cpp .gguf model file"), "{e}");

    let e = import_gguf(
        &dir.path().join("absent.gguf"),
        &dir.path().join("hf"),
        &ImportOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("absent.gguf: cannot read"), "{e}");
}

#[test]
fn truncated_files_are_errors() {
    let bytes = synthetic_model("qwen2", 2).gguf.to_bytes();
    let dir = tempfile::tempdir().unwrap();
    let path = Path::new("t.gguf");
    // Every cut inside the header: the parser alone.
    let header_len = rlxf_gguf::reader::parse_header(&bytes, path)
        .unwrap()
        .data_offset as usize;
    for cut in 0..header_len {
        let r = rlxf_gguf::reader::parse_header(&bytes[..cut], path);
        // A cut in the final alignment padding still parses; the import then fails on data.
        if cut < header_len - 32 {
            assert!(r.is_err(), "cut at {cut} parsed");
        }
    }
    // Cuts anywhere, through the whole import (coarser steps: each writes a file).
    let step = bytes.len() / 97;
    for cut in (0..bytes.len()).step_by(step).chain([bytes.len() - 1]) {
        let p = write(dir.path(), "t.gguf", &bytes[..cut]);
        let r = import_gguf(&p, &dir.path().join("hf"), &ImportOptions::default());
        let e = r.expect_err("truncated file imported").to_string();
        assert!(e.contains("t.gguf"), "{e}");
    }
}

#[test]
fn garbled_headers_never_panic() {
    let bytes = synthetic_model("llama", 4).gguf.to_bytes();
    let header_len = rlxf_gguf::reader::parse_header(&bytes, Path::new("g.gguf"))
        .unwrap()
        .data_offset as usize;
    let dir = tempfile::tempdir().unwrap();
    let mut rng = common::Rng(0xDEADBEEF);
    let mut errors = 0;
    for i in 0..400 {
        let mut b = bytes.clone();
        // Mostly single-byte changes in the header (counts, lengths, types, dims, offsets), some
        // multi-byte smears; a few land in the data.
        let n_flips = 1 + (i % 4);
        for _ in 0..n_flips {
            let at = if i % 10 == 9 {
                rng.next_u64() as usize % b.len()
            } else {
                rng.next_u64() as usize % header_len
            };
            b[at] = match rng.byte() % 4 {
                0 => 0xFF,
                1 => 0,
                _ => rng.byte(),
            };
        }
        // The parser must return (Ok or Err) without panicking on every variant...
        let parsed = rlxf_gguf::reader::parse_header(&b, Path::new("g.gguf"));
        // ...and so must the full import on a sample.
        if i % 8 == 0 || parsed.is_ok() {
            let p = write(dir.path(), "g.gguf", &b);
            if import_gguf(
                &p,
                &dir.path().join("hf"),
                &ImportOptions {
                    dtype: OutputDType::F32,
                },
            )
            .is_err()
            {
                errors += 1;
            }
        }
    }
    assert!(errors > 0, "some garbling must be detected");
}
