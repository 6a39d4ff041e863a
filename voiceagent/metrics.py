"""Prometheus metrics, served at /metrics. The same numbers as the per-turn ``turn_metrics`` events."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

_MS_BUCKETS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2, 1.5, 2.0, 3.0, 5.0, 10.0)

STAGE_SECONDS = Histogram(
    "voiceagent_stage_seconds", "Duration of each pipeline stage per turn", ["stage"], buckets=_MS_BUCKETS
)
TURN_SECONDS = Histogram(
    "voiceagent_turn_seconds", "End of caller speech to first agent audio out (fillers included)", buckets=_MS_BUCKETS
)
REPLY_SECONDS = Histogram(
    "voiceagent_reply_seconds", "End of caller speech to first audio of the real reply", buckets=_MS_BUCKETS
)
BUDGET_EXCEEDED = Counter("voiceagent_budget_exceeded_total", "Stages that ran past their budget", ["stage"])
TURNS = Counter("voiceagent_turns_total", "Caller turns by outcome", ["outcome"])
FILLERS = Counter("voiceagent_fillers_total", "Filler phrases played because a reply was late")
INTERRUPTIONS = Counter("voiceagent_interruptions_total", "Agent replies cut short by the caller (barge-in)")
TAKEN_BACK = Counter("voiceagent_replies_taken_back_total",
                     "Replies stopped because the caller went on within continue_window_ms (turns joined)")
ERRORS = Counter("voiceagent_errors_total", "Error events sent to clients", ["code"])
CALLS_ACTIVE = Gauge("voiceagent_calls_active", "Calls in progress")
CALLS = Counter("voiceagent_calls_total", "Calls started")
TTS_CACHE = Counter("voiceagent_tts_cache_total", "Clauses asked of speech synthesis, by whether their audio was "
                    "held from before (hit) or synthesised (miss)", ["result"])
DROPPED_AUDIO = Counter("voiceagent_dropped_audio_frames_total", "Caller frames dropped because a call fell behind")
REFUSED_CALLS = Counter("voiceagent_refused_calls_total", "Calls refused, by why: max_calls (the limit), load (the "
                        "last minute's replies were too slow)", ["why"])
AUTH_FAILURES = Counter("voiceagent_auth_failures_total", "Connections refused for a missing or wrong token or origin")
LLM_FALLBACKS = Counter("voiceagent_llm_fallbacks_total", "Times the model server failed and the embedded model took over")
REPLIES_CORRECTED = Counter(
    "voiceagent_replies_corrected_total", "Replies stopped by the reply check and replaced by a fact-based answer",
    ["problem"],
)
ACTIONS = Counter("voiceagent_actions_total", "Actions carried out or attempted, by action and outcome (done, refused, "
                  "failed)", ["action", "outcome"])
ACTION_SECONDS = Histogram("voiceagent_action_seconds", "Time to carry out an action", ["action"], buckets=_MS_BUCKETS)
ACTIONS_RECONSIDERED = Counter(
    "voiceagent_actions_reconsidered_total", "Tool calls set aside because the caller had not asked for them",
    ["action"],
)
OUTBOUND_DROPPED = Counter(
    "voiceagent_outbound_dropped_frames_total", "Agent audio frames dropped before they were sent, by why (full: the "
    "peer reads too slowly; barge_in: cut off by the caller)", ["why"],
)
ENGINE_QUEUE_SECONDS = Histogram(
    "voiceagent_engine_queue_seconds", "Time an engine job waited for its engine's thread (other work ran first)",
    ["engine"], buckets=(0.0, *_MS_BUCKETS),
)
ENGINE_BUSY_SECONDS = Histogram(
    "voiceagent_engine_busy_seconds", "Time an engine job ran on its engine's thread", ["engine"], buckets=_MS_BUCKETS,
)
ENGINE_JOBS_SKIPPED = Counter(
    "voiceagent_engine_jobs_skipped_total", "Engine jobs cancelled while they waited, so never run", ["engine"],
)
UNFINISHED_HOLDS = Counter(
    "voiceagent_unfinished_holds_total", "Turns the end-of-turn model ended whose words trail off or end on a word "
    "that needs another (\"Can I come in on\"): answered only after the longest silence wait",
)
PARTIAL_ANSWER_HOLDS = Counter(
    "voiceagent_partial_answer_holds_total", "Turns the end-of-turn model ended that gave part of what the action "
    "desk asked for (\"It's Mike Ross,\" to \"your name, the day and the time\"): answered only after the longest silence wait",
)
TURN_ENDS = Counter(
    "voiceagent_turn_ends_total", "Caller turns by what ended them: silence (the fixed wait), model (judged finished), "
    "max_silence (judged unfinished, or no answer, and the longest wait ran out), unsure (judged unfinished, ended "
    "at once, its reply held), question (a question judged finished while a number or a message was awaited), "
    "patient (a number or a message, the longest wait), max_length", ["reason"],
)
TURN_END_PROBABILITY = Histogram(
    "voiceagent_turn_end_probability", "The end-of-turn model's probability that a caller had finished, per question",
    buckets=(0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95),
)
TURN_END_FAILURES = Counter(
    "voiceagent_turn_end_failures_total", "Questions to the end-of-turn model that failed or timed out (silence decided)",
)
