## fuzz: libFuzzer targets (make fuzz, needs clang); never run by make check.
##   make fuzz        builds fuzz/fuzz_{term,handshake,ctrl,ops} and runs each for
##                    FUZZ_SECONDS (default 30) over a copy of its corpus
##                    fuzz/corpus/NAME; fails on a crash (fuzz/run.sh).
##   make fuzz-smoke  the same for 20 s each, for CI.
## The targets are built with clang directly, not libtool: the code under
## test (src/base, src/term, src/dist and FUZZ_LIB_MORE) is compiled again
## with coverage instrumentation (-fsanitize=fuzzer-no-link) and ASan/UBSan
## into fuzz/libpga-fuzz.a. FUZZ_TARGETS picks targets, FUZZ_FLAGS adds
## libFuzzer flags. fuzz/capture_corpus.exs regenerates the handshake and ctrl seeds.
FUZZ_CC = clang
FUZZ_SECONDS = 30
FUZZ_TARGETS = term handshake ctrl ops endpoint
FUZZ_SANITIZE = -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS = -g -O1 -fno-omit-frame-pointer $(FUZZ_SANITIZE)
FUZZ_CPPFLAGS = -DPGA_BUILDING -I$(top_builddir) -I$(top_srcdir)/include \
	-I$(top_srcdir)/src $(EI_CPPFLAGS) $(OPENSSL_CFLAGS)
FUZZ_LIBS = $(EI_LIBS) $(OPENSSL_LIBS) $(JANSSON_LIBS) $(MSGPACK_LIBS) $(WSLAY_LIBS) \
	$(HTTP_PARSER_LIBS) -lpthread
FUZZ_PROGS = fuzz/fuzz_term fuzz/fuzz_handshake fuzz/fuzz_ctrl fuzz/fuzz_ops \
	fuzz/fuzz_endpoint
## The pure ops and relay files fuzz_ops calls, and the src/rpc files that
## render.c's pga_ops_print links against. The renderers of diag_print.c,
## limiter_print.c, failed_print.c and callflow_print.c are left out: their
## objects pull in the whole node (health.c, plane.c, callflow.c, ...).
FUZZ_LIB_MORE = src/ops/render.c src/ops/eval.c src/ops/trace_args.c \
	src/ops/trace_msg.c src/ops/callflow_steps.c src/relay/groups.c \
	src/relay/terms.c src/rpc/registry.c src/rpc/server.c src/rpc/io.c \
	src/rpc/client.c src/rpc/stream.c \
	src/endpoints/phx.c src/endpoints/json_term.c src/endpoints/upgrade.c \
	src/endpoints/token.c src/endpoints/msgpack.c

EXTRA_DIST += fuzz/fuzz_term.c fuzz/fuzz_handshake.c fuzz/fuzz_ctrl.c \
	fuzz/fuzz_ops.c fuzz/fuzz_endpoint.c fuzz/run.sh fuzz/capture_corpus.exs fuzz/ops_corpus.escript fuzz/endpoint_corpus.py \
	fuzz/corpus
CLEANFILES += $(FUZZ_PROGS) fuzz/libpga-fuzz.a fuzz/fuzz_term.log \
	fuzz/fuzz_handshake.log fuzz/fuzz_ctrl.log fuzz/fuzz_ops.log \
	fuzz/fuzz_endpoint.log

## The src/base, src/term, src/dist and FUZZ_LIB_MORE files of libpga_core,
## one object each (objects are named after their path, so equal basenames
## cannot clash).
fuzz/libpga-fuzz.a: $(libpga_core_la_SOURCES) $(noinst_HEADERS) \
		$(pkginclude_HEADERS) config.h
	@command -v $(FUZZ_CC) >/dev/null 2>&1 || { \
	  echo "fuzz: $(FUZZ_CC) not found (set FUZZ_CC to a clang with libFuzzer)" >&2; \
	  exit 1; }
	@rm -rf fuzz/objs && $(MKDIR_P) fuzz/objs && \
	for f in $(libpga_core_la_SOURCES); do \
	  case " $(FUZZ_LIB_MORE) " in *" $$f "*) ;; *) \
	    case $$f in src/base/*.c|src/term/*.c|src/dist/*.c) ;; \
	      *) continue ;; esac ;; esac; \
	  o=fuzz/objs/`echo $$f | sed 's|/|_|g; s|\.c$$|.o|'`; \
	  echo "  FUZZCC   $$f"; \
	  $(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_CPPFLAGS) \
	    -c $(srcdir)/$$f -o $$o || exit 1; \
	done && \
	rm -f $@ && $(AR) cr $@ fuzz/objs/*.o && rm -rf fuzz/objs

fuzz/fuzz_term: fuzz/fuzz_term.c fuzz/libpga-fuzz.a
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_CPPFLAGS) \
	  $(srcdir)/fuzz/fuzz_term.c fuzz/libpga-fuzz.a $(FUZZ_LIBS) -o $@
fuzz/fuzz_handshake: fuzz/fuzz_handshake.c fuzz/libpga-fuzz.a
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_CPPFLAGS) \
	  $(srcdir)/fuzz/fuzz_handshake.c fuzz/libpga-fuzz.a $(FUZZ_LIBS) -o $@
fuzz/fuzz_ctrl: fuzz/fuzz_ctrl.c fuzz/libpga-fuzz.a
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_CPPFLAGS) \
	  $(srcdir)/fuzz/fuzz_ctrl.c fuzz/libpga-fuzz.a $(FUZZ_LIBS) -o $@
fuzz/fuzz_ops: fuzz/fuzz_ops.c fuzz/libpga-fuzz.a
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_CPPFLAGS) \
	  $(srcdir)/fuzz/fuzz_ops.c fuzz/libpga-fuzz.a $(FUZZ_LIBS) -o $@

fuzz/fuzz_endpoint: fuzz/fuzz_endpoint.c fuzz/libpga-fuzz.a
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_CPPFLAGS) \
	  $(srcdir)/fuzz/fuzz_endpoint.c fuzz/libpga-fuzz.a $(FUZZ_LIBS) -o $@

.PHONY: fuzz fuzz-build fuzz-smoke
fuzz-build:
	@targets=; for t in $(FUZZ_TARGETS); do targets="$$targets fuzz/fuzz_$$t"; done; \
	$(MAKE) $(AM_MAKEFLAGS) $$targets
fuzz: fuzz-build
	bash $(srcdir)/fuzz/run.sh $(FUZZ_SECONDS) fuzz $(srcdir)/fuzz/corpus \
	  $(FUZZ_TARGETS)
fuzz-smoke:
	$(MAKE) $(AM_MAKEFLAGS) fuzz FUZZ_SECONDS=20

## fuzz_term (fuzz/fuzz_term.c): pga_term_view_versioned on the input, then
## every reader, pga_term_format and a readers-to-builder round trip on what
## it accepts (traps if the rebuilt term is not equal); the raw bytes also go
## through the readers as an unchecked view. Seeds fuzz/corpus/term/*.bin are
## the term goldens, written with tests/data/term/*.term by
## tests/data/term/gen.escript. Needs only src/term and libei.

## fuzz_ops (fuzz/fuzz_ops.c): a selector byte, then a versioned term checked
## as fuzz_term does, dispatched to one pure handler: trace arguments,
## trace messages, call-flow descriptions, eval/render text, a list of relay
## operations on a fresh model, or term order (reflexive, antisymmetric,
## transitive over the term's elements). Traps on any invalid built term or
## broken model invariant. Seeds fuzz/corpus/ops/*.bin are written by
## fuzz/ops_corpus.escript (escript, run from the source tree).

## fuzz_endpoint (fuzz/fuzz_endpoint.c): a selector byte, then WebSocket
## frames through wslay (as the endpoint configures it) into the V2
## decoder, a V2 or V1 message, an HTTP upgrade head, a Phoenix.Token, or
## a term through the JSON encoder (round trip through jansson must encode
## again), or a MessagePack message (its payload transcoded back). Seeds fuzz/corpus/endpoint/* (fuzz/endpoint_corpus.py).
