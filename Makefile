# LiveShop: `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=

.PHONY: help lock prod-install-check setup system-deps run serve worker demo test test-pg test-all lint format bench bench-flash bench-live bench-live-browser live-bench-deps bench-pins bench-jobs bench-instant scale-test bench-jobs-procrastinate bench-redis-outage bench-realtime bench-live-relay bench-growth bench-feed bench-search bench-notify bench-coupons bench-groups bench-checkout bench-invites bench-test-setup translations translations-update clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-20s %s\n", $$1, $$2}'

system-deps: ## Install ffmpeg and chromium from Debian packages when missing (needs root)
	@missing=""; command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || missing="$$missing ffmpeg"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing fonts-dejavu-core >/dev/null; \
	  else echo "please install:$$missing (e.g. sudo apt-get install$$missing)"; exit 1; fi; fi
	@fc-list 2>/dev/null | grep -qi "wqy\|noto.*cjk" || { \
	  if [ "$$(id -u)" = 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null || true; \
	  else echo "Chinese pages need a CJK font: sudo apt-get install fonts-wqy-microhei"; fi; }

# The suite runs on the lock: requirements-dev.txt pins everything (requirements.txt's pins
# included); the project itself is installed without re-resolving anything.
$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	$(VENV)/bin/pip install -q --no-deps -e .
	touch $@

lock: $(VENV)/.installed ## Re-resolve requirements.txt (production) and requirements-dev.txt from pyproject.toml
	UV_CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/uv pip compile -q --universal pyproject.toml -o requirements.txt
	UV_CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/uv pip compile -q --universal pyproject.toml --extra dev -c requirements.txt -o requirements-dev.txt

prod-install-check: ## A production install (requirements.txt, no dev extras) in a fresh venv builds the app
	rm -rf $(VENV)-prod && python3 -m venv $(VENV)-prod
	$(VENV)-prod/bin/pip install -q -r requirements.txt
	$(VENV)-prod/bin/pip install -q --no-deps .
	cd /tmp && SECRET_KEY=check DATABASE_URL=sqlite:// $(CURDIR)/$(VENV)-prod/bin/python -c "from app import create_app; create_app(); print('production install: the app builds')"
	rm -rf $(VENV)-prod build

setup: system-deps $(VENV)/.installed translations ## Virtualenv, dependencies, compiled translations

CATALOGS := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))
translations: $(CATALOGS) ## Compile the message catalogs

# Only a changed .po is compiled: suites started side by side never rewrite a catalog in use.
translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(VENV)/.installed
	@$(VENV)/bin/pybabel compile -d translations -l $* --statistics 2>&1 | tail -1

translations-update: $(VENV)/.installed ## Extract strings and update the .po files
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -o translations/messages.pot .
	$(VENV)/bin/pybabel update -i translations/messages.pot -d translations

run: setup ## Set up the database, add demo content and serve on http://127.0.0.1:5000/
	$(FLASK) setup
	$(FLASK) demo
	$(FLASK) serve --host $(HOST) --port $(PORT)

serve: ## Serve without set-up steps
	$(FLASK) serve --host $(HOST) --port $(PORT)

worker: ## Run background jobs in this process (use with JOBS_MODE=worker for the web)
	$(FLASK) worker

demo: ## Add the demo content
	$(FLASK) demo

lint: $(VENV)/.installed ## ruff lint + format check, mypy on rules and services, areas import downward only
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

format: $(VENV)/.installed ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: setup lint ## Lint, then the whole suite (SQLite; TEST_DATABASE_URL=postgresql+psycopg://... for PostgreSQL)
	$(PY) -m pytest $(PYTEST_ARGS)

# The browser tests (tests/e2e) and the media library's (tests/media, no database) run in
# `make test` only: what depends on the engine (locks, limits, races, SQL) is driven through HTTP,
# Socket.IO and the job runners in tests/commerce, which run here in full.
test-pg: setup ## The suite on PostgreSQL (127.0.0.1:5432, database test), without the browser and media tests
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} $(PY) -m pytest \
	  --ignore=tests/e2e --ignore=tests/media $(PYTEST_ARGS)

scale-test: setup ## The scale-out set-up on several hosts (network namespaces; needs root): S3, PostgreSQL, Redis
	SCALE_TEST=1 $(PY) -m pytest tests/scale -p no:cacheprovider $(PYTEST_ARGS)

bench: setup ## Benchmarks: transcode pipeline vs bare ffmpeg
	$(PY) bench/transcode_bench.py
	$(PY) bench/pipeline_bench.py 2

bench-groups: setup ## 1,000 buyers join 100 open groups of 3 at once vs a plain checkout (PostgreSQL; BENCH_DATABASE_URL=...)
	$(PY) bench/group_buy_bench.py $(if $(BENCH_DATABASE_URL),--database-url $(BENCH_DATABASE_URL),)

bench-flash: setup ## Flash sale through the HTTP checkout vs bare SQL (BENCH_DATABASE_URL=postgresql+psycopg://... for PostgreSQL)
	$(PY) bench/flash_sale_bench.py $(if $(BENCH_DATABASE_URL),--database-url $(BENCH_DATABASE_URL),)

bench-jobs: setup ## A payment confirmed while two transcodes run vs idle workers (BENCH_SETUP=scale-out for worker processes)
	$(PY) bench/jobs_priority_bench.py --setup $${BENCH_SETUP:-embedded}

bench-instant: setup ## Upload complete to playable: H.264 copied at once, HEVC as its lowest rung grows, vs a bare remux
	$(PY) bench/instant_playback_bench.py $${BENCH_ROUNDS:-2}

bench-jobs-procrastinate: setup ## The same with JOBS_BACKEND=procrastinate (BENCH_DATABASE_URL: a PostgreSQL database it empties)
	$(PY) bench/jobs_priority_bench.py --backend procrastinate --database-url $${BENCH_DATABASE_URL:?set BENCH_DATABASE_URL=postgresql+psycopg://...}

bench-growth: setup ## p95 of five pages at 10k and at 1M orders on PostgreSQL (BENCH_DATABASE_URL, default growth_bench: emptied); ~10 min
	$(PY) bench/data_growth_bench.py --database-url $${BENCH_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/growth_bench}

bench-feed: setup ## For you and Following p95 at 100k videos next to an indexed ORDER BY created_at, and the watch-time beacon next to the view count, on PostgreSQL (BENCH_DATABASE_URL, default feed_bench: emptied); ~2 min
	$(PY) bench/feed_rank_bench.py --database-url $${BENCH_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/feed_bench}

bench-search: setup ## Search p95 (Chinese and English words) at 100k videos next to For you and an indexed ORDER BY created_at, on PostgreSQL (BENCH_DATABASE_URL, default search_bench: emptied); ~3 min
	$(PY) bench/search_bench.py --database-url $${BENCH_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/search_bench}

bench-notify: setup ## Go-live to 100,000 followers (1,000 online over Socket.IO): all stored and the last online event, next to a bare INSERT ... SELECT, on PostgreSQL (BENCH_DATABASE_URL, default notify_bench: emptied)
	$(PY) bench/notify_bench.py --database-url $${BENCH_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/notify_bench}

bench-coupons: setup ## LIVE voucher claim storm: 1,000 viewers for 100 units over HTTP next to the bare SQL claim, on PostgreSQL (BENCH_DATABASE_URL, default coupon_bench: emptied)
	$(PY) bench/coupon_claim_bench.py --database-url $${BENCH_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/coupon_bench}

bench-checkout: setup ## Checkout with a coupon + points + a group price next to a plain checkout over HTTP (gunicorn), throughput and p50/p99, on PostgreSQL (BENCH_DATABASE_URL, default promo_checkout_bench: emptied)
	$(PY) bench/promo_checkout_bench.py --database-url $${BENCH_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/promo_checkout_bench}

bench-invites: setup ## Invite rewards: the reward job in two racing processes (checks, caps, coupon) vs the bare SQL of a reward (BENCH_DATABASE_URL, default a fresh SQLite file)
	$(PY) bench/invite_reward_bench.py $(if $(BENCH_DATABASE_URL),--database-url $(BENCH_DATABASE_URL),)

bench-test-setup: setup ## What a test pays to build its app: werkzeug's URL builders per rule vs made once per run (tests/route_builders.py)
	$(PY) bench/app_build_bench.py

bench-pins: setup ## Pin propagation to 1,000 Socket.IO viewers vs a bare python-socketio broadcast
	$(PY) bench/pin_fanout_bench.py $(if $(BENCH_DATABASE_URL),--database-url $(BENCH_DATABASE_URL),)

bench-redis-outage: setup ## A 20 s Redis outage under two web processes: events flowing again and pages converged, ours vs stock Flask-SocketIO
	$(PY) bench/redis_outage_bench.py $(if $(BENCH_DATABASE_URL),--database-url $(BENCH_DATABASE_URL),)

bench-realtime: setup ## 5,000 Socket.IO viewers across two gunicorn (gevent) web processes vs bare python-socketio (BENCH_DATABASE_URL, BENCH_VIEWERS, BENCH_GC=stock for CPython's collector)
	@command -v redis-server >/dev/null || { echo "needs redis-server (apt-get install redis-server) or BENCH_REDIS_URL"; test -n "$$BENCH_REDIS_URL"; }
	$(PY) bench/realtime_capacity_bench.py --viewers $${BENCH_VIEWERS:-5000} $(if $(BENCH_GC),--gc $(BENCH_GC),) $(if $(BENCH_DATABASE_URL),--database-url $(BENCH_DATABASE_URL),)

live-bench-deps: setup
	@command -v nginx >/dev/null && test -f /usr/lib/nginx/modules/ngx_rtmp_module.so || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light libnginx-mod-rtmp >/dev/null; \
	  else echo "nginx-rtmp reference skipped (sudo apt-get install nginx-light libnginx-mod-rtmp)"; fi; }

bench-live: live-bench-deps ## Live glass-to-glass latency: our HLS + low-latency FLV vs bare ffmpeg and nginx-rtmp
	$(PY) bench/live_latency_bench.py 30

bench-live-relay: setup ## Low-latency FLV through another web node (the relay) vs read directly from the ingest node
	$(PY) bench/live_relay_bench.py $${BENCH_SECONDS:-20} $${BENCH_VIEWERS:-10}

bench-live-browser: live-bench-deps ## Live latency seen in Chromium: the room page (mpegts.js, hls.js), then our HLS vs nginx-rtmp's played alike
	$(if $(BENCH_ARGS),$(PY) bench/live_browser_latency_bench.py $(BENCH_ARGS),$(PY) bench/live_browser_latency_bench.py 40 --pages ll,hlsjs && $(PY) bench/live_browser_latency_bench.py 40 --pages hlsjs,nginx)

clean: ## Remove the virtualenv and the instance folder
	rm -rf $(VENV) instance
