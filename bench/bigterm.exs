# The large-term benchmark: does one peer's big call hold up everyone else?
# One node (this driver) sends a big list (default 5,000,000 integers,
# about 25 MB on the wire) to echo/1 on a target, while a second node (the
# bystander, this same script started with BENCH_ROLE=bystander) calls the
# same target's echo/1 with a small map in a loop. For each target:
#   BEAM  the baseline, bench/target.exs serving :pga_bench_echo.echo/1
#   pga   pga-node serving :pga_node.echo/1
# it prints the big call's wall time, the bystander's calls that overlapped
# it (count, p50, p99, max latency), the bystander's latency when nothing
# big happens (p99), and pga-node's CPU time (utime+stime from
# /proc/PID/stat) per big call, and pga-node's longest event-loop
# iteration during the big call, in wall time and in the loop thread's CPU
# time (pga_node:loop_busy_max/0, loop_busy_cpu_max/0). Each target gets the same list, the same
# bystanders and the same rounds, the targets taking turns round by round.
# `make bench-bigterm` (bench/run.sh, BENCH_SUITE=bigterm) starts the nodes
# and this script.
#
# Environment:
#   BENCH_BEAM_NODE       baseline node name (required)
#   BENCH_PGA_NODE        pga-node name; empty = baseline only
#   BENCH_PGA_OSPID       pga-node's OS pid (for its CPU time; optional)
#   BENCH_BIG_ELEMENTS    elements of the big list (default 5000000)
#   BENCH_BIG_ROUNDS      big calls per target (default 5)
#   BENCH_BYSTANDERS      bystander callers (default 2)
Code.require_file("common.exs", __DIR__)

defmodule PgaBigTermBench do
  import PgaBench.Common

  @small %{"hello" => "world", "n" => 42}
  @big_timeout 120_000
  @small_timeout 60_000
  @quiet_ms 300

  def main do
    case System.get_env("BENCH_ROLE") do
      "bystander" -> bystander_main()
      _ -> driver_main()
    end
  end

  # ---- the driver ----

  defp driver_main do
    beam = env_node("BENCH_BEAM_NODE") || die("BENCH_BEAM_NODE is not set")
    pga = env_node("BENCH_PGA_NODE")
    elements = round(env_number("BENCH_BIG_ELEMENTS", 5_000_000))
    rounds = round(env_number("BENCH_BIG_ROUNDS", 5))
    callers = round(env_number("BENCH_BYSTANDERS", 2))
    ospid = System.get_env("BENCH_PGA_OSPID")

    targets =
      [{:beam, beam, :pga_bench_echo}] ++ if pga, do: [{:pga, pga, :pga_node}], else: []

    for {_, node, _} <- targets, do: connect(node, 50)
    bystander = start_bystander()
    big = Enum.to_list(1..elements)
    wire = byte_size(:erlang.term_to_binary(big))

    IO.puts("pga bench: echo of a #{elements}-element list (#{fmt_mb(wire)} MB) " <>
              "while #{callers} bystander caller(s) on another node echo " <>
              "#{inspect(@small)}")
    IO.puts("  #{rounds} round(s) per target; OTP #{:erlang.system_info(:otp_release)}, " <>
              "#{:erlang.system_info(:logical_processors_available)} CPUs")
    IO.puts("")

    IO.puts(
      String.pad_trailing("target", 7) <>
        cols(["big ms", "overlap", "p50 ms", "p99 ms", "max ms", "max med", "idle p99",
              "CPU ms", "loop ms", "loop CPU"])
    )

    IO.puts(String.duplicate("-", 7 + 10 * 10))

    # Rounds alternate between the targets, so a change in the machine's
    # load during the run hits both alike.
    per_round =
      for _ <- 1..rounds, {key, node, mod} <- targets do
        cpu_pid = if key == :pga, do: ospid, else: nil
        {key, one_round(bystander, node, mod, big, callers, cpu_pid)}
      end

    results =
      for {key, _, _} <- targets, into: %{} do
        r = summarize(for {^key, x} <- per_round, do: x)
        print_row(key, r)
        {key, r}
      end

    IO.puts("")

    if results[:pga] do
      b = results[:beam]
      p = results[:pga]
      IO.puts("pga / BEAM: big call #{ratio(p.big_ms, b.big_ms)}, " <>
                "bystander max #{ratio(p.max_ms, b.max_ms)}, " <>
                "max med #{ratio(p.max_med_ms, b.max_med_ms)}, " <>
                "p99 #{ratio(p.p99_ms, b.p99_ms)}")
    end

    IO.puts("big ms (median of the rounds); overlap: the bystander calls in flight " <>
              "during the big call, all rounds, whose p50/p99/max are given; " <>
              "max med: the median over rounds of each round's max; idle p99: " <>
              "bystander calls outside the big call; CPU ms: pga-node's " <>
              "utime+stime per big call (median); loop ms: pga-node's longest " <>
              "event-loop iteration during a big call (worst round; " <>
              "pga_node:loop_busy_max/0), in wall time (preemption included) " <>
              "and in the loop thread's CPU time (loop CPU).")
    System.halt(0)
  end

  # One big call with the bystanders running around it; the bystanders'
  # samples are {start_us, latency_us} on the shared OS clock.
  defp one_round(bystander, node, mod, big, callers, cpu_pid) do
    ref = make_ref()
    send(bystander, {:run, self(), ref, node, mod, callers})
    Process.sleep(@quiet_ms)
    _ = loop_busy(node, mod)
    _ = loop_cpu(node, mod)
    cpu0 = cpu_ms(cpu_pid)
    t0 = :os.system_time(:microsecond)
    got = :erpc.call(node, mod, :echo, [big], @big_timeout)
    t1 = :os.system_time(:microsecond)
    cpu1 = cpu_ms(cpu_pid)
    loop_us = loop_busy(node, mod)
    loop_cpu_us = loop_cpu(node, mod)
    unless got === big, do: die("#{node}: the big echo came back different")
    Process.sleep(@quiet_ms)
    send(bystander, {:stop, ref})

    samples =
      receive do
        {^ref, samples} -> samples
      after
        @small_timeout -> die("the bystander did not report")
      end

    {during, idle} =
      Enum.split_with(samples, fn {s, lat} -> s < t1 and s + lat > t0 end)

    %{
      big_us: t1 - t0,
      during: Enum.map(during, &elem(&1, 1)),
      idle: Enum.map(idle, &elem(&1, 1)),
      cpu_ms: if(cpu0 && cpu1, do: cpu1 - cpu0, else: nil),
      loop_us: loop_us,
      loop_cpu_us: loop_cpu_us
    }
  end

  # The same in the loop thread's CPU time: pga-node started with
  # PGA_LOOP_CPU_STATS (bench/run.sh does for this suite); else nil.
  defp loop_cpu(node, :pga_node) do
    case :erpc.call(node, :pga_node, :loop_busy_cpu_max, []) do
      us when is_integer(us) -> us
      _ -> nil
    end
  catch
    _, _ -> nil
  end

  defp loop_cpu(_, _), do: nil

  # pga-node's longest event-loop iteration since the previous ask (µs);
  # nil for the BEAM.
  defp loop_busy(node, :pga_node) do
    :erpc.call(node, :pga_node, :loop_busy_max, [])
  catch
    _, _ -> nil # a pga-node without it (an older build)
  end

  defp loop_busy(_, _), do: nil

  defp summarize(rounds) do
    during = rounds |> Enum.flat_map(& &1.during) |> Enum.sort()
    idle = rounds |> Enum.flat_map(& &1.idle) |> Enum.sort()
    cpus = for r <- rounds, r.cpu_ms != nil, do: r.cpu_ms
    loops = for r <- rounds, r.loop_us != nil, do: r.loop_us
    loop_cpus = for r <- rounds, r.loop_cpu_us != nil, do: r.loop_cpu_us

    round_max = for r <- rounds, r.during != [], do: Enum.max(r.during)

    %{
      big_ms: median(Enum.map(rounds, & &1.big_us)) / 1000,
      max_med_ms: if(round_max == [], do: nil, else: median(round_max) / 1000),
      overlap: length(during),
      p50_ms: pct_ms(during, 50),
      p99_ms: pct_ms(during, 99),
      max_ms: if(during == [], do: nil, else: List.last(during) / 1000),
      idle_p99_ms: pct_ms(idle, 99),
      cpu_ms: if(cpus == [], do: nil, else: median(cpus)),
      loop_ms: if(loops == [], do: nil, else: Enum.max(loops) / 1000),
      loop_cpu_ms: if(loop_cpus == [], do: nil, else: Enum.max(loop_cpus) / 1000)
    }
  end

  defp median(xs), do: Enum.at(Enum.sort(xs), div(length(xs), 2))

  defp pct_ms([], _), do: nil
  defp pct_ms(sorted, p), do: percentile(List.to_tuple(sorted), length(sorted), p) / 1000

  # utime + stime of an OS process in ms (Linux /proc; fields 14 and 15).
  defp cpu_ms(nil), do: nil

  defp cpu_ms(ospid) do
    case File.read("/proc/#{ospid}/stat") do
      {:ok, stat} ->
        # the command name (field 2) may hold spaces: split after its ')'
        [_, rest] = String.split(stat, ") ", parts: 2)
        fields = String.split(rest)
        ticks = String.to_integer(Enum.at(fields, 11)) + String.to_integer(Enum.at(fields, 12))
        ticks * 1000 / clock_ticks()

      _ ->
        nil
    end
  end

  defp clock_ticks do
    case System.cmd("getconf", ["CLK_TCK"]) do
      {n, 0} -> String.to_integer(String.trim(n))
      _ -> 100
    end
  rescue
    _ -> 100
  end

  defp print_row(key, r) do
    IO.puts(
      String.pad_trailing(Atom.to_string(key), 7) <>
        cols([
          fmt_ms(r.big_ms),
          Integer.to_string(r.overlap),
          fmt_ms(r.p50_ms),
          fmt_ms(r.p99_ms),
          fmt_ms(r.max_ms),
          fmt_ms(r.max_med_ms),
          fmt_ms(r.idle_p99_ms),
          fmt_ms(r.cpu_ms),
          fmt_ms(r.loop_ms),
          fmt_ms(r.loop_cpu_ms)
        ])
    )
  end

  defp cols(list), do: Enum.map_join(list, &String.pad_leading(&1, 10))

  defp fmt_ms(nil), do: "-"
  defp fmt_ms(x), do: :erlang.float_to_binary(x / 1, decimals: 2)
  defp fmt_mb(bytes), do: :erlang.float_to_binary(bytes / 1_000_000, decimals: 1)

  # The bystander node: this script again, started through a port; it
  # halts when our end of its stdin closes.
  defp start_bystander do
    name = :"pga_bench_bystander_#{System.pid()}@127.0.0.1"

    args = [
      "--name", Atom.to_string(name), "--cookie", Atom.to_string(Node.get_cookie()),
      __ENV__.file
    ]

    port =
      Port.open({:spawn_executable, System.find_executable("elixir")}, [
        :binary, :exit_status, :stderr_to_stdout, {:line, 4096},
        args: args, env: [{~c"BENCH_ROLE", ~c"bystander"}]
      ])

    await_ready(port)
    connect(name, 50)
    Process.put(:bystander_port, port)
    {:pga_bench_bystander, name}
  end

  defp await_ready(port) do
    receive do
      {^port, {:data, {_, "pga-bench bystander ready" <> _}}} -> :ok
      {^port, {:data, {_, line}}} -> IO.puts(:stderr, "bystander: #{line}") && await_ready(port)
      {^port, {:exit_status, st}} -> die("the bystander exited (#{st})")
    after
      30_000 -> die("the bystander did not start")
    end
  end

  # ---- the bystander ----

  defp bystander_main do
    Process.register(self(), :pga_bench_bystander)
    spawn(fn -> IO.read(:stdio, :line) && System.halt(0) end)
    IO.puts("pga-bench bystander ready")
    bystander_loop()
  end

  defp bystander_loop do
    receive do
      {:run, from, ref, node, mod, callers} ->
        me = self()
        pids = for _ <- 1..callers, do: spawn_link(fn -> caller(me, node, mod, []) end)

        receive do
          {:stop, ^ref} -> :ok
        end

        for p <- pids, do: send(p, :stop)

        samples =
          for p <- pids, reduce: [] do
            acc ->
              receive do
                {:samples, ^p, s} -> s ++ acc
              end
          end

        send(from, {ref, samples})
        bystander_loop()
    end
  end

  defp caller(parent, node, mod, acc) do
    receive do
      :stop -> send(parent, {:samples, self(), acc})
    after
      0 ->
        t0 = :os.system_time(:microsecond)
        @small = :erpc.call(node, mod, :echo, [@small], @small_timeout)
        t1 = :os.system_time(:microsecond)
        caller(parent, node, mod, [{t0, t1 - t0} | acc])
    end
  end
end

PgaBigTermBench.main()
