# laws — build, test, bench, fuzz.  See README.md.
#
#   make                 build build/laws/core.so for Lua 5.4
#   make LUA=luajit      build build/luajit/laws/core.so (also LUA=5.1 5.2 5.3)
#   make test            deps + build + C unit tests + busted suite, ends "N passed, N failed"
#   make demo            deps + build + the Connect Cases story against the local stand-in
#   make bench | fuzz | check-asan | check-valgrind | lint

LUA        ?= 5.4
PKG_CONFIG ?= pkg-config
CC         ?= cc
DESTDIR    ?=
PREFIX     ?= /usr/local

# Debian's luajit2 (the LuaJIT nginx's lua module links) installs its pkg-config file as
# "luajit"; Debian's lua5.X-dev install "lua5.X". The pure C parts do not depend on Lua, so
# every variant reuses the 5.4 build's objects (PURE_BUILD) and compiles only the bindings.
ifeq ($(LUA),luajit)
  LUA_PC    ?= luajit
  LUA_BIN   ?= luajit
  LUA_ABI   ?= 5.1
  BUILD     ?= build/luajit
else
  LUA_PC    ?= lua$(LUA)
  LUA_BIN   ?= lua$(LUA)
  LUA_ABI   ?= $(LUA)
  ifeq ($(LUA),5.4)
    BUILD   ?= build
  else
    BUILD   ?= build/lua$(LUA)
  endif
endif

PURE_BUILD ?= $(if $(filter build/lua% build/luajit,$(BUILD)),build,$(BUILD))

# LUA_INCDIR: the folder holding lua.h (override when pkg-config does not know your Lua).
LUA_INCDIR ?=
LUA_CFLAGS ?= $(if $(LUA_INCDIR),-I$(LUA_INCDIR),$(shell $(PKG_CONFIG) --cflags $(LUA_PC) 2>/dev/null))
LUA_CMOD   ?= $(PREFIX)/lib/lua/$(LUA_ABI)
LUA_LMOD   ?= $(PREFIX)/share/lua/$(LUA_ABI)

DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags libcurl openssl 2>/dev/null)
DEP_LIBS   := $(shell $(PKG_CONFIG) --libs libcurl openssl 2>/dev/null || echo -lcurl -lssl -lcrypto)

OPT        ?= -O2 -g
WARN       := -Wall -Wextra -Wmissing-prototypes -Wshadow -Wpointer-arith -Wformat=2
SAN        ?=
CFLAGS_ALL := $(OPT) $(WARN) $(SAN) -std=c99 -D_GNU_SOURCE -fPIC $(DEP_CFLAGS) $(CFLAGS)
LDFLAGS_ALL:= $(SAN) $(LDFLAGS)

# Pure C parts: every csrc/*.c except the bindings (l_*.c) and core.c. They never include lua.h.
ALL_SRC    := $(wildcard csrc/*.c)
BIND_SRC   := $(wildcard csrc/l_*.c) csrc/core.c
PURE_SRC   := $(filter-out $(BIND_SRC),$(ALL_SRC))
PURE_OBJ   := $(patsubst csrc/%.c,$(PURE_BUILD)/obj/%.o,$(PURE_SRC))
BIND_OBJ   := $(patsubst csrc/%.c,$(BUILD)/obj/%.o,$(BIND_SRC))
HDRS       := $(wildcard csrc/*.h)
CORE       := $(BUILD)/laws/core.so
PURE_LIB   := $(PURE_BUILD)/liblaws.a

CTEST_SRC  := $(wildcard test/c/test_*.c)
CTEST_BIN  := $(patsubst test/c/%.c,$(BUILD)/test/%,$(CTEST_SRC))
# Every Lua laws builds for; `make test` builds them all (the suite runs on 5.4 and LuaJIT,
# spec/luas_spec.lua loads the core under 5.1, 5.2 and 5.3).
LUAS       ?= 5.4 luajit 5.1 5.2 5.3

.PHONY: luas all deps test test-c test-lua demo bench fuzz fuzz-smoke check-asan check-valgrind lint clean install ctests
all: $(CORE)

$(BUILD)/obj/%.o: csrc/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

ifneq ($(PURE_BUILD),$(BUILD))
$(PURE_BUILD)/obj/%.o: csrc/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

endif

$(BUILD)/obj/l_%.o $(BUILD)/obj/core.o: CFLAGS_ALL += $(LUA_CFLAGS)
$(PURE_LIB): $(PURE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@; ar rcs $@ $^

$(CORE): $(BIND_OBJ) $(PURE_LIB)
	@mkdir -p $(dir $@)
	$(CC) -shared -o $@ $(BIND_OBJ) $(PURE_LIB) $(LDFLAGS_ALL) $(DEP_LIBS)

$(BUILD)/test/%: test/c/%.c test/c/tap.h $(PURE_LIB) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Icsrc -o $@ $< $(PURE_LIB) $(LDFLAGS_ALL) $(DEP_LIBS) -lm

ctests: $(CTEST_BIN)

luas:
	@for v in $(LUAS); do $(MAKE) --no-print-directory LUA=$$v all || exit 1; done

deps:
	@sh scripts/deps.sh

test: deps
	@$(MAKE) --no-print-directory luas ctests
	@sh scripts/test.sh

test-c: all ctests
	@LAWS_ONLY=c sh scripts/test.sh

test-lua: luas
	@LAWS_ONLY=lua sh scripts/test.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@sh bench/run.sh

fuzz:
	@sh fuzz/run.sh $(or $(FUZZ_SECONDS),600)

fuzz-smoke:
	@sh fuzz/run.sh 30

# The suite with the C core built under ASan/UBSan (build-asan/), run through the same test script.
check-asan:
	@$(MAKE) --no-print-directory luas
	@$(MAKE) --no-print-directory BUILD=build-asan CC=gcc OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all" all ctests
	@LAWS_BUILD=build-asan LAWS_SAN=1 sh scripts/test.sh

check-valgrind: all ctests
	@LAWS_VALGRIND=1 sh scripts/test.sh

lint:
	@luacheck -q lua spec bench examples

install: all
	install -d $(DESTDIR)$(LUA_CMOD)/laws $(DESTDIR)$(LUA_LMOD)
	install -m 0755 $(CORE) $(DESTDIR)$(LUA_CMOD)/laws/core.so
	cd lua && find laws -name '*.lua' -exec install -D -m 0644 {} $(DESTDIR)$(LUA_LMOD)/{} \;

clean:
	rm -rf build build-asan
