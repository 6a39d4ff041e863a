"""Offline: tiny.en with and without a persona vocabulary prompt, per persona's sentences, 3 paths."""
import sys, time, json
sys.path.insert(0, "/work/main")
import numpy as np
from voiceagent.config import load_settings
from voiceagent.bench import stt as B
from voiceagent.bench.calls.script import builtin_scripts
from voiceagent.bench.calls.voices import VoiceBank, available_voices, RATE
from voiceagent.bench.calls.wer import word_error_rate, keyword_error_rate
from voiceagent.engines.loader import make_transcriber
from voiceagent.personas.load import load_persona
from pathlib import Path
variants = sys.argv[1].split(",")
settings = load_settings()
stt = make_transcriber(settings)
voices = available_voices(None); bank = VoiceBank()
def prompt_for(persona, mode):
    b = load_persona(Path(f"/work/main/voiceagent/prompts/{persona}.toml")).business
    names = [s.name for s in b.services]
    if mode == "none": return ""
    if mode == "names": return f"{b.name}, {b.kind}. {', '.join(names)}."
    if mode == "call": return f"Hello, {b.name}, this is {b.agent_name}. How can I help you? " + f"We do {', '.join(names)}."
    if mode == "week":
        from voiceagent.personas.render import week_sentence
        return f"Hello, {b.name}, this is {b.agent_name}. How can I help you? We do {', '.join(names)}. " + week_sentence(b)
    if mode == "nogreet":
        from voiceagent.personas.render import week_sentence
        return f"{b.name}. We do {', '.join(names)}. " + week_sentence(b)
    if mode == "days":
        return f"Hello, {b.name}, this is {b.agent_name}. How can I help you? We do {', '.join(names)}. We are open Monday, Tuesday, Wednesday, Thursday, Friday, Saturday or Sunday."
    if mode == "aliases": return f"{b.name}, {b.kind}. " + ", ".join(names + [a for s in b.services for a in s.aliases]) + "."
orig = stt._model.transcribe
res = {v: {p: ([], [], [], []) for p in B.PATHS} for v in variants}
i = 0
for persona, script in builtin_scripts().items():
    for turn in script.turns.values():
        if turn.real: continue
        voice = voices[i % len(voices)]
        said = " ".join(turn.parts) if turn.parts else turn.say
        speech = bank.speech(voice, said)
        for path in B.PATHS:
            audio = B.line_audio(path, speech, 7 + i)
            for v in variants:
                p = prompt_for(persona, v)
                t = time.perf_counter(); text = stt.transcribe_blocking(audio, p); ms = (time.perf_counter()-t)*1000
                r = res[v][path]; r[0].append(said); r[1].append(text); r[2].append(turn.keywords); r[3].append(ms)
        i += 1
for v in variants:
    for path in B.PATHS:
        s, h, k, ms = res[v][path]
        print(f"{v:8} {path:12} WER {word_error_rate(s,h):.3f} KER {keyword_error_rate(k,h):.3f} p50 {np.percentile(ms,50):.0f} ms")
json.dump({v: {p: list(zip(res[v][p][0], res[v][p][1])) for p in B.PATHS} for v in variants}, open("/tmp/stt_prompt3.json","w"), indent=0)
