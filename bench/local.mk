## bench: benchmark programs (make bench), never run by make check.
## `make bench` first runs the request-plane micro-benchmarks
## (`make bench-request`: bench/limiter_bench.c, bench/config_bench.c; C
## programs on libpga_core.la, built only on demand), then measures
## :erpc.call echo against a BEAM baseline node and against pga-node in one
## run (bench/run.sh, a bash script; BENCH_SECONDS, default 5, sets the
## time per measurement), then the gateway's cost (bench/gateway.exs:
## Executor.execute_params!/1 on pga-node routed to the BEAM node's echo,
## bare, with a telemetry handler and with a global rate limit, against
## calling that echo directly), then the Phoenix Channels endpoint
## (bench/channels.exs: the same request over rpc from BEAM callers and
## over WebSocket from bench/ws_load, req/s and pga-node CPU per request).
## `make bench-push` measures receiving configuration: pga-node's wall time
## and CPU per push of one PushConfig with 1,000 FunConfigs and its RSS
## with 10,000 FunConfigs, next to a BEAM node doing the same in the same
## run (bench/push.exs against bench/push_target.exs, which runs the
## library when ERL_LIBS holds it, else a BEAM stand-in), in memory and
## then with --data-dir.
EXTRA_DIST += bench/run.sh bench/common.exs bench/driver.exs bench/gateway.exs bench/target.exs \
	bench/gateway_cpu.exs bench/beam_gateway.exs bench/library_gateway.exs \
	bench/bigterm.exs \
	bench/tls.sh bench/tls_driver.exs bench/deadclients.sh bench/deadclients.exs \
	bench/soak.sh bench/soak.exs bench/channels.exs \
	bench/push.exs bench/push_target.exs

EXTRA_PROGRAMS = bench/limiter_bench bench/config_bench bench/ws_load \
	bench/push_bench
CLEANFILES += $(EXTRA_PROGRAMS)
bench_limiter_bench_SOURCES = bench/limiter_bench.c
bench_limiter_bench_LDADD = libpga_core.la
bench_config_bench_SOURCES = bench/config_bench.c
bench_config_bench_LDADD = libpga_core.la
# the C WebSocket load driver of bench/channels.exs (no pga code)
bench_ws_load_SOURCES = bench/ws_load.c
bench_push_bench_SOURCES = bench/push_bench.c
bench_push_bench_LDADD = libpga_core.la

.PHONY: bench bench-request bench-tls bench-deadclients bench-soak
bench-request: bench/limiter_bench$(EXEEXT) bench/config_bench$(EXEEXT) \
		bench/push_bench$(EXEEXT)
	./bench/limiter_bench$(EXEEXT)
	./bench/config_bench$(EXEEXT)
	./bench/push_bench$(EXEEXT)

bench: bench-request src/pga-node$(EXEEXT) bench/ws_load$(EXEEXT)
	PGA_NODE=$(abs_top_builddir)/src/pga-node$(EXEEXT) ELIXIR='$(ELIXIR)' \
	EPMD='$(EPMD)' bash $(srcdir)/bench/run.sh

## `make bench-gateway`: the gateway CPU benchmark (bench/gateway_cpu.exs):
## pga-node's CPU per request (utime+stime from /proc/PID/stat) for echo,
## execute!/1, execute_params!/1, a stream chunk and a 1,000-FunConfig push,
## next to the BEAM gateway stand-in (bench/beam_gateway.exs) and, when
## ERL_LIBS holds PhoenixGenApi, the library itself
## (bench/library_gateway.exs). BENCH_ONLY=execute BENCH_TARGETS=pga
## BENCH_SECONDS=30 gives steady load for `perf record -p PID`.
.PHONY: bench-gateway
bench-gateway: src/pga-node$(EXEEXT)
	PGA_NODE=$(abs_top_builddir)/src/pga-node$(EXEEXT) ELIXIR='$(ELIXIR)' \
	EPMD='$(EPMD)' BENCH_SUITE=gateway-cpu bash $(srcdir)/bench/run.sh

.PHONY: bench-bigterm
## `make bench-bigterm`: a big echo (bench/bigterm.exs: a 5,000,000-element
## list) while a bystander node echoes small terms: the bystander's latency,
## the big call's time, pga-node's CPU and longest loop iteration, next to
## the BEAM baseline node in the same run.
bench-bigterm: src/pga-node$(EXEEXT)
	PGA_NODE=$(abs_top_builddir)/src/pga-node$(EXEEXT) ELIXIR='$(ELIXIR)' \
	EPMD='$(EPMD)' BENCH_SUITE=bigterm bash $(srcdir)/bench/run.sh

## Distribution over TLS against BEAM-to-BEAM TLS (bench/tls.sh).
bench-tls: src/pga-node$(EXEEXT)
	PGA_NODE=$(abs_top_builddir)/src/pga-node$(EXEEXT) ELIXIR='$(ELIXIR)' \
	EPMD='$(EPMD)' bash $(srcdir)/bench/tls.sh

## Memory when client nodes die mid-request (bench/deadclients.sh;
## BENCH_ROUNDS, default 50).
bench-deadclients: src/pga-node$(EXEEXT)
	PGA_NODE=$(abs_top_builddir)/src/pga-node$(EXEEXT) ELIXIR='$(ELIXIR)' \
	EPMD='$(EPMD)' bash $(srcdir)/bench/deadclients.sh

## Mixed load with faults for BENCH_SOAK_SECONDS (600): lost, duplicated and
## hung answers (all must be 0) and memory at start, middle, end.
bench-soak: src/pga-node$(EXEEXT)
	PGA_NODE=$(abs_top_builddir)/src/pga-node$(EXEEXT) ELIXIR='$(ELIXIR)' \
	EPMD='$(EPMD)' bash $(srcdir)/bench/soak.sh

.PHONY: bench-push
bench-push: src/pga-node$(EXEEXT)
	PGA_NODE=$(abs_top_builddir)/src/pga-node$(EXEEXT) ELIXIR='$(ELIXIR)' \
	EPMD='$(EPMD)' BENCH_SUITE=push bash $(srcdir)/bench/run.sh
	PGA_NODE=$(abs_top_builddir)/src/pga-node$(EXEEXT) ELIXIR='$(ELIXIR)' \
	EPMD='$(EPMD)' BENCH_SUITE=push BENCH_DATA_DIR=1 bash $(srcdir)/bench/run.sh
