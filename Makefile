# SPDX-License-Identifier: MIT
#
# hlx — federated hash-list exchange node.
#
#   make            build ./hlx
#   make check      install missing packages (as root), build under ASan and
#                   UBSan, run the unit and integration tests
#   make demo       run a small local federation
#   make fuzz       build the libFuzzer harnesses and run each for FUZZ_TIME s
#   make bench      run the benchmarks
#   make deps       apt-get install everything the build, tests and demo need
#   make install    install the binary, the man page, bash completion and
#                   the systemd unit (DESTDIR, PREFIX); make uninstall
#   make deb        build the Debian package hlx_VERSION_ARCH.deb

PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
DEB_OUT ?= .
PKG_CONFIG ?= pkg-config
CFLAGS ?= -O2 -g
FUZZ_CC ?= clang
FUZZ_TIME ?= 30
FUZZ_RUNS ?= 0
O ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

# pkg-config name : Debian package that provides it
PKG_MAP := libsodium:libsodium-dev lmdb:liblmdb-dev jansson:libjansson-dev \
	   libgit2:libgit2-dev libcurl:libcurl4-openssl-dev \
	   zlib:zlib1g-dev
PKGS := $(foreach m,$(PKG_MAP),$(firstword $(subst :, ,$(m))))
# Everything the build, the tests, the fuzzers, the benchmarks and the demo use.
DEBS := make gcc clang libclang-rt-14-dev pkg-config \
	$(foreach m,$(PKG_MAP),$(lastword $(subst :, ,$(m)))) \
	lmdb-utils openssh-client git nginx-light openssl curl \
	procps man-db python3 systemd dpkg-dev lintian

# Only the benchmarks' baselines (make bench installs them as root).
BENCH_DEBS := sqlite3 python3-faiss

ifeq ($(V),1)
Q :=
else
Q := @
endif

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
# libcurl is not linked: the program loads it at its first transfer
# (node/curlso.h), so that commands that make none start without it
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(filter-out libcurl,$(PKGS)) 2>/dev/null)

# FUZZ=1: the library as the libFuzzer harnesses link it (built once for
# all of them by fuzz-build, with clang and coverage instrumentation).
ifeq ($(FUZZ),1)
CC := $(FUZZ_CC)
CFLAGS := -g -O1
endif

HLX_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wvla \
	-Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	-fno-strict-aliasing -pthread -MMD -MP -I. $(PKG_CFLAGS)
ifeq ($(SAN),1)
HLX_CFLAGS += -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
HLX_LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(FUZZ),1)
HLX_CFLAGS += -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer
endif
override CFLAGS += $(HLX_CFLAGS)
override LDFLAGS += -pthread $(HLX_LDFLAGS)
LDLIBS += $(PKG_LIBS)

PROTO_SRC := $(sort $(wildcard protocol/*.c))
KEYS_SRC := $(sort $(wildcard keys/*.c))
NODE_SRC := $(sort $(wildcard node/*.c))
# The program: the command table, the commands, main.  The library is
# everything else; nothing in it includes node/cli/ (tests/t0010).
CLI_SRC := $(sort $(wildcard node/cli/*.c))
CLI_OBJ := $(CLI_SRC:%.c=$(O)/%.o)
LIB_SRC := $(PROTO_SRC) $(KEYS_SRC) $(NODE_SRC)
LIB_OBJ := $(LIB_SRC:%.c=$(O)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test-*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)
# Test drivers, built with the unit tests and run by shell tests.
UNIT_BIN += $(O)/tests/plan-route-driver
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz-*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(O)/fuzz/%)

all: hlx

hlx: $(O)/hlx
	$(Q)cp $< $@

$(O)/hlx: $(CLI_OBJ) $(O)/libhlx.a
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/libhlx.a: $(LIB_OBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# An embedding linked against the library alone (tests/t0015).
$(O)/contrib/embed/match-one: contrib/embed/match-one.c $(O)/libhlx.a | pkgcheck
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(O)/libhlx.a $(LDLIBS)

# Preloaded into hlx by t0600: opens with O_TMPFILE fail, as on NFS.
# Built without the sanitizers (its caller's come first).
$(O)/tests/no-tmpfile.so: tests/tools/no-tmpfile.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) -std=c11 -Wall -Wextra -Werror -O2 -shared -fPIC -o $@ $< -ldl

# A matcher embedded as a pipeline worker would, and one timed call by
# call, for make bench (b0600); the PDQ index alone on synthetic hashes,
# against a brute-force scan or an index prototype (pdq-proto); the
# memory a batch reads, read alone (membw).
$(O)/tests/bench/match-worker $(O)/tests/bench/match-calls $(O)/tests/bench/pdq-proto $(O)/tests/bench/membw: $(O)/tests/bench/%: tests/bench/%.c $(O)/libhlx.a | pkgcheck
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(O)/libhlx.a $(LDLIBS)

# The commands without main, for unit tests that drive one (test-audit).
$(O)/libhlx-cli.a: $(filter-out $(O)/node/cli/main.o,$(CLI_OBJ))
	@echo "  AR      $@"
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(O)/%.o: %.c | pkgcheck
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(O)/tests/%.o: tests/unit/%.c | pkgcheck
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(O)/tests/%: $(O)/tests/%.o $(O)/libhlx-cli.a $(O)/libhlx.a
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Stop early, naming the Debian package, when a library is missing.
pkgcheck:
	@missing=""; for m in $(PKG_MAP); do \
		$(PKG_CONFIG) --exists "$${m%%:*}" || missing="$$missing $${m#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "hlx: cannot build: missing libraries; install them with:" >&2; \
		echo "  apt-get install$$missing   (or: sudo make deps)" >&2; \
		exit 1; \
	fi

deps:
	@if [ "$$(id -u)" != 0 ]; then \
		echo "make deps needs root; run:"; \
		echo "  sudo apt-get install -y $(DEBS)"; \
		exit 1; \
	fi; \
	missing=""; for d in $(DEBS); do \
		dpkg-query -W -f='$${Status}\n' "$$d" 2>/dev/null | \
			grep -q 'install ok installed' || missing="$$missing $$d"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "  APT    $$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -q $$missing >/dev/null 2>&1 || \
		{ apt-get update -q >/dev/null && apt-get install -y -q $$missing; }; \
	fi

# As root, install what is missing; otherwise the build says what to install.
ensure-deps:
	@if [ "$$(id -u)" = 0 ]; then $(MAKE) --no-print-directory deps; fi

units: $(UNIT_BIN) $(O)/tests/no-tmpfile.so

check: ensure-deps
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) O=$(O)/san SAN=1 $(O)/san/hlx units-san \
		$(O)/san/contrib/embed/match-one
	$(Q)HLX_BUILD=$(O)/san tests/run.sh

units-san: $(UNIT_BIN) $(O)/tests/no-tmpfile.so

# The library is compiled once, instrumented, for every harness.
fuzz-build: | pkgcheck
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) O=$(O)/fuzzers FUZZ=1 fuzzers

fuzzers: $(FUZZ_BIN)

$(O)/fuzz/%: tests/fuzz/%.c $(O)/libhlx.a | pkgcheck
	@mkdir -p $(@D)
	@echo "  FUZZ    $@"
	$(Q)$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(O)/libhlx.a \
		$(LDFLAGS) $(LDLIBS)

fuzz: ensure-deps fuzz-build
	$(Q)tests/fuzz/run.sh $(O)/fuzzers/fuzz $(FUZZ_TIME) $(FUZZ_RUNS)

# The build runs in a second make: this one read PKG_LIBS before
# ensure-deps installed the libraries it names.
bench: ensure-deps
	@if [ "$$(id -u)" = 0 ]; then $(MAKE) --no-print-directory deps DEBS="$(BENCH_DEBS)"; fi
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) all $(O)/tests/bench/match-worker \
		$(O)/tests/bench/match-calls $(O)/tests/bench/pdq-proto $(O)/tests/bench/membw
	$(Q)HLX_MATCH_WORKER=$(CURDIR)/$(O)/tests/bench/match-worker \
		HLX_MATCH_CALLS=$(CURDIR)/$(O)/tests/bench/match-calls \
		HLX_MEMBW=$(CURDIR)/$(O)/tests/bench/membw \
		HLX_PDQ_PROTO=$(CURDIR)/$(O)/tests/bench/pdq-proto \
		tests/bench/run.sh

demo: ensure-deps
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) all
	$(Q)contrib/demo/demo.sh

# bash completion, from the program's own command table
$(O)/hlx.bash-completion: $(O)/hlx
	@echo "  GEN     $@"
	$(Q)$(O)/hlx completion bash >$@.tmp && mv $@.tmp $@

# What make install puts where (make uninstall removes exactly these).
INSTALLED = $(BINDIR)/hlx $(MANDIR)/man1/hlx.1 $(COMPLETIONDIR)/hlx \
	$(UNITDIR)/hlx.service $(SYSUSERSDIR)/hlx.conf $(TMPFILESDIR)/hlx.conf

# The unit names the binary where it is installed.
install: $(O)/hlx $(O)/hlx.bash-completion
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(COMPLETIONDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR)
	install -m 0755 $(O)/hlx $(DESTDIR)$(BINDIR)/hlx
	install -m 0644 doc/hlx.1 $(DESTDIR)$(MANDIR)/man1/hlx.1
	install -m 0644 $(O)/hlx.bash-completion $(DESTDIR)$(COMPLETIONDIR)/hlx
	sed 's|^ExecStart=/usr/bin/hlx |ExecStart=$(BINDIR)/hlx |' \
		contrib/systemd/hlx.service >$(O)/hlx.service
	install -m 0644 $(O)/hlx.service $(DESTDIR)$(UNITDIR)/hlx.service
	install -m 0644 contrib/systemd/hlx.sysusers $(DESTDIR)$(SYSUSERSDIR)/hlx.conf
	install -m 0644 contrib/systemd/hlx.tmpfiles $(DESTDIR)$(TMPFILESDIR)/hlx.conf

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))

# The Debian package: make install into a staging tree (units in
# /lib/systemd/system, as Debian 12 has them), a compressed man page and
# changelog, the copyright, dependencies from dpkg-shlibdeps (and libcurl's
# package, which the program loads at run time: node/curlso.h), the postinst
# that makes the user; built with dpkg-deb, owned by root.
# On a fresh machine the libraries come first (as root), and the build
# runs in a second make that sees them (see demo).
deb: ensure-deps
	$(Q)$(MAKE) --no-print-directory deb-build

deb-build: $(O)/hlx $(O)/hlx.bash-completion
	$(Q)set -e; v=$$($(O)/hlx --version | sed -n 's/^hlx //p'); \
	a=$$(dpkg --print-architecture); s=$(O)/deb; r=$$s/root; \
	cv=$$(sed -n '1s/^hlx (\([^)]*\)).*/\1/p' contrib/debian/changelog); \
	if [ "$$v" != "$$cv" ]; then \
		echo "hlx: cannot build the package: version $$v has no entry in contrib/debian/changelog (its first is '$$cv')" >&2; \
		exit 1; \
	fi; \
	rm -rf $$s; \
	$(MAKE) --no-print-directory install O=$(O) DESTDIR=$$r PREFIX=/usr \
		UNITDIR=/lib/systemd/system >/dev/null; \
	strip --remove-section=.comment --remove-section=.note \
		--strip-unneeded $$r/usr/bin/hlx; \
	gzip -9n $$r/usr/share/man/man1/hlx.1; \
	install -d $$r/usr/share/doc/hlx $$r/DEBIAN; \
	install -m 0644 contrib/debian/copyright $$r/usr/share/doc/hlx/copyright; \
	gzip -9nc contrib/debian/changelog >$$r/usr/share/doc/hlx/changelog.gz; \
	chmod 0644 $$r/usr/share/doc/hlx/changelog.gz; \
	install -m 0755 contrib/debian/postinst contrib/debian/postrm $$r/DEBIAN/; \
	mkdir -p $$s/debian; \
	printf 'Source: hlx\n\nPackage: hlx\nArchitecture: any\n' >$$s/debian/control; \
	deps=$$(cd $$s && dpkg-shlibdeps -O -eroot/usr/bin/hlx | sed -n 's/^shlibs:Depends=//p'); \
	[ -n "$$deps" ]; \
	curl=$$(dpkg -S "$$(readlink -f "$$($(PKG_CONFIG) --variable=libdir libcurl)/libcurl.so.4")" | \
		sed -n '1s/:.*//p'); \
	[ -n "$$curl" ]; \
	deps="$$deps, $$curl (>= 7.85.0)"; \
	size=$$(du -sk --exclude=DEBIAN $$r | cut -f1); \
	sed -e "s|@VERSION@|$$v|" -e "s|@ARCH@|$$a|" -e "s|@SIZE@|$$size|" \
		-e "s|@DEPENDS@|$$deps|" contrib/debian/control.in >$$r/DEBIAN/control; \
	(cd $$r && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | \
		LC_ALL=C sort -z | xargs -0 md5sum) >$$r/DEBIAN/md5sums; \
	chmod 0644 $$r/DEBIAN/control $$r/DEBIAN/md5sums; \
	dpkg-deb --root-owner-group -Zxz --build $$r $(DEB_OUT)/hlx_$${v}_$$a.deb

clean:
	rm -rf $(O) hlx hlx_*.deb


.PHONY: all check units units-san fuzz fuzz-build fuzzers bench demo deps \
	ensure-deps pkgcheck install uninstall deb deb-build clean
.PRECIOUS: $(O)/tests/%.o

-include $(shell find $(O) -name '*.d' -type f 2>/dev/null)
