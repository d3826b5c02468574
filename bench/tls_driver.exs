# Distribution over TLS: :erpc.call echo from this node to a BEAM node and
# to pga-node, all three speaking -proto_dist inet_tls with the same
# certificates (bench/tls.sh starts them). For each payload and caller
# count: calls/s, payload MB/s (both ways), p50, and the CPU time the
# serving OS process spent per call (utime+stime from /proc/PID/stat), with
# pga/BEAM ratios. The targets run one after the other, same payload, same
# callers, same time.
#
# Environment: BENCH_BEAM_NODE, BENCH_PGA_NODE, BENCH_BEAM_OSPID,
# BENCH_PGA_OSPID, BENCH_SECONDS (5), BENCH_WARMUP_SECONDS (1),
# BENCH_CONCURRENCY (1,8).
Code.require_file("common.exs", __DIR__)

defmodule PgaTlsBench do
  import PgaBench.Common

  def cpu_ticks(ospid) do
    [_, rest] = File.read!("/proc/#{ospid}/stat") |> String.split(") ", parts: 2)
    f = String.split(rest, " ")
    String.to_integer(Enum.at(f, 11)) + String.to_integer(Enum.at(f, 12))
  end

  @hz 100

  def main do
    beam = env_node("BENCH_BEAM_NODE")
    pga = env_node("BENCH_PGA_NODE")
    ospids = %{beam: System.get_env("BENCH_BEAM_OSPID"), pga: System.get_env("BENCH_PGA_OSPID")}
    seconds = env_number("BENCH_SECONDS", 5)
    warmup = env_number("BENCH_WARMUP_SECONDS", 1)
    concs = env_concurrency("BENCH_CONCURRENCY", [1, 8])
    targets = [beam: {beam, :pga_bench_echo}, pga: {pga, :pga_node}]
    for {_, {n, _}} <- targets, do: connect(n, 50)

    payloads = [
      {"small map", %{"hello" => "world", "n" => 42}, 0},
      {"64 KiB binary", :binary.copy("x", 65_536), 65_536},
      {"1 MiB binary", :binary.copy("y", 1_048_576), 1_048_576}
    ]

    IO.puts("pga TLS bench: :erpc.call echo over -proto_dist inet_tls " <>
              "(OTP #{:erlang.system_info(:otp_release)}, #{fmt_secs(seconds)} s per run)")
    IO.puts("payload        callers | BEAM calls/s   MB/s  p50 us cpu us/call | " <>
              "pga calls/s   MB/s  p50 us cpu us/call | pga/BEAM calls/s cpu/call")

    errors =
      for {label, payload, bytes} <- payloads, c <- concs do
        r =
          for {key, {node, mod}} <- targets, into: %{} do
            fun = fn -> :erpc.call(node, mod, :echo, [payload], 10_000) == payload end
            _ = measure(key, fun, c, warmup)
            :erlang.garbage_collect()
            t0 = cpu_ticks(ospids[key])
            m = measure(key, fun, c, seconds)
            cpu_us = (cpu_ticks(ospids[key]) - t0) * 1_000_000 / @hz
            {key, Map.put(m, :cpu, if(m.calls > 0, do: cpu_us / m.calls, else: nil))}
          end

        mb = fn x -> :erlang.float_to_binary(x.rps * bytes * 2 / 1.0e6, decimals: 1) end
        col = fn x -> "#{pad(round(x.rps), 12)} #{pad(mb.(x), 6)} #{pad(fmt_us(x.p50), 7)} #{pad(fmt_us(x.cpu), 11)}" end

        IO.puts(String.pad_trailing(label, 14) <> " " <> pad(c, 7) <> " | " <> col.(r.beam) <>
                  " | " <> col.(r.pga) <> " | " <> pad(ratio(r.pga.rps, r.beam.rps), 16) <>
                  " " <> pad(ratio(r.pga.cpu, r.beam.cpu), 8))
        r.beam.errors + r.pga.errors
      end

    IO.puts("cpu us/call: CPU time of the serving OS process (the BEAM node, or pga-node) per call;")
    IO.puts("pga/BEAM calls/s > 1: pga serves more; cpu/call < 1: pga spends less CPU per call.")
    System.halt(if Enum.sum(errors) > 0, do: 1, else: 0)
  end

  defp pad(x, n), do: String.pad_leading(to_string(x), n)
end

PgaTlsBench.main()
