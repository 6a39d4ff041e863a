"""PCM frames and streaming resampling."""
