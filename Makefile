# virtvzd: build, test, run, install.
#
#   make            build the daemon (target/release/virtvzd)
#   make run        build and run it in the foreground on the embedded host
#   make check      install test dependencies if missing, then lint and test
#                   (the domain suites twice: on the built-in embedded host,
#                   then through dlopen of libprlsdk_emu.so)
#   make bench      measure it beside libvirtd (prints numbers; never fails on speed)
#   make fuzz       run the fuzz targets (FUZZ_TIME seconds each, FUZZ_TARGETS)
#   make soak       8 clients churning guests for SOAK_SECONDS (600), RSS sampled
#   make install    install into $(DESTDIR) (see the variables below)

PREFIX        ?= /usr
SBINDIR       ?= $(PREFIX)/sbin
SYSCONFDIR    ?= /etc
RUNSTATEDIR   ?= /run
LOCALSTATEDIR ?= /var
UNITDIR       ?= $(PREFIX)/lib/systemd/system
MANDIR        ?= $(PREFIX)/share/man
INITDIR       ?= $(SYSCONFDIR)/init.d
DEFAULTDIR    ?= $(SYSCONFDIR)/default
# The OpenRC script is installed only on request (it would replace the
# SysV script of the same name): make install OPENRC=1
OPENRC        ?= 0
DESTDIR       ?=
CARGO         ?= cargo
CARGO_TARGET_DIR ?= target
VIRTVZD_BINARY ?= $(CARGO_TARGET_DIR)/release/virtvzd
# The embedded host as a shared library with the SDK's exports, and the
# end-to-end tests that run a second time through it (vz_sdk = "system").
SDK_EMU_LIBRARY = $(abspath $(CARGO_TARGET_DIR))/release/libprlsdk_emu.so
SDK_PASS_TESTS ?= domain:: devices:: events:: snapshot faults:: cache:: gaps:: volume::

export VIRTVZD_SYSCONFDIR = $(SYSCONFDIR)
export VIRTVZD_RUNSTATEDIR = $(RUNSTATEDIR)
export VIRTVZD_LOCALSTATEDIR = $(LOCALSTATEDIR)
export CARGO_TARGET_DIR

SUBST = sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	-e 's|@RUNSTATEDIR@|$(RUNSTATEDIR)|g' -e 's|@DEFAULTDIR@|$(DEFAULTDIR)|g'
# The manual page and the config file name the default paths as they are
# (so they read right in the source tree): moved with the build's settings.
PATHS = sed -e 's|/etc/libvirt/|$(SYSCONFDIR)/libvirt/|g' \
	-e 's|/run/libvirt/|$(RUNSTATEDIR)/libvirt/|g' -e 's|/run/virtvzd\.pid|$(RUNSTATEDIR)/virtvzd.pid|g' \
	-e 's|/var/lib/libvirt|$(LOCALSTATEDIR)/lib/libvirt|g' -e 's|/var/log/libvirt|$(LOCALSTATEDIR)/log/libvirt|g'

UNITS = virtvzd.service virtvzd.socket virtvzd-ro.socket virtvzd-admin.socket

.PHONY: all run check bench fuzz soak install uninstall clean FORCE

all: $(CARGO_TARGET_DIR)/release/virtvzd

$(CARGO_TARGET_DIR)/release/virtvzd: FORCE
	$(CARGO) build --release --bin virtvzd

run: all
	@if [ "$$(id -u)" = 0 ]; then \
	  echo "virtvzd: serving vz:///system; in another shell: virsh -c vz:///system list --all"; \
	else \
	  echo "virtvzd: serving vz:///session; in another shell: virsh -c vz:///session list --all"; \
	fi
	exec $(CARGO_TARGET_DIR)/release/virtvzd --verbose

check:
	test/install-deps.sh
	$(CARGO) fmt --check
	$(CARGO) fmt --check --manifest-path test/bench/Cargo.toml
	$(CARGO) fmt --check --manifest-path test/prlsdk-emu/Cargo.toml
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) clippy --manifest-path test/bench/Cargo.toml -- -D warnings
	$(CARGO) clippy --manifest-path test/prlsdk-emu/Cargo.toml -- -D warnings
	$(CARGO) fmt --check --manifest-path test/fuzz/Cargo.toml
	$(CARGO) test --release
	$(CARGO) build --release --manifest-path test/prlsdk-emu/Cargo.toml
	VIRTVZD_TEST_SDK_LIBRARY=$(SDK_EMU_LIBRARY) $(CARGO) test --release --test e2e -- $(SDK_PASS_TESTS)
	test/fuzz/run.sh check
	@# systemd-analyze exits 0 on most complaints: any output is a failure.
	@if command -v systemd-analyze >/dev/null 2>&1; then \
	  tmp=$$(mktemp -d) && \
	  for u in $(UNITS); do \
	    sed -e 's|@SBINDIR@|$(CURDIR)/$(CARGO_TARGET_DIR)/release|g' -e 's|@RUNSTATEDIR@|$(RUNSTATEDIR)|g' \
	        -e 's|@DEFAULTDIR@|$(DEFAULTDIR)|g' units/$$u > $$tmp/$$u; \
	  done && \
	  out=$$(cd $$tmp && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no $(UNITS) 2>&1); \
	  rc=$$?; rm -rf $$tmp; \
	  if [ $$rc != 0 ] || [ -n "$$out" ]; then echo "$$out"; echo "systemd-analyze verify: units FAILED"; exit 1; fi; \
	  echo "systemd-analyze verify: units OK"; \
	else echo "systemd-analyze not installed: unit check skipped"; fi

# Side by side with libvirt's libvirtd (installed if missing); a few
# minutes. BENCH_ARGS: --seconds S --rounds N --max-domains N.
bench: all
	test/bench/install-libvirtd.sh
	$(CARGO) run --release --manifest-path test/bench/Cargo.toml -- \
	  --daemon $(CURDIR)/$(CARGO_TARGET_DIR)/release/virtvzd $(BENCH_ARGS)

fuzz:
	test/fuzz/run.sh fuzz $(FUZZ_TARGETS)

SOAK_SECONDS ?= 600
soak:
	test/install-deps.sh
	SOAK_SECONDS=$(SOAK_SECONDS) $(CARGO) test --release --test e2e soak -- --ignored --nocapture

install: $(VIRTVZD_BINARY)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSCONFDIR)/libvirt $(DESTDIR)$(UNITDIR) \
	  $(DESTDIR)$(INITDIR) $(DESTDIR)$(DEFAULTDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(VIRTVZD_BINARY) $(DESTDIR)$(SBINDIR)/virtvzd
	$(PATHS) etc/virtvzd.conf > $(DESTDIR)$(SYSCONFDIR)/libvirt/virtvzd.conf
	chmod 0644 $(DESTDIR)$(SYSCONFDIR)/libvirt/virtvzd.conf
	for u in $(UNITS); do \
	  $(SUBST) units/$$u > $(DESTDIR)$(UNITDIR)/$$u && chmod 0644 $(DESTDIR)$(UNITDIR)/$$u; \
	done
	$(SUBST) etc/init.d/virtvzd > $(DESTDIR)$(INITDIR)/virtvzd
	chmod 0755 $(DESTDIR)$(INITDIR)/virtvzd
	@if [ "$(OPENRC)" = 1 ]; then \
	  $(SUBST) etc/openrc/virtvzd > $(DESTDIR)$(INITDIR)/virtvzd && chmod 0755 $(DESTDIR)$(INITDIR)/virtvzd; \
	fi
	install -m 0644 etc/default/virtvzd $(DESTDIR)$(DEFAULTDIR)/virtvzd
	$(PATHS) man8/virtvzd.8 > $(DESTDIR)$(MANDIR)/man8/virtvzd.8
	chmod 0644 $(DESTDIR)$(MANDIR)/man8/virtvzd.8

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/virtvzd $(DESTDIR)$(SYSCONFDIR)/libvirt/virtvzd.conf \
	  $(DESTDIR)$(INITDIR)/virtvzd $(DESTDIR)$(DEFAULTDIR)/virtvzd \
	  $(DESTDIR)$(MANDIR)/man8/virtvzd.8
	for u in $(UNITS); do rm -f $(DESTDIR)$(UNITDIR)/$$u; done

clean:
	$(CARGO) clean
	rm -rf test/bench/target test/prlsdk-emu/target
