# The README's two commands: `make run` and `make test`. Both create .venv and install.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 3
# On this workplace the official MNIST and Fashion-MNIST files sit beside the checkout;
# elsewhere the loader looks in /usr/share/datasets and then asks Keras to download.
ifneq ($(wildcard ../shared/datasets/mnist),)
export FRACDASH_DATA ?= $(abspath ../shared/datasets)
endif

.PHONY: install run test test-fast bench bench-long loadtest docker-check lint clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/python -m fracdash.background_compile
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python app.py

# The inner loop: the in-process tier (no browser, no training, no subprocess smoke tests).
test-fast: $(STAMP)
	$(BIN)/ruff check fracdash tests bench tools
	@command -v node >/dev/null || { echo "make: the page's JS tests need Node.js (apt-get install nodejs)"; exit 1; }
	node --test tests/js/
	$(BIN)/python -m pytest -m "not slow and not browser" -q

# The browser tests need a Chromium: tools/browser.py finds one ($$FRACDASH_CHROMIUM,
# /usr/bin/chromium) or installs one (Debian's chromium as root, else Playwright's own).
# If none can be had it says what to install, and the browser tests fail (never skip).
test: $(STAMP)
	$(BIN)/ruff check fracdash tests bench tools
	@command -v node >/dev/null || { echo "make: the page's JS tests need Node.js (apt-get install nodejs)"; exit 1; }
	node --test tests/js/
	FRACDASH_CHROMIUM="$$($(BIN)/python tools/browser.py --install)" $(BIN)/python -m pytest

# pyclustertend is the peer measured against, never a runtime dependency. Its own pins
# (pytest<9, pandas<3) would downgrade the test tools, so its imports come in by name.
bench: $(STAMP)
	$(BIN)/pip install -q numba scikit-learn matplotlib pandas threadpoolctl
	$(BIN)/pip install -q --no-deps pyclustertend
	$(BIN)/python bench/run.py
	$(BIN)/python bench/outofcore.py
	$(BIN)/python bench/cluster.py --workers 2
	$(BIN)/python bench/interaction.py --run simplification
	$(BIN)/python bench/interaction.py --compare
	$(BIN)/python bench/compare.py measures --samples 2000,10000 --vgg-samples 2000
	$(BIN)/python bench/keras_path.py
	$(BIN)/python bench/metrics.py
	$(BIN)/python bench/glyphs_first.py --repeats 1

# Hours on a 2-core machine: every scenario computed from an empty store, predicted vs
# actual (bench/estimates.py), and the metrics table of docs/metrics.md.
bench-long: $(STAMP)
	$(BIN)/python bench/estimates.py
	$(BIN)/python bench/metrics_table.py

# locust, headless: 20 users for 60 s on 127.0.0.1 against gunicorn -w 2 on the store (read
# only; $$FRACDASH_STORE or ~/.cache/fracdash); see docs/deploy.md. Writes
# bench/results/loadtest-*.json; fails on any error. locust comes with the test extra.
loadtest: $(STAMP)
	$(BIN)/python bench/loadtest.py --users 20 --run-time 60s

# Not part of `make test`: the Dockerfile built for real with podman on a bookworm made by
# debootstrap, then run as its user on a store volume: /healthz, the page in Chromium, a
# computed run (as root; minutes; see docs/deploy.md, "Docker").
docker-check: $(STAMP)
	$(BIN)/python tools/docker_check.py

clean:
	rm -rf $(VENV) .pytest_cache
