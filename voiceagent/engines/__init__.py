"""Thin adapters around the model engines: faster-whisper, llama.cpp, Ollama, OpenAI-compatible, piper."""
