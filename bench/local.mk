## bench: benchmark programs (make bench), never run by make check.
## `make bench` measures :erpc.call echo against a BEAM baseline node and
## against pga-node in one run (bench/run.sh, a bash script; BENCH_SECONDS,
## default 5, sets the time per measurement).
EXTRA_DIST += bench/run.sh bench/driver.exs bench/target.exs

.PHONY: bench
bench: src/pga-node$(EXEEXT)
	PGA_NODE=$(abs_top_builddir)/src/pga-node$(EXEEXT) ELIXIR='$(ELIXIR)' \
	EPMD='$(EPMD)' bash $(srcdir)/bench/run.sh
