"""Transports: the wire formats in front of the call pipeline (the native WebSocket protocol first)."""
