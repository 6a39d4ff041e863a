"""voiceagent: a self-hosted voice agent for phone calls, answering in under a second."""

__version__ = "0.1.0"
