"""Scores from Hugging Face transformers for rlxf's reward-model parity test.

Loads a reward-model folder written by rlxf (LlamaForSequenceClassification / Qwen2ForSequenceClassification,
num_labels = 1) with AutoModelForSequenceClassification and prints, as JSON, the score of each token-id
sequence given on stdin as a JSON list of lists (each sequence run alone, unpadded).

    python reward_model_reference.py DIR < sequences.json
"""
import json
import os
import sys

import torch

torch.set_num_threads(int(os.environ.get("RLXF_TEST_THREADS", "1")))


def main():
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(sys.argv[1], torch_dtype=torch.float32)
    model.eval()
    sequences = json.load(sys.stdin)
    scores = []
    with torch.no_grad():
        for seq in sequences:
            ids = torch.tensor([seq], dtype=torch.long)
            out = model(input_ids=ids, attention_mask=torch.ones_like(ids))
            scores.append(float(out.logits[0, 0]))
    json.dump({"class": type(model).__name__, "scores": scores}, sys.stdout)


if __name__ == "__main__":
    main()
