#!/usr/bin/env python3
"""Does decoding several calls' replies in one llama.cpp batch pay on this machine? (issue 16, item 3)

    .venv/bin/python scripts/bench_batch_decode.py [--model qwen2.5-0.5b] [--context 300] [--steps 48]

Loads the bundled model through llama.cpp's low-level API with one KV sequence per call, prefills each
sequence with ``--context`` tokens (a persona's prompt and a few turns are about that long), then times
``--steps`` decode steps where every sequence gets one token per step: 1, 2, 3 and 4 sequences per batch.
It prints the time per step (what each caller waits between two tokens) and the aggregate tokens per second
(what the machine serves), p50 over the steps, with the machine and the threads. If the aggregate rate
grows with the batch, batching concurrent calls' decode is worth building; if a step of n sequences costs
n times a step of one, the cores are the limit and batching only changes who waits.
"""

from __future__ import annotations

import argparse
import ctypes
import statistics
import sys
import time

import llama_cpp

from voiceagent.bench.machine import describe, machine
from voiceagent.engines import bundled

FILLER_TOKEN = 1000  # any ordinary token: the cost of a step does not depend on which
_QUIET = llama_cpp.llama_log_callback(lambda *_: None)  # kept referenced while llama.cpp may call it


def _context(model: llama_cpp.llama_model_p, threads: int, sequences: int, n_ctx: int) -> llama_cpp.llama_context_p:
    params = llama_cpp.llama_context_default_params()
    params.n_ctx = n_ctx
    params.n_batch = 512
    params.n_ubatch = 512
    params.n_seq_max = sequences
    params.n_threads = threads
    params.n_threads_batch = threads
    ctx = llama_cpp.llama_init_from_model(model, params)
    if not ctx:
        raise RuntimeError("llama.cpp could not make a context")
    return ctx


def _decode(ctx: llama_cpp.llama_context_p, batch: llama_cpp.llama_batch, items: list[tuple[int, int, bool]]) -> None:
    """One llama_decode of ``items``: (sequence, position, wants logits) for one filler token each."""
    batch.n_tokens = len(items)
    for i, (seq, pos, logits) in enumerate(items):
        batch.token[i] = FILLER_TOKEN
        batch.pos[i] = pos
        batch.n_seq_id[i] = 1
        batch.seq_id[i][0] = seq
        batch.logits[i] = logits
    if llama_cpp.llama_decode(ctx, batch) != 0:
        raise RuntimeError("llama_decode failed")


def measure(model: llama_cpp.llama_model_p, threads: int, sequences: int, context: int, steps: int) -> list[float]:
    """Seconds per decode step with ``sequences`` sequences, each prefilled with ``context`` tokens."""
    ctx = _context(model, threads, sequences, sequences * (context + steps + 8))
    batch = llama_cpp.llama_batch_init(512, 0, sequences)
    try:
        for seq in range(sequences):  # prefill, in chunks of the batch size
            for start in range(0, context, 512):
                end = min(context, start + 512)
                _decode(ctx, batch, [(seq, pos, pos == context - 1) for pos in range(start, end)])
        times = []
        for step in range(steps):
            started = time.perf_counter()
            _decode(ctx, batch, [(seq, context + step, True) for seq in range(sequences)])
            times.append(time.perf_counter() - started)
        return times
    finally:
        llama_cpp.llama_batch_free(batch)
        llama_cpp.llama_free(ctx)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=bundled.DEFAULT_LLM, help="a bundled model name")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--context", type=int, default=300, help="tokens already in each sequence")
    parser.add_argument("--steps", type=int, default=48, help="decode steps timed per batch size")
    parser.add_argument("--max-sequences", type=int, default=4)
    args = parser.parse_args()
    llama_cpp.llama_backend_init()
    llama_cpp.llama_log_set(_QUIET, ctypes.c_void_p(0))
    model = llama_cpp.llama_model_load_from_file(str(bundled.gguf_path(args.model)).encode(),
                                                 llama_cpp.llama_model_default_params())
    if not model:
        print(f"could not load {args.model}", file=sys.stderr)
        return 1
    print(f"machine: {describe(machine())}; model {args.model}, {args.threads} threads, "
          f"{args.context} tokens of context per sequence, {args.steps} steps")
    print(f"{'sequences':>9s} {'step p50 (ms)':>14s} {'per caller tok/s':>17s} {'aggregate tok/s':>16s} {'vs one':>7s}")
    single = None
    try:
        for n in range(1, args.max_sequences + 1):
            step = statistics.median(measure(model, args.threads, n, args.context, args.steps))
            aggregate = n / step
            single = single or aggregate
            print(f"{n:9d} {step * 1000:14.1f} {1 / step:17.1f} {aggregate:16.1f} {aggregate / single:6.2f}x")
    finally:
        llama_cpp.llama_model_free(model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
