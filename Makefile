# guidec: two commands set everything up on a fresh Debian machine with Python 3.11.
#   make demo   venv + install + Graphviz, then build the flagship guideline into build/
#   make test   the same set-up (+ chromium, poppler-utils, Java 17 and the VS Code extension's
#               npm packages for the tests), then the suite
#   make bench  the benchmarks (never part of make test)
# Set GUIDEC_NO_APT=1 to forbid apt-get; the steps that need a missing tool then say so.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
GUIDE  := guidelines/leptomeningeal.guide
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

VSCODE := editors/vscode
NODE_STAMP := $(VSCODE)/node_modules/.installed-stamp

.PHONY: demo test lint typecheck unit bench docs graphviz chromium poppler java node vsix clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,spark]"
	@# Byte-compile like pip does for wheels: start-up stays fast under PYTHONDONTWRITEBYTECODE.
	$(BIN)/python -m compileall -q dsl compiler targets cli tools
	@touch $(STAMP)

# Install a Debian package when its command is missing and apt-get may be used.
define apt_install
	@if ! command -v $(1) >/dev/null 2>&1; then \
	  if [ -z "$$GUIDEC_NO_APT" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing $(2) with apt-get"; \
	    $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(2) >/dev/null; \
	  else \
	    echo "note: $(1) is missing; install it with: apt-get install $(2) (or brew install $(2))"; \
	  fi; \
	fi
endef

graphviz:
	$(call apt_install,dot,graphviz)
	@# The flowchart's print font (its metrics decide the layout and the printed size).
	@if ! fc-list 2>/dev/null | grep -q "Liberation Sans Narrow"; then \
	  if [ -z "$$GUIDEC_NO_APT" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing fonts-liberation with apt-get"; \
	    $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq fonts-liberation \
	      fonts-dejavu-core >/dev/null; \
	  else \
	    echo "note: the flowchart font is missing: apt-get install fonts-liberation"; \
	  fi; \
	fi

chromium:
	$(call apt_install,chromium,chromium)

# Spark 4 (the cohort engine and its tests) runs on Debian's Java 17.
java:
	$(call apt_install,java,openjdk-17-jre-headless)

# The PDF tests read page sizes and printed text sizes with pdfinfo and pdftotext.
poppler:
	$(call apt_install,pdftotext,poppler-utils)

# The VS Code extension's packages (its client library; vsce, vscode-textmate and
# vscode-oniguruma for its package and its grammar test), exactly as package-lock.json pins them.
node:
	$(call apt_install,npm,nodejs npm)
$(NODE_STAMP): $(VSCODE)/package.json $(VSCODE)/package-lock.json | node
	cd $(VSCODE) && npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

# The extension as editors/vscode/guidec.vsix: code --install-extension editors/vscode/guidec.vsix
vsix: $(NODE_STAMP)
	cd $(VSCODE) && npx vsce package --allow-missing-repository --out guidec.vsix

demo: $(STAMP) graphviz
	@$(BIN)/python tools/demo.py

# The READMEs as HTML in build/docs/, their ```guide blocks highlighted by guidec's lexer.
docs: $(STAMP)
	$(BIN)/python tools/docs.py

lint: $(STAMP)
	$(BIN)/ruff check dsl compiler targets cli tests tools

typecheck: $(STAMP)
	$(BIN)/mypy dsl compiler targets cli

unit: $(STAMP) graphviz chromium poppler java $(NODE_STAMP)
	$(BIN)/pytest -q -n 2 tests

test: lint typecheck unit

bench: $(STAMP) graphviz java
	@# Sources may have changed since the venv was made: measure them byte-compiled, as installed.
	$(BIN)/python -m compileall -q dsl compiler targets cli tools
	$(BIN)/python tests/benchmarks/run.py

clean:
	rm -rf build .mypy_cache .ruff_cache .hypothesis $(VSCODE)/node_modules $(VSCODE)/guidec.vsix
