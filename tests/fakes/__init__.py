"""Fake engines, a recording output and a call factory: call behaviour tested in milliseconds, no model weights.

- :mod:`tests.fakes.engines`: scripted voice activity, speech-to-text and speech synthesis with set
  delays and failures (a script entry can be a value, an exception, or ``HANG``).
- :mod:`tests.fakes.llm`: a scripted language model (replies word by word, failing or hanging on cue).
- :mod:`tests.fakes.audio`: caller audio the fake voice-activity detector hears as speech or silence.
- :mod:`tests.fakes.output`: a :class:`~voiceagent.pipeline.player.CallOutput` that keeps what the call sent
  and models what the caller heard.
- :mod:`tests.fakes.call`: the one place that knows how a :class:`~voiceagent.pipeline.call.Call` is built.
"""
