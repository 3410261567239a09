# Loupe — build, test and benchmark. System libraries come from apt when pkg-config cannot find them.

SWIFT ?= swift
APT_PACKAGES := libopenblas-dev libcmark-dev pkg-config
BROWSER_PACKAGES := chromium chromium-driver
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps build test browser-test bench demo fuzz slurm-test clean

deps:
	@if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists openblas libcmark; then \
		echo "installing $(APT_PACKAGES) with apt-get"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	fi

build: deps
	$(SWIFT) build

# The demo: the committed demo model and dictionary, the toy world's corpus, a full atlas site.
demo: deps
	$(SWIFT) build -c release --product loupe
	.build/release/loupe build Reports/demo/report.yaml

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# The browser tests (LoupeBrowserTests): the demo and a hostile-corpus report, built by the release
# `loupe`, opened over file:// in headless Chromium through chromedriver; screenshots land in docs/screenshots/.
browser-test: deps
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then \
		echo "installing $(BROWSER_PACKAGES) with apt-get"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null; \
	fi
	$(SWIFT) build -c release --product loupe
	$(SWIFT) build --build-tests
	LOUPE_BROWSER_TESTS=1 LOUPE_BINARY="$(CURDIR)/.build/release/loupe" LOUPE_SCREENSHOTS="$(CURDIR)/docs/screenshots" \
		$(SWIFT) test --skip-build --filter LoupeBrowserTests

# The PyTorch peer figure is measured when Python with torch and transformers is available.
bench: deps
	$(SWIFT) build -c release --product loupe-bench
	$(SWIFT) build -c release --product loupe
	@peer=""; \
	if python3 -c "import torch, transformers" >/dev/null 2>&1; then \
		echo "measuring PyTorch with Tools/bench_torch.py"; \
		python3 Tools/bench_torch.py --runs 5 > .build/bench_torch.json 2>/dev/null && peer="--peer .build/bench_torch.json"; \
		echo "measuring PyTorch training with Tools/bench_torch_train.py"; \
		python3 Tools/bench_torch_train.py > .build/bench_torch_train.json 2>/dev/null && peer="$$peer --peer-train .build/bench_torch_train.json"; \
	fi; \
	.build/release/loupe-bench --breakdown --build --circuits --preimage --decoder --llm --subspaces $$peer

# A longer fuzzing campaign than the tests' 1,500 cases: RUNS seeded mutations for every parser of user
# files (docs/RELIABILITY.md). A crash stops the campaign; the input is in .build/fuzz-last-TARGET.
RUNS ?= 50000
SEED ?= 1
fuzz: deps
	$(SWIFT) build -c release --product loupe-fuzz
	@for target in $$(.build/release/loupe-fuzz --list | cut -f1); do \
		.build/release/loupe-fuzz $$target --runs $(RUNS) --seed $(SEED) --repository . --last-input .build/fuzz-last-$$target \
			|| { echo "$$target crashed; the input is .build/fuzz-last-$$target"; exit 1; }; \
	done

# A single-node Slurm cluster of its own (munge and Slurm daemons in a temporary folder, on free
# ports) builds a small report as a job array of shards (Scripts/loupe-shards.sbatch), merges them and
# checks the result byte for byte against the unsharded build (Scripts/slurm-test.sh). Runs as root.
SLURM_APT_PACKAGES := slurm-wlm munge
slurm-test: deps
	@if ! dpkg -s $(SLURM_APT_PACKAGES) >/dev/null 2>&1; then \
		echo "installing $(SLURM_APT_PACKAGES) with apt-get"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(SLURM_APT_PACKAGES) >/dev/null; \
	fi
	$(SWIFT) build -c release --product loupe
	$(SUDO) Scripts/slurm-test.sh .build/release/loupe

clean:
	rm -rf .build
