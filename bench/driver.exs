# The benchmark driver: an Elixir node that calls echo with :erpc.call on
# two targets, at several caller counts, in one run:
#   BEAM  the baseline, another Elixir node serving :pga_bench_echo.echo/1
#   pga   pga-node serving :pga_node.echo/1
# and prints requests/s, p50 and p99 latency for each, with pga/BEAM ratios.
# Both targets get the same payload, the same callers and the same time, and
# run one after the other (never at once), so the ratios compare like with
# like on this machine. bench/run.sh starts the nodes and this script.
#
# Environment:
#   BENCH_BEAM_NODE       baseline node name (required)
#   BENCH_PGA_NODE        pga-node name; empty = baseline only
#   BENCH_SECONDS         measured seconds per run (default 5)
#   BENCH_WARMUP_SECONDS  warm-up seconds before each run (default 1)
#   BENCH_CONCURRENCY     caller counts, comma-separated (default 1,8,64)
#   BENCH_CSV             if set, also write the figures to this file
Code.require_file("common.exs", __DIR__)

defmodule PgaBench do
  import PgaBench.Common

  @payload PgaBench.Common.echo_payload()
  @call_timeout 5_000

  def main do
    beam = env_node("BENCH_BEAM_NODE")
    pga = env_node("BENCH_PGA_NODE")
    unless beam, do: die("BENCH_BEAM_NODE is not set")
    seconds = env_number("BENCH_SECONDS", 5)
    warmup = env_number("BENCH_WARMUP_SECONDS", 1)
    concs = env_concurrency("BENCH_CONCURRENCY", [1, 8, 64])

    targets =
      [{:beam, beam, :pga_bench_echo}] ++
        if pga, do: [{:pga, pga, :pga_node}], else: []

    for {_, node, mod} <- targets, do: check_target(node, mod)

    print_header(targets, seconds, warmup)

    rows =
      for c <- concs do
        results =
          for {key, node, mod} <- targets, into: %{} do
            _ = measure(node, echo_fun(node, mod), c, warmup)
            :erlang.garbage_collect()
            {key, measure(node, echo_fun(node, mod), c, seconds)}
          end

        row = {c, results[:beam], results[:pga]}
        print_row(row)
        row
      end

    print_footer(rows)
    if path = System.get_env("BENCH_CSV"), do: write_csv(path, rows)
    errors = for {_, b, p} <- rows, r <- [b, p], r != nil, do: r.errors
    if Enum.sum(errors) > 0, do: System.halt(1), else: System.halt(0)
  end

  # ---- measuring ----

  defp echo_fun(node, mod) do
    fn -> echo_call(node, mod, @call_timeout) end
  end

  # ---- setup ----

  defp check_target(node, mod) do
    connect(node, 50)

    case :erpc.call(node, mod, :echo, [@payload], @call_timeout) do
      @payload ->
        :ok

      other ->
        die("#{node}: #{mod}.echo/1 returned #{inspect(other)}")
    end
  catch
    kind, reason ->
      die("#{node}: #{mod}.echo/1 failed: #{inspect({kind, reason})}")
  end

  # ---- output ----

  defp print_header(targets, seconds, warmup) do
    otp = :erlang.system_info(:otp_release)
    IO.puts("pga bench: :erpc.call echo of #{inspect(@payload)}")

    IO.puts(
      "  #{fmt_secs(seconds)} s per run after #{fmt_secs(warmup)} s warm-up; " <>
        "OTP #{otp}, Elixir #{System.version()}, " <>
        "#{:erlang.system_info(:logical_processors_available)} CPUs"
    )

    for {key, node, mod} <- targets do
      label = if key == :beam, do: "BEAM (baseline)", else: "pga"
      IO.puts("  #{String.pad_trailing(label, 16)} #{node}  #{inspect(mod)}.echo/1")
    end

    IO.puts("")

    IO.puts(
      "         | " <>
        String.pad_trailing("BEAM -> BEAM", 28) <>
        " | " <>
        String.pad_trailing("BEAM -> pga-node", 28) <> " | pga / BEAM"
    )

    IO.puts(
      "callers  | " <>
        cols(["req/s", "p50 us", "p99 us"]) <>
        " | " <> cols(["req/s", "p50 us", "p99 us"]) <> " | req/s    p50"
    )

    IO.puts(String.duplicate("-", 9) <> "+" <> String.duplicate("-", 30) <>
              "+" <> String.duplicate("-", 30) <> "+" <> String.duplicate("-", 15))
  end

  defp print_row({c, beam, pga}) do
    ratio =
      if pga do
        rr = ratio(pga.rps, beam.rps)
        pr = ratio(pga.p50, beam.p50)
        String.pad_leading(rr, 6) <> " " <> String.pad_leading(pr, 6)
      else
        "     -      -"
      end

    IO.puts(
      String.pad_leading(Integer.to_string(c), 7) <>
        "  | " <> stats(beam) <> " | " <> stats(pga) <> " | " <> ratio
    )
  end

  defp print_footer(rows) do
    IO.puts("")
    IO.puts("pga / BEAM: req/s > 1 means pga serves more calls per second " <>
              "than the BEAM baseline;")
    IO.puts("            p50 < 1 means pga answers faster (same run, same " <>
              "payload, same callers).")
    errs = for {c, b, p} <- rows, r <- [b, p], r != nil, r.errors > 0, do: {c, r.errors}

    if errs != [] do
      IO.puts("failed calls (callers, count): #{inspect(errs)}")
    end
  end

  defp stats(nil), do: cols(["-", "-", "-"])

  defp stats(r) do
    cols([Integer.to_string(round(r.rps)), fmt_us(r.p50), fmt_us(r.p99)])
  end

  defp cols([a, b, c]) do
    String.pad_leading(a, 10) <> String.pad_leading(b, 9) <> String.pad_leading(c, 9)
  end

  defp write_csv(path, rows) do
    lines =
      for {c, b, p} <- rows, {name, r} <- [beam: b, pga: p], r != nil do
        Enum.join([name, c, round(r.rps), fmt_us(r.p50), fmt_us(r.p99), r.errors], ",")
      end

    File.write!(path, Enum.join(["target,callers,rps,p50_us,p99_us,errors" | lines], "\n") <> "\n")
  end
end

PgaBench.main()
