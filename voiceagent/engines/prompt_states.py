"""Evaluated persona prompts kept on disk, so a restarted server does not evaluate them again.

Warming the model evaluates every persona's system prompt: about 10 s of the server's 14 s start on two
cores with the three bundled personas. The state after each (llama.cpp's KV cache and the tokens) is
saved here, one file per prompt, and loaded instead on the next start: a server killed and restarted is
answering again in seconds.

A file is named by a digest of everything the state depends on: the model file (path, size, mtime), the
llama-cpp-python version, the context size and the messages evaluated. Anything changed is a new name, so
a stale state is never loaded. Files are NumPy archives read without pickle; one that cannot be read is
deleted and the prompt evaluated as before. The least recently used are removed past :data:`KEEP`.
The folder must be writable by the service's user only (like the rest of the cache folder).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import zipfile
from pathlib import Path
from typing import cast

import llama_cpp
import numpy as np
from llama_cpp.llama import LlamaState

from voiceagent.engines.llama_state import mapped_copy

log = logging.getLogger(__name__)

KEEP = 24  # state files kept (about 11 MB each for a 900-token prompt of the bundled 0.5B model)


def state_name(model_path: Path, n_ctx: int, conversation: str) -> str:
    """The file name of the state after ``conversation`` (the messages evaluated, as text: the chat
    template belongs to the model file) for this model file and context size."""
    st = model_path.stat()
    digest = hashlib.sha256()
    for part in (str(model_path.resolve()), str(st.st_size), str(st.st_mtime_ns), llama_cpp.__version__, str(n_ctx)):
        digest.update(part.encode() + b"\0")
    digest.update(conversation.encode())
    return f"{digest.hexdigest()[:32]}.npz"


def load(path: Path, n_vocab: int) -> LlamaState | None:
    """The state saved at ``path``, or None (missing, or unreadable: then it is deleted)."""
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            input_ids = data["input_ids"].astype(np.intc)
            blob = data["llama_state"].tobytes()
            n_tokens, seed = int(data["n_tokens"]), int(data["seed"])
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        log.warning("saved prompt state %s is unreadable (%s): evaluating the prompt again", path.name, exc)
        path.unlink(missing_ok=True)
        return None
    os.utime(path)  # recently used
    return LlamaState(input_ids=input_ids, scores=np.zeros((1, n_vocab), dtype=np.single), n_tokens=n_tokens,
                      llama_state=cast(bytes, mapped_copy(blob, len(blob))), llama_state_size=len(blob), seed=seed)


def save(path: Path, state: LlamaState) -> None:
    """Write ``state`` whole (a temporary file renamed into place), then keep the folder to :data:`KEEP`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".part")
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
        np.savez(out, input_ids=np.asarray(state.input_ids, dtype=np.int32),
                 llama_state=np.frombuffer(state.llama_state, dtype=np.uint8, count=state.llama_state_size),
                 n_tokens=np.int64(state.n_tokens), seed=np.int64(state.seed))
    os.replace(temporary, path)
    _prune(path.parent)


def _prune(folder: Path) -> None:
    files = sorted(folder.glob("*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[KEEP:]:
        with contextlib.suppress(OSError):
            old.unlink()
