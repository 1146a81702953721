# The two commands of the README.
.PHONY: provision test test-fast

# Provision this host with the preset's defaults (server + worker, SQLite).
provision:
	scripts/setup
	.venv/bin/preset run examples/site.yml

# The whole test suite: unit tests, lint, molecule on real systemd.
test:
	scripts/test

test-fast:
	scripts/test --fast
