"""``voiceagent bench calls``: the spoken end-to-end benchmark.

Scripted callers (synthesised voices and real recordings) speak to a real ``voiceagent serve`` over the
native protocol (wideband) and over ``/twilio`` (a simulated phone line, with and without background
noise); every reply the caller hears is judged against rules kept in a data file (``*.yaml`` beside this
module), and the report puts recognition errors, answer relevance, latency and false cut-ins (agent audio
while the caller is mid-sentence, on turns spoken with a pause) side by side.

Modules: ``script`` (the data files), ``textnorm`` (normalisation and word matching), ``judge`` (one
reply against its rules), ``wer`` (word and key-word error rates), ``voices`` (caller speech, cached),
``line`` (the phone line), ``pauses`` (paused turns and false cut-ins), ``callers`` (one call over one
path), ``server`` (the server process), ``runner`` (the whole run), ``report`` and ``chart`` (figures),
``cli``.
"""
