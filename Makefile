# Set-up and everyday commands. `make demo` and `make test` create .venv on first use.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast lint docs bench clean

$(STAMP): pyproject.toml
	@if [ ! -x "$(PY)" ]; then \
		base=$$(sh tools/find-python.sh) || exit 1; \
		echo "creating $(VENV) with $$base"; \
		"$$base" -m venv $(VENV) || exit 1; \
	fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(PY) -m bayesml.demo

test: $(STAMP)
	$(PY) -m pytest -ra

test-fast: $(STAMP)
	$(PY) -m pytest -ra -m 'not slow'

lint: $(STAMP)
	$(PY) -m ruff check bayesml tests benchmarks tools
	$(PY) tools/check_imports.py

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

bench: $(STAMP)
	$(PY) benchmarks/bench_fit.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache site .cache
