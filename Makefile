# platctl — build, install, test.
#
#   make            build ./platctl (warnings do not fail it; DEVELOPER=1 adds -Werror)
#   make check      install missing dependencies, build, run every test (unit, CLI, sanitizers)
#   make demo       install missing dependencies, build, run the demo on the embedded default
#   make deps       install build/test dependencies (Debian 12, needs root)
#   make install    PREFIX=/usr/local DESTDIR=
#   make fuzz       run the libFuzzer targets briefly (clang)
#   make bench      run the benchmarks (ratios against anchors measured in the same run)

VERSION    := 0.1.0
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
LIBEXECDIR ?= $(PREFIX)/lib/platctl
DESTDIR    ?=

CC      ?= cc
CFLAGS  ?= -O2 -g
PKGS    := yaml-0.1 libcjson openssl libpq libcurl libxml-2.0 libmagic rdkafka libargon2 cjose libmicrohttpd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# The document parsers and the seccomp filter are linked into the helper platctl-extract
# only (lib/extract, lib/sandbox): platctl itself never loads poppler, GLib or cairo.
HELPER_PKGS   := libxml-2.0 poppler-glib libzip libseccomp
HELPER_CFLAGS := $(shell pkg-config --cflags $(HELPER_PKGS) 2>/dev/null)
HELPER_LIBS   := $(shell pkg-config --libs $(HELPER_PKGS) 2>/dev/null)

# -Werror only for the project's own builds (make check, CI, DEVELOPER=1): a newer compiler's
# new warnings must not break a distribution's build of a release.
WARNINGS := -Wall -Wextra $(if $(filter 1,$(DEVELOPER)),-Werror) -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers
BASE_CPPFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -Ilib -Ibuild/gen $(PKG_CFLAGS)
# libwslay has no pkg-config file in Debian 12.
BASE_LDLIBS   := $(PKG_LIBS) -lwslay -lpthread -lm

SAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

MIGRATIONS := $(sort $(wildcard lib/db/migrations/*.sql))
NOTIFY_TPL := digest.txt digest.html reminder.txt reminder.html
NOTIFY_TPL_SRC := $(foreach t,$(NOTIFY_TPL),build/gen/notify_tpl_$(subst .,_,$(t)).c)
GEN_SRC  := build/gen/migrations_data.c build/gen/taxonomy_data.c $(NOTIFY_TPL_SRC)
HELPER_LIB_SRC := lib/extract/parse.c lib/extract/pdf.c lib/sandbox/confine.c
LIB_SRC  := $(filter-out $(HELPER_LIB_SRC),$(sort $(wildcard lib/*/*.c))) $(GEN_SRC)
CMD_SRC  := $(sort $(wildcard cmd/platctl/*.c))
HELPER_SRC := $(sort $(wildcard cmd/platctl-extract/*.c)) $(HELPER_LIB_SRC)
HELPER_OBJ := $(HELPER_SRC:%.c=build/obj/%.o)
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
MAN_SRC  := $(sort $(wildcard man/*.scd))

LIB_OBJ  := $(LIB_SRC:%.c=build/obj/%.o)
CMD_OBJ  := $(CMD_SRC:%.c=build/obj/%.o)
TESTS    := $(TEST_SRC:tests/unit/%.c=build/tests/%)
ASAN_LIB_OBJ := $(LIB_SRC:%.c=build/asan/%.o)
ASAN_CMD_OBJ := $(filter-out build/asan/cmd/platctl/main.o,$(CMD_SRC:%.c=build/asan/%.o))
ASAN_TESTS   := $(TEST_SRC:tests/unit/%.c=build/asan/tests/%)
MAN_OUT  := $(MAN_SRC:man/%.scd=build/man/%)

# Objects built only as prerequisites are kept (make would delete them as intermediates).
.SECONDARY:

.PHONY: all deps check demo install uninstall clean fuzz bench man test-bins print-cppflags FORCE

# Swagger UI for GET /docs: web/docs and the swagger-ui-dist files npm put in
# web/docs/node_modules (make deps, from the committed lock file). Without them the build
# goes on, and /docs says it is not installed.
SWAGGER_DIST := web/docs/node_modules/swagger-ui-dist
DOCS_UI := $(if $(wildcard $(SWAGGER_DIST)/swagger-ui-bundle.js),build/docs/.stamp)
all: platctl platctl-extract man $(DOCS_UI)

build/docs/.stamp: web/docs/index.html web/docs/init.js $(SWAGGER_DIST)/package.json
	@mkdir -p build/docs
	cp web/docs/index.html web/docs/init.js build/docs/
	cp $(SWAGGER_DIST)/swagger-ui-bundle.js $(SWAGGER_DIST)/swagger-ui.css $(SWAGGER_DIST)/favicon-32x32.png build/docs/
	cp $(SWAGGER_DIST)/LICENSE build/docs/LICENSE.swagger-ui
	@touch $@


# ---- build info: regenerated only when the commit changes, so builds stay incremental ----
BUILD_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
BUILD_DATE   := $(shell date -u -d @$${SOURCE_DATE_EPOCH:-$$(date +%s)} +%Y-%m-%dT%H:%M:%SZ)
build/gen/build_info.h: FORCE
	@mkdir -p $(@D)
	@printf '#define PLATCTL_VERSION "%s"\n#define PLATCTL_COMMIT "%s"\n#define PLATCTL_BUILD_DATE "%s"\n' \
		'$(VERSION)' '$(BUILD_COMMIT)' '$(BUILD_DATE)' > $@.tmp
	@if [ -f $@ ] && [ "$$(grep -v BUILD_DATE $@)" = "$$(grep -v BUILD_DATE $@.tmp)" ]; then rm $@.tmp; else mv $@.tmp $@; fi

build/obj/cmd/platctl/version.o build/asan/cmd/platctl/version.o: build/gen/build_info.h

# The warning flags in use: objects built without -Werror are rebuilt when it is turned on
# (make check after make), so a warning cannot hide in an up-to-date object.
build/gen/warnings: FORCE
	@mkdir -p $(@D)
	@echo '$(WARNINGS)' | cmp -s - $@ || echo '$(WARNINGS)' > $@

# Where make install puts the helper: the last place platctl looks for it (lib/extract).
build/gen/paths.h: FORCE
	@mkdir -p $(@D)
	@printf '#define PLATCTL_LIBEXECDIR "%s"\n#define PLATCTL_SYSCONFDIR "%s"\n#define PLATCTL_DOCSDIR "%s"\n' \
		'$(LIBEXECDIR)' '$(SYSCONFDIR)' '$(DATADIR)/platctl/docs' > $@.tmp
	@if cmp -s $@ $@.tmp; then rm $@.tmp; else mv $@.tmp $@; fi

build/obj/lib/extract/extract.o build/asan/lib/extract/extract.o: build/gen/paths.h
build/obj/lib/http/routes_docs.o build/asan/lib/http/routes_docs.o: build/gen/paths.h
build/obj/lib/notify/template.o build/asan/lib/notify/template.o: build/gen/paths.h

# The SQL migrations are compiled into the binary. The list is a prerequisite too: a
# renamed or removed migration (whose mtime says nothing) must regenerate the data.
build/gen/migrations.list: FORCE
	@mkdir -p $(@D)
	@echo '$(MIGRATIONS)' | cmp -s - $@ || echo '$(MIGRATIONS)' > $@

build/gen/migrations_data.c: $(MIGRATIONS) build/gen/migrations.list scripts/embed-migrations.sh
	@mkdir -p $(@D)
	scripts/embed-migrations.sh $@ $(MIGRATIONS)

# So is the builtin classifier's taxonomy (ai.taxonomy only overrides it).
build/gen/taxonomy_data.c: etc/platctl/classes.yaml scripts/embed-data.sh
	@mkdir -p $(@D)
	scripts/embed-data.sh $@ plat_taxonomy_builtin_yaml etc/platctl/classes.yaml

# And the notification templates, so that a missing notify.templates directory still works.
$(NOTIFY_TPL_SRC): build/gen/notify_tpl_%.c: scripts/embed-data.sh $(addprefix etc/platctl/notify/,$(NOTIFY_TPL))
	@mkdir -p $(@D)
	scripts/embed-data.sh $@ plat_notify_tpl_$* etc/platctl/notify/$(subst _,.,$*)

# ---- library and binary ----
build/obj/%.o: %.c build/gen/warnings
	@mkdir -p $(@D)
	$(CC) $(BASE_CPPFLAGS) $(CPPFLAGS) $(CFLAGS) $(WARNINGS) -MMD -MP -c -o $@ $<

build/libplat.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# The helper comes with the binary: whatever builds platctl (demo, bench, packaging) builds
# both.
platctl: $(CMD_OBJ) build/libplat.a | platctl-extract
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CMD_OBJ) build/libplat.a $(BASE_LDLIBS) $(LDLIBS)

$(HELPER_OBJ): BASE_CPPFLAGS += $(HELPER_CFLAGS)
platctl-extract: $(HELPER_OBJ) build/libplat.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(HELPER_OBJ) build/libplat.a $(HELPER_LIBS) $(LDLIBS)

# The unit tests find the helper beside themselves, as platctl does.
build/tests/platctl-extract build/asan/tests/platctl-extract: platctl-extract
	@mkdir -p $(@D)
	ln -sf $(abspath platctl-extract) $@

# ---- unit tests (cmocka), plain and under ASan+UBSan ----
# Unit tests link the library and the command objects (not main.o's main), so command
# logic can be tested in-process.
# The Kafka cluster the tests talk to (tests/services/kafka.sh starts it).
build/tests/kafka-mock: tests/services/kafka_mock.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CPPFLAGS) $(CFLAGS) $(WARNINGS) -o $@ $< $(BASE_LDLIBS)

build/tests/%: tests/unit/%.c build/libplat.a $(filter-out build/obj/cmd/platctl/main.o,$(CMD_OBJ)) build/obj/tests/unit/platctl_nomain.o
	@mkdir -p $(@D)
	$(CC) $(BASE_CPPFLAGS) -Icmd/platctl $(CFLAGS) $(WARNINGS) -Wno-missing-prototypes -o $@ $< \
		build/obj/tests/unit/platctl_nomain.o $(filter-out build/obj/cmd/platctl/main.o,$(CMD_OBJ)) \
		build/libplat.a $(BASE_LDLIBS) -lcmocka

build/obj/tests/unit/platctl_nomain.o: cmd/platctl/main.c build/gen/warnings
	@mkdir -p $(@D)
	$(CC) $(BASE_CPPFLAGS) $(CFLAGS) $(WARNINGS) -DPLATCTL_NO_MAIN -MMD -MP -c -o $@ $<

build/asan/%.o: %.c build/gen/warnings
	@mkdir -p $(@D)
	$(CC) $(BASE_CPPFLAGS) $(SAN_FLAGS) $(WARNINGS) -MMD -MP -c -o $@ $<

build/asan/libplat.a: $(ASAN_LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

build/asan/tests/unit/platctl_nomain.o: cmd/platctl/main.c build/gen/warnings
	@mkdir -p $(@D)
	$(CC) $(BASE_CPPFLAGS) $(SAN_FLAGS) $(WARNINGS) -DPLATCTL_NO_MAIN -MMD -MP -c -o $@ $<

build/asan/tests/%: tests/unit/%.c build/asan/libplat.a $(ASAN_CMD_OBJ) build/asan/tests/unit/platctl_nomain.o
	@mkdir -p $(@D)
	$(CC) $(BASE_CPPFLAGS) -Icmd/platctl $(SAN_FLAGS) $(WARNINGS) -Wno-missing-prototypes -o $@ $< \
		build/asan/tests/unit/platctl_nomain.o $(ASAN_CMD_OBJ) build/asan/libplat.a $(BASE_LDLIBS) -lcmocka

# test_extract makes DOCX files with libzip.
build/tests/test_extract build/asan/tests/test_extract: BASE_LDLIBS += $(shell pkg-config --libs libzip 2>/dev/null)

test-bins: platctl $(DOCS_UI) $(TESTS) $(ASAN_TESTS) build/tests/kafka-mock build/tests/platctl-extract \
	build/asan/tests/platctl-extract man

# ---- man pages ----
man: $(MAN_OUT)
build/man/%: man/%.scd
	@mkdir -p $(@D)
	scdoc < $< > $@

# The preprocessor flags the build uses (tests/cli/layers.bats checks what cmd/ includes).
print-cppflags:
	@echo $(BASE_CPPFLAGS) $(CPPFLAGS)

# ---- the two commands the README promises ----
deps:
	scripts/deps.sh

# Separate make runs: pkg-config flags are read when make starts, so dependencies must
# be installed before the build's make starts. check is a developer build (-Werror), and
# so are the make runs of the tests it starts (install.bats), so they rebuild nothing.
# The test binaries build in parallel (one job per core) unless make -j already set a job
# server, whose limit then holds.
check:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory $(if $(findstring jobserver,$(MAKEFLAGS)),,-j$(shell nproc 2>/dev/null || echo 1)) \
		test-bins DEVELOPER=1
	@DEVELOPER=1 scripts/check.sh

demo:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory platctl
	@scripts/demo.sh

# ---- fuzzing (clang's libFuzzer; not part of check) ----
FUZZ_SECONDS ?= 30
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
fuzz:
	@scripts/deps.sh
	@mkdir -p build/fuzz
	@$(MAKE) --no-print-directory $(GEN_SRC) build/gen/build_info.h build/gen/paths.h
	clang $(BASE_CPPFLAGS) -Icmd/platctl $(FUZZ_FLAGS) -o build/fuzz/fuzz_config tests/fuzz/fuzz_config.c $(LIB_SRC) $(BASE_LDLIBS)
	clang $(BASE_CPPFLAGS) -Icmd/platctl $(FUZZ_FLAGS) -DPLATCTL_NO_MAIN -o build/fuzz/fuzz_argv tests/fuzz/fuzz_argv.c $(CMD_SRC) $(LIB_SRC) $(BASE_LDLIBS)
	clang $(BASE_CPPFLAGS) $(FUZZ_FLAGS) -o build/fuzz/fuzz_s3_xml tests/fuzz/fuzz_s3_xml.c $(LIB_SRC) $(BASE_LDLIBS)
	clang $(BASE_CPPFLAGS) $(FUZZ_FLAGS) -o build/fuzz/fuzz_rules tests/fuzz/fuzz_rules.c $(LIB_SRC) $(BASE_LDLIBS)
	scripts/fuzz.sh $(FUZZ_SECONDS)

bench:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory platctl build/bench/gen-chunks build/bench/bench-tokens build/tests/kafka-mock
	@bench/run.sh

# Test data for bench_search.sh: chunks with builtin embeddings.
build/bench/gen-chunks: bench/gen_chunks.c build/libplat.a
	@mkdir -p $(@D)
	$(CC) $(BASE_CPPFLAGS) $(CFLAGS) $(WARNINGS) -o $@ $< build/libplat.a $(BASE_LDLIBS)

# bench_tokens.sh's driver: token verification against bare OpenSSL calls.
build/bench/bench-tokens: bench/bench_tokens.c build/libplat.a
	@mkdir -p $(@D)
	$(CC) $(BASE_CPPFLAGS) $(CFLAGS) $(WARNINGS) -o $@ $< build/libplat.a $(BASE_LDLIBS)

# ---- install ----
install: platctl platctl-extract man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(DATADIR)/bash-completion/completions $(DESTDIR)$(DATADIR)/zsh/vendor-completions \
		$(DESTDIR)$(DATADIR)/fish/vendor_completions.d $(DESTDIR)$(SYSCONFDIR)/platctl \
		$(DESTDIR)$(DATADIR)/doc/platctl/examples $(DESTDIR)$(UNITDIR) $(DESTDIR)$(LIBEXECDIR)
	install -m 0755 platctl $(DESTDIR)$(BINDIR)/platctl
	install -m 0755 platctl-extract $(DESTDIR)$(LIBEXECDIR)/platctl-extract
	for f in $(filter %.1,$(MAN_OUT)); do install -m 0644 $$f $(DESTDIR)$(MANDIR)/man1/; done
	for f in $(filter %.5,$(MAN_OUT)); do install -m 0644 $$f $(DESTDIR)$(MANDIR)/man5/; done
	for f in $(filter %.7,$(MAN_OUT)); do install -m 0644 $$f $(DESTDIR)$(MANDIR)/man7/; done
	install -m 0644 completions/platctl.bash $(DESTDIR)$(DATADIR)/bash-completion/completions/platctl
	install -m 0644 completions/_platctl $(DESTDIR)$(DATADIR)/zsh/vendor-completions/_platctl
	install -m 0644 completions/platctl.fish $(DESTDIR)$(DATADIR)/fish/vendor_completions.d/platctl.fish
	install -m 0644 etc/platctl.yaml $(DESTDIR)$(DATADIR)/doc/platctl/examples/config.yaml
	[ -e $(DESTDIR)$(SYSCONFDIR)/platctl/config.yaml ] || \
		install -m 0640 etc/platctl.yaml $(DESTDIR)$(SYSCONFDIR)/platctl/config.yaml
	install -m 0644 etc/platctl/classes.yaml $(DESTDIR)$(DATADIR)/doc/platctl/examples/classes.yaml
	install -m 0644 etc/nginx/platctl.conf $(DESTDIR)$(DATADIR)/doc/platctl/examples/nginx.conf
	if [ -f build/docs/.stamp ]; then install -d $(DESTDIR)$(DATADIR)/platctl/docs && \
		install -m 0644 build/docs/* $(DESTDIR)$(DATADIR)/platctl/docs/; fi
	install -d $(DESTDIR)$(SYSCONFDIR)/platctl/notify
	for f in $(NOTIFY_TPL); do [ -e $(DESTDIR)$(SYSCONFDIR)/platctl/notify/$$f ] || \
		install -m 0644 etc/platctl/notify/$$f $(DESTDIR)$(SYSCONFDIR)/platctl/notify/$$f; done
	for f in jobs/*.service jobs/*.timer; do [ -e "$$f" ] || continue; \
		sed 's|@BINDIR@|$(BINDIR)|g; s|@LIBEXECDIR@|$(LIBEXECDIR)|g' $$f > $(DESTDIR)$(UNITDIR)/$$(basename $$f); \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$(basename $$f); done
	install -m 0755 jobs/platctl-job-failed $(DESTDIR)$(LIBEXECDIR)/platctl-job-failed
	install -D -m 0644 jobs/platctl.sysusers $(DESTDIR)$(SYSUSERSDIR)/platctl.conf
	install -d $(DESTDIR)$(SYSCONFDIR)/cron.d
	sed 's|@BINDIR@|$(BINDIR)|g' jobs/platctl.cron > $(DESTDIR)$(SYSCONFDIR)/cron.d/platctl
	chmod 0644 $(DESTDIR)$(SYSCONFDIR)/cron.d/platctl
	# Rule files are the administrator's once installed: an edited one is never replaced
	# (the originals stay in the examples).
	install -d $(DESTDIR)$(SYSCONFDIR)/platctl/compliance.d $(DESTDIR)$(DATADIR)/doc/platctl/examples/compliance.d
	for f in etc/platctl/compliance.d/*.yaml; do \
		install -m 0644 $$f $(DESTDIR)$(DATADIR)/doc/platctl/examples/compliance.d/; \
		[ -e $(DESTDIR)$(SYSCONFDIR)/platctl/compliance.d/$$(basename $$f) ] || \
			install -m 0644 $$f $(DESTDIR)$(SYSCONFDIR)/platctl/compliance.d/; done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/platctl $(DESTDIR)$(LIBEXECDIR)/platctl-extract $(DESTDIR)$(LIBEXECDIR)/platctl-job-failed \
		$(DESTDIR)$(SYSUSERSDIR)/platctl.conf $(DESTDIR)$(SYSCONFDIR)/cron.d/platctl \
		$(DESTDIR)$(DATADIR)/bash-completion/completions/platctl \
		$(DESTDIR)$(DATADIR)/zsh/vendor-completions/_platctl \
		$(DESTDIR)$(DATADIR)/fish/vendor_completions.d/platctl.fish
	rm -rf $(DESTDIR)$(DATADIR)/doc/platctl $(DESTDIR)$(DATADIR)/platctl
	for f in $(notdir $(MAN_OUT)); do rm -f $(DESTDIR)$(MANDIR)/man1/$$f $(DESTDIR)$(MANDIR)/man5/$$f \
		$(DESTDIR)$(MANDIR)/man7/$$f; done
	for f in jobs/*.service jobs/*.timer; do rm -f $(DESTDIR)$(UNITDIR)/$$(basename $$f); done

clean:
	rm -rf build platctl platctl-extract

-include $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d) $(ASAN_LIB_OBJ:.o=.d) $(ASAN_CMD_OBJ:.o=.d) $(HELPER_OBJ:.o=.d)
