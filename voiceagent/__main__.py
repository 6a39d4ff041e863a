"""Command line: ``voiceagent serve | config | models | bench turn``."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import sys
from typing import Any

from voiceagent.config import ConfigError, Settings, load_settings


def _add_settings_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="TOML configuration file (also $VOICEAGENT_CONFIG)")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--llm", choices=["llama_cpp", "ollama", "openai"], help="language model backend")
    parser.add_argument("--model", help="model: bundled name, .gguf path, or the backend's model name")
    parser.add_argument("--llm-url", dest="llm_url", help="Ollama host or OpenAI-compatible base URL")
    parser.add_argument("--persona", help="default persona (a persona name in prompts_dir)")
    parser.add_argument("--profile", choices=["cpu", "gpu"], help="budget profile")
    parser.add_argument("--no-overlap", dest="overlap", action="store_const", const=False,
                        help="run the stages strictly in sequence (for comparison)")
    parser.add_argument("--audiosocket-port", dest="audiosocket_port", type=int,
                        help="also accept Asterisk AudioSocket connections on this TCP port")
    parser.add_argument("--insecure", action="store_const", const=True,
                        help="allow a non-loopback address without an auth token (trusted networks only)")
    parser.add_argument("--allowed-origins", dest="allowed_origins", help="comma list of browser origins")
    parser.add_argument("--tls-cert", dest="tls_cert", help="PEM certificate: serve wss:// and https://")
    parser.add_argument("--tls-key", dest="tls_key", help="PEM private key for --tls-cert")
    parser.add_argument("--max-calls", dest="max_calls", type=int, help="concurrent calls before refusing (1013)")
    parser.add_argument("--records-dir", dest="records_dir", help="folder for call records ('' disables)")
    parser.add_argument("--log-level", default="INFO")


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {f.name: getattr(args, f.name, None) for f in dataclasses.fields(Settings)}
    return load_settings(args.config, overrides=overrides)


def _talk(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from voiceagent.app import build_switchboard
    from voiceagent.transports.local import microphone_problem, talk_file

    if args.input:
        if not Path(args.input).is_file():
            print(f"voiceagent talk: no such recording: {args.input}", file=sys.stderr)
            return 2
        return asyncio.run(talk_file(settings, Path(args.input), Path(args.output), build=build_switchboard))
    problem = microphone_problem()
    if problem is None:
        from voiceagent.transports.local import talk_live

        try:
            return asyncio.run(talk_live(settings, build=build_switchboard))
        except KeyboardInterrupt:
            return 0
    print(f"voiceagent talk: cannot use the microphone: {problem}. "
          "Use --input FILE to play a recording as the caller.", file=sys.stderr)
    return 2


def _calls(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from voiceagent.records_view import format_list, list_calls, show_call

    folder = Path(settings.records_dir)
    if not settings.records_dir or not folder.is_dir():
        print(f"voiceagent calls: no records folder {folder} (records_dir)", file=sys.stderr)
        return 2
    if args.action == "show":
        path = folder / f"{args.call_id}.jsonl"
        if not args.call_id or not path.is_file():
            print(f"voiceagent calls: no record for call {args.call_id!r} in {folder}", file=sys.stderr)
            return 2
        text, warning = show_call(path, redact=settings.redact)
        if warning:
            print(f"voiceagent calls: warning: {warning}", file=sys.stderr)
        print(text)
        return 0
    print(format_list(list_calls(folder, args.limit)))
    return 0


def _bench_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``voiceagent bench turn | models | calls | stt | memory``."""
    bench = sub.add_parser("bench", help="benchmarks")
    bench_sub = bench.add_subparsers(dest="bench", required=True)
    turn = bench_sub.add_parser("turn", help="turn time with real recordings, overlapped vs sequential")
    _add_settings_flags(turn)
    turn.add_argument("--rounds", type=int, default=3, help="times each recording is played")
    turn.add_argument("--audio", nargs="*", help="recordings to use as callers (default: ../shared/audio in a "
                      "checkout, else callers synthesised with the bundled voice)")
    turn.add_argument("--json", dest="json_out", help="also write the results to this JSON file")
    models = bench_sub.add_parser("models", help="speed against relevance of every reachable language model")
    _add_settings_flags(models)
    from voiceagent.bench.models.cli import add_arguments as models_arguments

    models_arguments(models)
    calls_bench = bench_sub.add_parser("calls", help="spoken end-to-end benchmark: right answers and latency per path")
    from voiceagent.bench.calls.cli import add_arguments as calls_arguments

    calls_arguments(calls_bench)
    calls_bench.add_argument("--config", help=argparse.SUPPRESS)
    stt = bench_sub.add_parser("stt", help="speech-to-text alone on the benchmark's sentences: WER, key words, time")
    _add_settings_flags(stt)
    stt.add_argument("--path", nargs="*", default=["wideband", "phone", "phone_noise"],
                     choices=["wideband", "phone", "phone_noise"], help="paths to carry each sentence over")
    stt.add_argument("--voices", help="comma list of caller voices or kinds (neural, formant); default: all usable")
    stt.add_argument("--limit", type=int, default=0, help="only the first N sentences (0: all)")
    stt.add_argument("--json", dest="json_out", help="also write every transcript to this JSON file")
    from voiceagent.bench.memory import STAGES

    mem = bench_sub.add_parser("memory", help="memory growth per engine, each alone in a loop (MB per hour)")
    _add_settings_flags(mem)
    mem.add_argument("--stages", nargs="*", choices=STAGES, default=list(STAGES), help="engines to measure, in order")
    mem.add_argument("--seconds", type=float, default=120.0, help="measured time per engine (after a warm-up)")
    mem.add_argument("--trim", action="store_true", help="give freed memory back after each operation (malloc_trim)")
    mem.add_argument("--json", dest="json_out", help="also write every sample to this JSON file")
    mem.add_argument("--python-top", dest="python_top", type=int, default=0,
                     help="also trace Python's allocations and show the N source lines that grew most")


def _parser() -> argparse.ArgumentParser:
    """The command line: every subcommand and its options."""
    parser = argparse.ArgumentParser(prog="voiceagent", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the voice agent server")
    _add_settings_flags(serve)
    config = sub.add_parser("config", help="print the effective configuration")
    _add_settings_flags(config)
    sip = sub.add_parser("sip", help="run the server and a SIP endpoint that answers phone calls")
    _add_settings_flags(sip)
    sip.add_argument("--sip-port", dest="sip_port", type=int, help="UDP port for SIP (default 5060)")
    sip.add_argument("--sip-rtp-port", dest="sip_rtp_port", type=int, help="first RTP port (default 40000)")
    sip.add_argument("--sip-registrar", dest="sip_registrar", help="register to this PBX, e.g. sip:pbx.example.com")
    sip.add_argument("--sip-user", dest="sip_user", help="account user for registration")
    talk = sub.add_parser("talk", help="talk to the agent on this machine (--input FILE plays a recording)")
    _add_settings_flags(talk)
    talk.add_argument("--input", help="a recording to play as the caller instead of the microphone")
    talk.add_argument("--output", default="conversation.wav", help="stereo WAV: caller left, agent right")
    calls = sub.add_parser("calls", help="list call records, or show one (voiceagent calls show ID)")
    _add_settings_flags(calls)
    calls.add_argument("action", nargs="?", choices=["list", "show"], default="list")
    calls.add_argument("call_id", nargs="?", help="the call to show")
    calls.add_argument("--limit", type=int, default=50)
    from voiceagent.actions.cli import add_arguments as actions_arguments

    actions_arguments(sub.add_parser("appointments", help="list the booked appointments (--all: cancelled too)"),
                      appointments=True)
    actions_arguments(sub.add_parser("messages", help="list the messages taken for the business"), appointments=False)
    soak = sub.add_parser("soak", help="many concurrent synthetic callers against a running server; a report")
    from voiceagent.soak.cli import add_arguments as soak_arguments

    soak_arguments(soak)
    soak.add_argument("--log-level", default="WARNING")
    soak.add_argument("--config", help=argparse.SUPPRESS)
    _bench_parsers(sub)
    persona = sub.add_parser("persona", help="persona files: `persona check FILE` lints one and shows its prompt")
    from voiceagent.personas.check import add_arguments as persona_arguments

    persona_arguments(persona)
    models = sub.add_parser("models", help="the bundled model files: package, size, SHA-256, licence, pin check")
    from voiceagent.engines.models_cli import add_arguments as models_cli_arguments

    models_cli_arguments(models)
    models.add_argument("--log-level", default="WARNING")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``voiceagent`` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "persona":
        from voiceagent.personas.check import run as run_persona

        return run_persona(args)
    if args.command == "models":
        from voiceagent.engines.models_cli import run as run_models_cli

        logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
        return run_models_cli(args)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = _settings(args)
    except ConfigError as exc:
        print(f"voiceagent: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.command == "soak":
        from voiceagent.soak.cli import run as run_soak

        return run_soak(args)
    if args.command == "calls":
        return _calls(args, settings)
    if args.command in ("appointments", "messages"):
        from voiceagent.actions.cli import run as run_actions

        return run_actions(args, settings)
    if args.command == "config":
        print(json.dumps(settings.describe(), indent=2))
        return 0
    if args.command in ("serve", "sip"):
        from voiceagent.app import run_server
        from voiceagent.engines.bundled import ModelNotFound
        from voiceagent.engines.weights import ModelFileError

        try:
            asyncio.run(run_server(settings, sip=args.command == "sip"))
        except (ConfigError, ModelNotFound, ModelFileError) as exc:
            print(f"voiceagent: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            pass
        return 0
    if args.command == "talk":
        return _talk(args, settings)
    if args.bench == "calls":
        from voiceagent.bench.calls.cli import run as run_calls

        return run_calls(args)
    if args.bench == "stt":
        from voiceagent.bench.stt import main as run_stt

        return run_stt(settings, args.path, args.voices.split(",") if args.voices else None, args.limit, args.json_out)
    if args.bench == "memory":
        from voiceagent.bench.memory import main as run_memory

        return run_memory(settings, args.stages, args.seconds, trim=args.trim, json_out=args.json_out,
                          trace=args.python_top)
    if args.bench == "models":
        from voiceagent.bench.models.cli import run as run_models

        return run_models(args, settings)
    from voiceagent.bench.turn import run_turn_bench

    return int(asyncio.run(run_turn_bench(settings, rounds=args.rounds, audio=args.audio, json_out=args.json_out)))


if __name__ == "__main__":
    sys.exit(main())
