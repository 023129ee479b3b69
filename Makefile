# The two commands: `make run` and `make test` (see README.md).
BUILD ?= build
DATA ?= var/demo
LISTEN ?= 127.0.0.1:8080
PREFIX ?= /usr/local

.PHONY: all deps build web run install uninstall test bench fuzz format clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)
	@scripts/build-web

# The pages (web/ -> web/dist), built with the npm packages of web/package-lock.json.
web: deps
	@scripts/build-web

# Install, build, initialise a data directory (with a small population registry the first time) and serve.
run: build
	@scripts/run-local $(BUILD)/suishen $(DATA) $(LISTEN)

# Build, then put suishen on PATH: PREFIX/bin/suishen and the pages it serves, PREFIX/share/suishen/web
# (make install PREFIX=~/.local needs no root; DESTDIR stages a package).
install: build
	@scripts/install $(BUILD)/suishen "$(DESTDIR)$(PREFIX)"

uninstall:
	rm -rf "$(DESTDIR)$(PREFIX)/bin/suishen" "$(DESTDIR)$(PREFIX)/share/suishen"

# Install, build, run every suite (also under ASan and UBSan); ends with "N passed, N failed".
test: deps
	@/usr/bin/python3 scripts/run-tests

bench: build
	@scripts/install-deps --bench
	@bench/run

fuzz: deps
	@/usr/bin/python3 scripts/run-tests --fuzz-only --fuzz-seconds 60

format:
	clang-format -i $$(git ls-files 'src/*.c' 'src/*.h' 'test/*.c' 'test/*.h' 'fuzz/*.c' 'bench/*.c')

clean:
	rm -rf $(BUILD) build-asan build-fuzz web/dist
