"""Relevance of the agent's replies to the spoken benchmark's questions, typed: each caller sentence of
`voiceagent bench calls` is given to a real Call as its transcript (scripted speech-to-text and voice from
tests/fakes; the real language model, persona, grounding and reply check), and the reply is judged by the
benchmark's own rules. No audio, so it isolates the answer levers from recognition and runs in minutes.

    .venv/bin/python scripts/typed_relevance.py qwen2.5-0.5b grounding=1 check=1 kind=short [persona=garage]

Run from a checkout (it uses tests/fakes). Prints each failed turn, a line per call and a summary.
"""

import asyncio
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.call import running_call
from tests.fakes.engines import FakeTts, ScriptedStt
from voiceagent.bench.calls.judge import judge
from voiceagent.bench.calls.script import builtin_scripts
from voiceagent.config import Budgets, Settings
from voiceagent.engines.loader import make_llm
from voiceagent.events import AgentText
from voiceagent.personas import load_personas

PATIENT = Budgets(turn_ms=60000, endpoint_ms=1000, stt_ms=60000, llm_first_token_ms=60000, tts_first_audio_ms=60000)


async def main(model: str, opts: dict[str, str]) -> None:
    personas = load_personas(Settings().prompts_dir)
    llm = make_llm(Settings(model=model))
    await llm.warm([p.system for p in personas.values()])
    summary: dict[str, tuple[int, int]] = {}
    for name, script in builtin_scripts().items():
        if opts.get("persona", name) != name:
            continue
        ok = total = 0
        calls = [c for c in script.calls if c.kind == opts.get("kind", c.kind)]
        for spec in calls:
            with tempfile.TemporaryDirectory() as tmp:
                async with running_call(
                    tmp, stt=ScriptedStt([t.say for t in spec.turns]), llm=llm, tts=FakeTts(seconds_per_char=0.0005),
                    persona=personas[name], engine_timeout_s=60.0, budgets=PATIENT, temperature=0.3,
                    grounding=opts.get("grounding", "1") == "1", reply_check=opts.get("check", "1") == "1",
                ) as call:
                    said: list[str] = []
                    for i, turn in enumerate(spec.turns, start=1):
                        await call.say()
                        await call.turn_over(i, timeout=120)
                        await call.output.until_quiet()
                        heard = " ".join(e.text for e in call.output.of_type(AgentText)
                                         if e.turn == i and e.kind in ("reply", "apology"))
                        said.append(turn.say)
                        verdict = judge(turn, heard, persona_numbers=script.numbers, caller_so_far=said)
                        total += 1
                        ok += verdict.ok
                        if not verdict.ok:
                            print("FAIL", name, spec.name, i, repr(turn.say), "->", repr(heard), verdict.failed)
            print(f"  {name} {spec.name}: {ok}/{total}", flush=True)
        summary[name] = (ok, total)
        print(f"{name}: {ok}/{total} = {ok / max(total, 1):.2f}", flush=True)
    print(json.dumps({"model": model, "opts": opts, "summary": summary}))
    await llm.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], dict(a.split("=", 1) for a in sys.argv[2:])))
