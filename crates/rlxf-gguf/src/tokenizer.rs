//! `tokenizer.json`, `tokenizer_config.json` and `chat_template.jinja` from the GGUF's
//! `tokenizer.ggml.*` metadata, in the schema of Hugging Face `tokenizers`.
//!
//! Byte-level BPE (`tokenizer.ggml.model = gpt2`) is rebuilt exactly: the vocabulary and merges
//! are copied, and the pre-tokenizer is chosen from `tokenizer.ggml.pre` to be the one in the
//! model's original `tokenizer.json` (the regexes llama.cpp's `llama-vocab.cpp` mirrors).
//! SentencePiece vocabularies (`llama`) become BPE with byte fallback, as transformers converts
//! them, with merges recovered from the piece scores.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Map, Value};

use crate::error::GgufError;
use crate::metadata::Metadata;

/// llama.cpp token types (`llama_token_type`).
const TOKEN_TYPE_UNKNOWN: i64 = 2;
const TOKEN_TYPE_CONTROL: i64 = 3;
const TOKEN_TYPE_USER_DEFINED: i64 = 4;

// GPT-2's own split regex is built into `ByteLevel { use_regex: true }`.
/// Qwen2 / Qwen2.5 (single digits).
const QWEN2_REGEX: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// Llama 3 (digits in groups of up to three).
const LLAMA3_REGEX: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// The `tokenizer.ggml.pre` values we can reproduce.
const SUPPORTED_PRE: &str =
    "gpt-2, smollm, starcoder, refact, codeshell, qwen2, deepseek-r1-qwen, llama-bpe";

/// The three tokenizer files of an HF model folder.
#[derive(Debug, Clone)]
pub struct TokenizerFiles {
    pub tokenizer_json: Value,
    pub tokenizer_config: Value,
    pub chat_template: Option<String>,
}

fn byte_level(trim_offsets: bool, use_regex: bool) -> Value {
    json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": trim_offsets, "use_regex": use_regex})
}

fn split(regex: &str) -> Value {
    json!({"type": "Split", "pattern": {"Regex": regex}, "behavior": "Isolated", "invert": false})
}

/// (normalizer, pre_tokenizer, ignore_merges) of the original HF tokenizer for a llama.cpp
/// pre-tokenizer name.
fn pre_tokenization(pre: &str) -> Option<(Value, Value, bool)> {
    Some(match pre {
        "gpt-2" | "gpt2" => (Value::Null, byte_level(true, true), false),
        // StarCoder-family tokenizers isolate every digit before the GPT-2 split
        // (llama.cpp: "\p{N}" then the GPT-2 regex).
        "smollm" | "starcoder" | "refact" | "codeshell" => (
            Value::Null,
            json!({"type": "Sequence", "pretokenizers": [
                {"type": "Digits", "individual_digits": true},
                byte_level(true, true),
            ]}),
            false,
        ),
        "qwen2" | "deepseek-r1-qwen" => (
            json!({"type": "NFC"}),
            json!({"type": "Sequence", "pretokenizers": [split(QWEN2_REGEX), byte_level(false, false)]}),
            false,
        ),
        "llama-bpe" | "llama3" => (
            Value::Null,
            json!({"type": "Sequence", "pretokenizers": [split(LLAMA3_REGEX), byte_level(true, false)]}),
            true,
        ),
        _ => return None,
    })
}

/// Builds the tokenizer files. `model_max_length` is the model's context length.
pub fn build(meta: &Metadata, model_max_length: usize) -> Result<TokenizerFiles, GgufError> {
    let err = |problem: String| GgufError::Tokenizer {
        path: meta.path.clone(),
        problem,
    };
    let model = meta.str("tokenizer.ggml.model")?;
    let tokens = meta
        .opt_str_array("tokenizer.ggml.tokens")?
        .ok_or_else(|| GgufError::MissingMetadata {
            path: meta.path.clone(),
            key: "tokenizer.ggml.tokens".into(),
        })?;
    let types = meta.opt_int_array("tokenizer.ggml.token_type")?;
    if let Some(t) = &types {
        if t.len() != tokens.len() {
            return Err(err(format!(
                "{} token types for {} tokens",
                t.len(),
                tokens.len()
            )));
        }
    }
    let token_type = |id: usize| types.as_ref().and_then(|t| t.get(id).copied()).unwrap_or(1);

    let special_id = |key: &str| -> Result<Option<(u64, String)>, GgufError> {
        match meta.opt_u64(key)? {
            None => Ok(None),
            Some(id) => match tokens.get(id as usize) {
                Some(t) => Ok(Some((id, t.to_string()))),
                None => Err(err(format!(
                    "{key} is {id}, outside the vocabulary of {}",
                    tokens.len()
                ))),
            },
        }
    };
    let bos = special_id("tokenizer.ggml.bos_token_id")?;
    let eos = special_id("tokenizer.ggml.eos_token_id")?;
    let pad = special_id("tokenizer.ggml.padding_token_id")?;
    let unk = special_id("tokenizer.ggml.unknown_token_id")?;
    // llama.cpp adds BOS by default for SentencePiece vocabularies, not for byte-level BPE.
    let add_bos = meta
        .opt_bool("tokenizer.ggml.add_bos_token")?
        .unwrap_or(model == "llama");
    let add_eos = meta
        .opt_bool("tokenizer.ggml.add_eos_token")?
        .unwrap_or(false);

    let (normalizer, pre_tokenizer, model_json, decoder) = match model {
        "gpt2" => {
            let pre = meta.opt_str("tokenizer.ggml.pre")?.unwrap_or("gpt-2");
            let (normalizer, pre_tokenizer, ignore_merges) = pre_tokenization(pre).ok_or_else(|| {
                err(format!("pre-tokenizer '{pre}' (tokenizer.ggml.pre) is not supported (supported: {SUPPORTED_PRE})"))
            })?;
            let merges = meta
                .opt_str_array("tokenizer.ggml.merges")?
                .ok_or_else(|| GgufError::MissingMetadata {
                    path: meta.path.clone(),
                    key: "tokenizer.ggml.merges".into(),
                })?;
            let merges = merges
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    // Byte-level symbols never contain a space (it is mapped to 'Ġ').
                    let (a, b) = m
                        .split_once(' ')
                        .ok_or_else(|| err(format!("merge #{i} '{m}' is not two symbols")))?;
                    Ok(json!([a, b]))
                })
                .collect::<Result<Vec<_>, GgufError>>()?;
            let mut vocab = Map::with_capacity(tokens.len());
            for (id, t) in tokens.iter().enumerate() {
                // A repeated string keeps its first id, as HF's converters do.
                vocab.entry(t.to_string()).or_insert(json!(id));
            }
            let model_json = json!({
                "type": "BPE",
                "dropout": null,
                "unk_token": null,
                "continuing_subword_prefix": "",
                "end_of_word_suffix": "",
                "fuse_unk": false,
                "byte_fallback": false,
                "ignore_merges": ignore_merges,
                "vocab": vocab,
                "merges": merges,
            });
            let decoder = json!({"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true});
            (normalizer, pre_tokenizer, model_json, decoder)
        }
        "llama" => {
            let scores = meta
                .opt_f64_array("tokenizer.ggml.scores")?
                .ok_or_else(|| GgufError::MissingMetadata {
                    path: meta.path.clone(),
                    key: "tokenizer.ggml.scores".into(),
                })?;
            if scores.len() != tokens.len() {
                return Err(err(format!(
                    "{} scores for {} tokens",
                    scores.len(),
                    tokens.len()
                )));
            }
            let add_space_prefix = meta
                .opt_bool("tokenizer.ggml.add_space_prefix")?
                .unwrap_or(true);
            let (pre, model_json, decoder) =
                sentencepiece(&tokens, &scores, unk.as_ref(), add_space_prefix);
            (Value::Null, pre, model_json, decoder)
        }
        other => {
            return Err(err(format!(
                "tokenizer model '{other}' is not supported (supported: gpt2, llama)"
            )))
        }
    };

    // Control tokens (chat markers, <|endoftext|>, <s>) and <unk> are special: skipped when
    // decoding with skip_special_tokens. User-defined ones (Qwen's <tool_call>) must still be
    // matched whole but stay visible in decoded text, as in the original tokenizers.
    let byte_alphabet: HashSet<char> = bytes_to_unicode().into_iter().collect();
    let added_tokens: Vec<Value> = tokens
        .iter()
        .enumerate()
        .filter_map(|(id, &content)| {
            let special = match token_type(id) {
                TOKEN_TYPE_CONTROL | TOKEN_TYPE_UNKNOWN => true,
                TOKEN_TYPE_USER_DEFINED => false,
                _ => return None,
            };
            // In a byte-level vocabulary every real token is spelled in the byte alphabet; a
            // "control" token that is not is a llama.cpp mislabel (as transformers also assumes).
            if model == "gpt2" && special && !content.chars().all(|c| byte_alphabet.contains(&c)) {
                return None;
            }
            Some(json!({
                "id": id,
                "content": content,
                "single_word": false,
                "lstrip": false,
                "rstrip": false,
                "normalized": false,
                "special": special,
            }))
        })
        .collect();

    let tokenizer_json = json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added_tokens,
        "normalizer": normalizer,
        "pre_tokenizer": pre_tokenizer,
        "post_processor": post_processor(add_bos.then_some(bos.as_ref()).flatten(), add_eos.then_some(eos.as_ref()).flatten()),
        "decoder": decoder,
        "model": model_json,
    });

    let chat_template = meta.opt_str("tokenizer.chat_template")?.map(str::to_string);
    let name = |t: &Option<(u64, String)>| t.as_ref().map(|(_, s)| s.clone());
    let mut cfg = Map::new();
    cfg.insert("backend".into(), json!("tokenizers"));
    cfg.insert("bos_token".into(), json!(name(&bos)));
    if let Some(t) = &chat_template {
        cfg.insert("chat_template".into(), json!(t));
    }
    cfg.insert("clean_up_tokenization_spaces".into(), json!(false));
    cfg.insert("eos_token".into(), json!(name(&eos)));
    cfg.insert("model_max_length".into(), json!(model_max_length));
    cfg.insert("pad_token".into(), json!(name(&pad)));
    cfg.insert("tokenizer_class".into(), json!("TokenizersBackend"));
    cfg.insert("unk_token".into(), json!(name(&unk)));

    Ok(TokenizerFiles {
        tokenizer_json,
        tokenizer_config: Value::Object(cfg),
        chat_template,
    })
}

/// Adds BOS/EOS around each sequence only when the GGUF asks for it (`add_bos_token`).
fn post_processor(bos: Option<&(u64, String)>, eos: Option<&(u64, String)>) -> Value {
    let special =
        |t: &(u64, String), type_id: u32| json!({"SpecialToken": {"id": t.1, "type_id": type_id}});
    let seq = |id: &str, type_id: u32| json!({"Sequence": {"id": id, "type_id": type_id}});
    let mut single = Vec::new();
    let mut pair = Vec::new();
    for (id, type_id) in [("A", 0), ("B", 1)] {
        let part: Vec<Value> = bos
            .map(|t| special(t, type_id))
            .into_iter()
            .chain([seq(id, type_id)])
            .chain(eos.map(|t| special(t, type_id)))
            .collect();
        if id == "A" {
            single.clone_from(&part);
        }
        pair.extend(part);
    }
    let mut specials = Map::new();
    for t in bos.into_iter().chain(eos) {
        specials.insert(
            t.1.clone(),
            json!({"id": t.1, "ids": [t.0], "tokens": [t.1]}),
        );
    }
    json!({"type": "TemplateProcessing", "single": single, "pair": pair, "special_tokens": specials})
}

/// GPT-2's byte -> printable character table (`bytes_to_unicode`): the alphabet byte-level
/// BPE vocabularies are spelled in.
fn bytes_to_unicode() -> Vec<char> {
    let printable = |b: u32| {
        (0x21..=0x7E).contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b)
    };
    let mut shifted = 256;
    (0..256u32)
        .map(|b| {
            let c = if printable(b) {
                b
            } else {
                shifted += 1;
                shifted - 1
            };
            char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER)
        })
        .collect()
}

/// A SentencePiece (`llama`) vocabulary as HF's BPE with byte fallback, the way transformers
/// converts Llama/Mistral tokenizers: merges are recovered from the pieces and their scores
/// (every split of a piece into two pieces is a merge, ranked by the piece's score).
fn sentencepiece(
    tokens: &[&str],
    scores: &[f64],
    unk: Option<&(u64, String)>,
    add_space_prefix: bool,
) -> (Value, Value, Value) {
    let mut vocab_ids: HashMap<&str, usize> = HashMap::with_capacity(tokens.len());
    for (id, t) in tokens.iter().enumerate() {
        vocab_ids.insert(t, id); // later ids win, as in transformers' dict
    }
    // (left, right, score) in transformers' `generate_merges` order: pieces in vocabulary
    // order, the splits of one piece by the ids of their halves, then a stable sort by
    // (score, len(left), len(right)), descending.
    let mut merges: Vec<(&str, &str, f64)> = Vec::new();
    for (&piece, &score) in tokens.iter().zip(scores) {
        let mut local: Vec<(&str, &str, f64)> = piece
            .char_indices()
            .skip(1)
            .map(|(i, _)| piece.split_at(i))
            .filter(|(l, r)| vocab_ids.contains_key(l) && vocab_ids.contains_key(r))
            .map(|(l, r)| (l, r, score))
            .collect();
        local.sort_by_key(|(l, r, _)| (vocab_ids[l], vocab_ids[r]));
        merges.extend(local);
    }
    let key = |m: &(&str, &str, f64)| (m.2, m.0.chars().count(), m.1.chars().count());
    merges.sort_by(|a, b| {
        let (ka, kb) = (key(a), key(b));
        kb.0.total_cmp(&ka.0)
            .then(kb.1.cmp(&ka.1))
            .then(kb.2.cmp(&ka.2))
    });

    let mut vocab = Map::with_capacity(tokens.len());
    for (id, t) in tokens.iter().enumerate() {
        vocab.insert(t.to_string(), json!(id));
    }
    let model = json!({
        "type": "BPE",
        "dropout": null,
        "unk_token": unk.map(|u| u.1.clone()),
        "continuing_subword_prefix": null,
        "end_of_word_suffix": null,
        "fuse_unk": true,
        "byte_fallback": true,
        "ignore_merges": false,
        "vocab": vocab,
        "merges": merges.iter().map(|(l, r, _)| json!([l, r])).collect::<Vec<_>>(),
    });
    let pre = json!({
        "type": "Metaspace",
        "replacement": "\u{2581}",
        "prepend_scheme": if add_space_prefix { "first" } else { "never" },
        "split": false,
    });
    let mut decoders = vec![
        json!({"type": "Replace", "pattern": {"String": "\u{2581}"}, "content": " "}),
        json!({"type": "ByteFallback"}),
        json!({"type": "Fuse"}),
    ];
    if add_space_prefix {
        decoders.push(json!({"type": "Strip", "content": " ", "start": 1, "stop": 0}));
    }
    (
        pre,
        model,
        json!({"type": "Sequence", "decoders": decoders}),
    )
}
