# The two commands: `make serve` (install and run on the embedded defaults) and `make test`.
.PHONY: serve test bench lint

serve:
	scripts/install.sh
	.venv/bin/voiceagent serve

test:
	scripts/install.sh --test
	scripts/test.sh

bench:
	scripts/install.sh
	.venv/bin/python scripts/bench_turn.py

lint:
	.venv/bin/ruff check voiceagent tests scripts
	.venv/bin/mypy voiceagent
	.venv/bin/lint-imports
