# The config-push benchmark driver: what receiving configuration costs
# pga-node next to a BEAM node doing the same in the same run
# (bench/push_target.exs: the real PhoenixGenApi library when run.sh is
# given one, else a BEAM stand-in).
#   memory  RSS of each node before and after it was pushed BENCH_RSS_CONFIGS
#           FunConfigs (default 10,000, in pushes of BENCH_PUSH_SIZE)
#   push    BENCH_PUSH_REPEATS pushes (default 50, after 5 warm-ups) of one
#           PushConfig with BENCH_PUSH_SIZE FunConfigs (default 1,000), each
#           a new config_version of one service, so every push validates
#           and stores (replaces) all of them: wall time per push (median,
#           p10, p90, as :erpc.call sees it) and the node's CPU per push
#           (utime+stime of /proc/PID/stat over all pushes)
# and prints the figures with the ratio pga/baseline. bench/run.sh starts
# the nodes and runs this (make bench-push).
#
# Environment:
#   BENCH_PGA_NODE, BENCH_PGA_PID    pga-node and its OS pid (required)
#   BENCH_BASE_NODE                  the BEAM baseline node (required)
#   BENCH_PUSH_SIZE, BENCH_PUSH_REPEATS, BENCH_RSS_CONFIGS  see above
#   BENCH_PGA_LABEL                  words after "pga-node" (e.g. the
#                                    data-dir setting)
Code.require_file("common.exs", __DIR__)

defmodule PgaPushBench do
  import PgaBench.Common

  @fc_mod PhoenixGenApi.Structs.FunConfig
  @pc_mod PhoenixGenApi.Structs.PushConfig
  @timeout 60_000

  def main do
    pga = env_node("BENCH_PGA_NODE") || die("BENCH_PGA_NODE is not set")
    base = env_node("BENCH_BASE_NODE") || die("BENCH_BASE_NODE is not set")
    pga_pid = System.get_env("BENCH_PGA_PID") || die("BENCH_PGA_PID is not set")
    size = trunc(env_number("BENCH_PUSH_SIZE", 1000))
    repeats = trunc(env_number("BENCH_PUSH_REPEATS", 50))
    rss_configs = trunc(env_number("BENCH_RSS_CONFIGS", 10_000))
    label = System.get_env("BENCH_PGA_LABEL") || ""

    connect(pga, 50)
    connect(base, 50)
    base_pid = :erpc.call(base, :os, :getpid, []) |> to_string()

    {base_mod, base_label} =
      if :erpc.call(base, Code, :ensure_loaded?, [PhoenixGenApi.ConfigReceiver]),
        do: {PhoenixGenApi.ConfigReceiver, "PhoenixGenApi library"},
        else: {PgaBench.PushStandIn, "BEAM stand-in"}

    targets = [
      {"pga-node" <> label, pga, PhoenixGenApi.ConfigReceiver, pga_pid},
      {"baseline (#{base_label})", base, base_mod, base_pid}
    ]

    IO.puts("""
    pga-bench push: #{size} FunConfigs per push, #{repeats} pushes \
    (+5 warm-up); RSS after #{rss_configs} FunConfigs
    """)

    results =
      for {name, node, mod, pid} <- targets do
        mem = memory(node, mod, pid, size, rss_configs)
        push = pushes(node, mod, pid, size, repeats)
        Map.merge(mem, push) |> Map.put(:name, name)
      end

    report(results)
  end

  # ---- the configs ----

  def fun_config(svc, i, node) do
    rt = "bench_fn_#{i}"

    %{
      __struct__: @fc_mod,
      request_type: rt,
      service: svc,
      nodes: [node],
      choose_node_mode: :random,
      timeout: 5_000,
      mfa: {:pga_bench_service, String.to_atom(rt), []},
      arg_types: %{"name" => :string, "count" => :num},
      arg_orders: ["name", "count"],
      response_type: :sync,
      request_info: false,
      check_permission: false,
      permission_callback: nil,
      version: "1.0.0",
      disabled: false,
      retry: nil,
      before_execute: nil,
      after_execute: nil,
      hook_timeout: 5_000
    }
  end

  def push_config(svc, version, size, node) do
    %{
      __struct__: @pc_mod,
      service: svc,
      nodes: [node],
      config_version: version,
      fun_configs: for(i <- 1..size, do: fun_config(svc, i, node)),
      module: nil,
      function: nil,
      version_module: nil,
      version_function: nil,
      args: [],
      version_args: [],
      push_token: nil
    }
  end

  def push(node, mod, pc) do
    case :erpc.call(node, mod, :push, [pc, []], @timeout) do
      {:ok, :accepted} -> :ok
      other -> die("push to #{node} answered #{inspect(other, limit: 5)}")
    end
  end

  # ---- measurements ----

  def memory(node, mod, pid, size, total) do
    rss0 = rss_kb(pid)
    chunks = div(total + size - 1, size)

    for c <- 1..chunks do
      n = min(size, total - (c - 1) * size)
      push(node, mod, push_config("bench_mem_#{c}", "1", n, node))
    end

    Process.sleep(200)
    %{rss0: rss0, rss: rss_kb(pid)}
  end

  def pushes(node, mod, pid, size, repeats) do
    configs = for k <- 1..(repeats + 5), do: push_config("bench_push", "v#{k}", size, node)
    {warm, measured} = Enum.split(configs, 5)
    for pc <- warm, do: push(node, mod, pc)
    cpu0 = cpu_ticks(pid)
    t0 = :erlang.monotonic_time(:microsecond)

    walls =
      for pc <- measured do
        {us, :ok} = :timer.tc(fn -> push(node, mod, pc) end)
        us
      end

    total_us = :erlang.monotonic_time(:microsecond) - t0
    cpu = cpu_ticks(pid) - cpu0
    sorted = walls |> Enum.sort() |> List.to_tuple()
    n = tuple_size(sorted)

    %{
      p10: percentile(sorted, n, 10) / 1000,
      p50: percentile(sorted, n, 50) / 1000,
      p90: percentile(sorted, n, 90) / 1000,
      cpu_ms: cpu * 1000 / clk_tck() / n,
      busy: cpu * 1_000_000 / clk_tck() / max(total_us, 1)
    }
  end

  def rss_kb(pid) do
    File.read!("/proc/#{pid}/status")
    |> String.split("\n")
    |> Enum.find_value(fn
      "VmRSS:" <> rest -> rest |> String.trim() |> String.split() |> hd() |> String.to_integer()
      _ -> nil
    end)
  end

  # utime + stime, fields 14 and 15 of /proc/PID/stat (after the comm).
  def cpu_ticks(pid) do
    stat = File.read!("/proc/#{pid}/stat")
    [_, rest] = String.split(stat, ") ", parts: 2)
    fields = String.split(rest)
    String.to_integer(Enum.at(fields, 11)) + String.to_integer(Enum.at(fields, 12))
  end

  def clk_tck do
    case System.cmd("getconf", ["CLK_TCK"]) do
      {s, 0} -> s |> String.trim() |> String.to_integer()
      _ -> 100
    end
  end

  # ---- report ----

  def report([pga, base]) do
    row = fn r ->
      :io.format("~-44ts ~9.2f ~9.2f ~9.2f ~10.2f ~8.1f ~8.1f~n", [
        r.name, r.p50, r.p10, r.p90, r.cpu_ms, r.rss0 / 1024, r.rss / 1024
      ])
    end

    :io.format("~-44ts ~9ts ~9ts ~9ts ~10ts ~8ts ~8ts~n", [
      "node", "wall p50", "p10", "p90", "cpu/push", "RSS0", "RSS"
    ])

    :io.format("~-44ts ~9ts ~9ts ~9ts ~10ts ~8ts ~8ts~n", ["", "ms", "ms", "ms", "ms", "MB", "MB"])
    row.(pga)
    row.(base)

    IO.puts("""

    ratios pga/baseline: wall p50 #{ratio(pga.p50, base.p50)}, \
    cpu/push #{ratio(pga.cpu_ms, base.cpu_ms)}, \
    RSS #{ratio(pga.rss, base.rss)}, \
    RSS growth #{ratio(pga.rss - pga.rss0, base.rss - base.rss0)}\
    """)
  end
end

PgaPushBench.main()
