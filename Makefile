# Makefile - thin wrapper around premake: installs what is missing, generates
# the makefiles with whichever premake is installed, builds into build/.
#
#   make              release build: build/release/perch
#   make test         sanitized build, then every test (prove)
#   make test-aarch64 cross build for arm64, every test under qemu-user
#   make demo         run the default app for a bounded time
#   make bench        benchmarks; figures also in build/bench.json
#   make deps         install the Debian packages perch needs

JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
DEMO    ?= scripts/camera.lua
DEMO_S  ?= 20
DEMO_PORT ?= 8080
# The cross toolchain's loader must also take its libc from the cross tree:
# left to the host's ld.so.cache it picks libc6:arm64's build, a different
# glibc release, and pthread_create hangs.
QEMU    ?= qemu-aarch64 -L /usr/aarch64-linux-gnu -E LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib

.PHONY: all release test test-build test-aarch64 demo bench deps clean gen

all: release

deps:
	@sh .ci/deps native

# Generate every time: it takes milliseconds and picks up new test and bench
# files.  premake5 if present, else Debian's premake4 reading the same file.
gen:
	@if command -v premake5 >/dev/null 2>&1; then \
	    premake5 --file=premake5.lua gmake2 >/dev/null; \
	else \
	    premake4 --file=premake5.lua gmake >/dev/null; \
	fi

# The embedded Lua modules enter through .incbin, which the compiler's
# dependency files do not see: drop the object when a module is newer.
define embed_deps
	@find build/obj -name embed.o 2>/dev/null | while read -r o; do \
	    [ -n "$$(find lua/perch -name '*.lua' -newer "$$o")" ] && rm -f "$$o"; true; \
	done
endef

release: deps gen
	$(embed_deps)
	@$(MAKE) --no-print-directory -C build/make -j$(JOBS) config=release

test-build: gen
	@sh .ci/deps test
	$(embed_deps)
	@$(MAKE) --no-print-directory -C build/make -j$(JOBS) config=test

test: test-build
	@tests/run build/test

test-aarch64:
	@sh .ci/deps aarch64
	@$(MAKE) --no-print-directory gen
	$(embed_deps)
	@$(MAKE) --no-print-directory -C build/make -j$(JOBS) config=cross \
	    CC=aarch64-linux-gnu-gcc AR=aarch64-linux-gnu-ar
	@# qemu-user runs ~20x slower: the two-thread ring stress moves 1M records
	@# there (10M natively), the cache's kill -9 test kills 10 writers (50
	@# natively), perch sim replays its day at 10 s steps (1 s natively) and
	@# the camera's MJPEG pipe runs at 4 fps of 160x120 and must deliver at
	@# least a quarter of its frames (natively 10 fps of 320x240, 90..110%);
	@# every other test is the same.
	@RUNNER="$(QEMU)" ASAN_OPTIONS=detect_leaks=0 PERCH_STRESS_RECORDS=1000000 \
	    PERCH_CACHE_KILLS=10 PERCH_SIM_DAY_STEP=10 PERCH_CAMERA_RATE=4 \
	    PERCH_CAMERA_SIZE=160x120 PERCH_CAMERA_MIN_PCT=25 tests/run build/aarch64

# The camera app on synthetic frames, with a fake sysfs tree whose battery
# the app drains at 5%/s: fps and JPEG quality step down as it goes.
demo: release
	@rm -rf build/demo && mkdir -p build/demo/frames \
	    build/demo/sys/class/power_supply/BAT0 build/demo/sys/class/thermal/thermal_zone0
	@cd build/demo/sys/class/power_supply/BAT0 && echo Battery >type && \
	    echo Discharging >status && echo 100 >capacity && echo 3900000 >voltage_now
	@cd build/demo/sys/class/thermal/thermal_zone0 && echo cpu-thermal >type && \
	    echo 45000 >temp && echo critical >trip_point_0_type && echo 90000 >trip_point_0_temp
	build/release/perch run $(DEMO) --duration $(DEMO_S) --no-watch \
	    --set source=synthetic --set sink=dir:build/demo/frames \
	    --set sysfs.root=build/demo/sys --set demo.discharge_per_s=5 \
	    --set camera.user_active=true --set camera.status_s=2 \
	    --set http.listen=127.0.0.1:$(DEMO_PORT)

bench: release
	@sh .ci/deps bench
	@bench/run build/release

clean:
	rm -rf build
