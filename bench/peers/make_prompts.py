"""Writes the rollout benchmark's prompts: N distinct rows of exactly L token ids, windows over the
repository's own documentation tokenized with the model's tokenizer, so rlxf and transformers get the
same ids and neither benefits from shared prefixes."""

import argparse
import json
import pathlib

from tokenizers import Tokenizer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="model folder with tokenizer.json")
    ap.add_argument("--rows", type=int, default=64)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    root = pathlib.Path(__file__).resolve().parents[2]
    text = "\n\n".join(p.read_text() for p in sorted((root / "docs").glob("*.md")))
    ids = Tokenizer.from_file(str(pathlib.Path(args.model) / "tokenizer.json")).encode(text).ids
    stride = 37  # rows overlap little and start at different places
    need = (args.rows - 1) * stride + args.tokens
    if len(ids) < need:
        raise SystemExit(f"docs/ give {len(ids)} tokens, fewer than the {need} the prompts need")
    rows = [ids[i * stride : i * stride + args.tokens] for i in range(args.rows)]
    pathlib.Path(args.out).write_text(json.dumps(rows))


if __name__ == "__main__":
    main()
