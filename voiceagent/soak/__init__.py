"""The latency soak test: many concurrent callers, for a long time, with tail latency and memory tracked."""
