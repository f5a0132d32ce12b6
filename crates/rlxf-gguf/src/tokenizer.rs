//! `tokenizer.json`, `tokenizer_config.json` and `chat_template.jinja` from the GGUF's
//! `tokenizer.ggml.*` metadata, in the schema of Hugging Face `tokenizers`.
//!
//! Byte-level BPE (`tokenizer.ggml.model = gpt2`) is rebuilt exactly: the vocabulary and merges
//! are copied, and the pre-tokenizer is chosen from `tokenizer.ggml.pre` to be the one in the
//! model's original `tokenizer.json` (the regexes llama.cpp's `llama-vocab.cpp` mirrors).

use serde_json::{json, Map, Value};

use crate::error::GgufError;
use crate::metadata::Metadata;

/// llama.cpp token types (`llama_token_type`).
const TOKEN_TYPE_CONTROL: i64 = 3;
const TOKEN_TYPE_USER_DEFINED: i64 = 4;

// GPT-2's own split regex is built into `ByteLevel { use_regex: true }`.
/// Qwen2 / Qwen2.5 (single digits).
const QWEN2_REGEX: &str =
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// Llama 3 (digits in groups of up to three).
const LLAMA3_REGEX: &str =
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// The `tokenizer.ggml.pre` values we can reproduce.
const SUPPORTED_PRE: &str = "gpt-2, smollm, starcoder, refact, codeshell, qwen2, deepseek-r1-qwen, llama-bpe";

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
    let err = |problem: String| GgufError::Tokenizer { path: meta.path.clone(), problem };
    let model = meta.str("tokenizer.ggml.model")?;
    let tokens = meta
        .opt_str_array("tokenizer.ggml.tokens")?
        .ok_or_else(|| GgufError::MissingMetadata { path: meta.path.clone(), key: "tokenizer.ggml.tokens".into() })?;
    let types = meta.opt_int_array("tokenizer.ggml.token_type")?;
    if let Some(t) = &types {
        if t.len() != tokens.len() {
            return Err(err(format!("{} token types for {} tokens", t.len(), tokens.len())));
        }
    }
    let token_type = |id: usize| types.as_ref().and_then(|t| t.get(id).copied()).unwrap_or(1);

    let special_id = |key: &str| -> Result<Option<(u64, String)>, GgufError> {
        match meta.opt_u64(key)? {
            None => Ok(None),
            Some(id) => match tokens.get(id as usize) {
                Some(t) => Ok(Some((id, t.to_string()))),
                None => Err(err(format!("{key} is {id}, outside the vocabulary of {}", tokens.len()))),
            },
        }
    };
    let bos = special_id("tokenizer.ggml.bos_token_id")?;
    let eos = special_id("tokenizer.ggml.eos_token_id")?;
    let pad = special_id("tokenizer.ggml.padding_token_id")?;
    let unk = special_id("tokenizer.ggml.unknown_token_id")?;
    let add_bos = meta.opt_bool("tokenizer.ggml.add_bos_token")?.unwrap_or(false);
    let add_eos = meta.opt_bool("tokenizer.ggml.add_eos_token")?.unwrap_or(false);

    let (normalizer, pre_tokenizer, model_json, decoder) = match model {
        "gpt2" => {
            let pre = meta.opt_str("tokenizer.ggml.pre")?.unwrap_or("gpt-2");
            let (normalizer, pre_tokenizer, ignore_merges) = pre_tokenization(pre).ok_or_else(|| {
                err(format!("pre-tokenizer '{pre}' (tokenizer.ggml.pre) is not supported (supported: {SUPPORTED_PRE})"))
            })?;
            let merges = meta
                .opt_str_array("tokenizer.ggml.merges")?
                .ok_or_else(|| GgufError::MissingMetadata { path: meta.path.clone(), key: "tokenizer.ggml.merges".into() })?;
            let merges = merges
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    // Byte-level symbols never contain a space (it is mapped to 'Ġ').
                    let (a, b) = m.split_once(' ').ok_or_else(|| err(format!("merge #{i} '{m}' is not two symbols")))?;
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
            return Err(err(
                "SentencePiece ('llama') tokenizers are not supported yet; only byte-level BPE ('gpt2')".into(),
            ))
        }
        other => return Err(err(format!("tokenizer model '{other}' is not supported (supported: gpt2)"))),
    };

    // Control tokens (chat markers, <|endoftext|>) are special: skipped when decoding with
    // skip_special_tokens. User-defined ones (Qwen's <tool_call>) must still be matched whole
    // but stay visible in decoded text, as in the original tokenizers.
    let added_tokens: Vec<Value> = (0..tokens.len())
        .filter_map(|id| {
            let ty = token_type(id);
            (ty == TOKEN_TYPE_CONTROL || ty == TOKEN_TYPE_USER_DEFINED).then(|| {
                json!({
                    "id": id,
                    "content": tokens[id],
                    "single_word": false,
                    "lstrip": false,
                    "rstrip": false,
                    "normalized": false,
                    "special": ty == TOKEN_TYPE_CONTROL,
                })
            })
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

    Ok(TokenizerFiles { tokenizer_json, tokenizer_config: Value::Object(cfg), chat_template })
}

/// Adds BOS/EOS around each sequence only when the GGUF asks for it (`add_bos_token`).
fn post_processor(bos: Option<&(u64, String)>, eos: Option<&(u64, String)>) -> Value {
    let special = |t: &(u64, String), type_id: u32| json!({"SpecialToken": {"id": t.1, "type_id": type_id}});
    let seq = |id: &str, type_id: u32| json!({"Sequence": {"id": id, "type_id": type_id}});
    let mut single = Vec::new();
    let mut pair = Vec::new();
    for (id, type_id) in [("A", 0), ("B", 1)] {
        let part: Vec<Value> =
            bos.map(|t| special(t, type_id)).into_iter().chain([seq(id, type_id)]).chain(eos.map(|t| special(t, type_id))).collect();
        if id == "A" {
            single.clone_from(&part);
        }
        pair.extend(part);
    }
    let mut specials = Map::new();
    for t in bos.into_iter().chain(eos) {
        specials.insert(t.1.clone(), json!({"id": t.1, "ids": [t.0], "tokens": [t.1]}));
    }
    json!({"type": "TemplateProcessing", "single": single, "pair": pair, "special_tokens": specials})
}
