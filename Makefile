# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv and install psviz first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.psviz-installed

.PHONY: demo test test-fast docs lab playground clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "psviz needs Python 3.11+; set PYTHON=python3.11 (or newer)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/psviz demo

test: $(STAMP)
	$(BIN)/python -m pytest

# The quick loop while changing a module: the suite less its slow, notebook and browser tests, on 2 processes.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not browser" -n 2

# The documentation site, built strictly into site/: a broken link, anchor or API reference fails the build.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

# JupyterLab on the notebooks, on this machine only (127.0.0.1); root (in a container, say) needs --allow-root.
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 $$([ "$$(id -u)" = 0 ] && echo --allow-root) notebooks

# The Proxy Synthesis Playground on this machine only (127.0.0.1): prints its URL and opens a browser; Ctrl-C stops it.
playground: $(STAMP)
	$(BIN)/psviz playground

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
