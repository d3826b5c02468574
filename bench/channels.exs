# The Phoenix Channels endpoint benchmark driver (bench/channels.sh starts
# the nodes): the same sync request (service "pga_bench", routed to the
# BEAM target's :pga_bench_echo.echo/1) made
#   rpc  by BEAM callers through :erpc.call of Executor.execute_params!/1
#   ws   by WebSocket clients (bench/ws_load, a C driver on one epoll
#        thread) through pga's endpoint: phx_join, then one request in
#        flight per connection
# at several concurrencies, one after the other in the same run. For each
# it prints requests/s, p50/p99 latency and pga-node's CPU time per request
# (utime + stime from /proc/PID/stat over the measured window), with the
# ratio ws/rpc.
#
# Environment: BENCH_BEAM_NODE, BENCH_PGA_NODE, BENCH_PGA_OSPID,
# BENCH_WS_PORT, BENCH_WS_LOAD (required); BENCH_SECONDS (5),
# BENCH_WARMUP_SECONDS (1), BENCH_CONCURRENCY (1,8,64).
Code.require_file("common.exs", __DIR__)

defmodule PgaChannelsBench do
  import PgaBench.Common

  @arg "pga bench payload 0123456789abcdef"

  def main do
    beam = env_node("BENCH_BEAM_NODE") || die("BENCH_BEAM_NODE is not set")
    pga = env_node("BENCH_PGA_NODE") || die("BENCH_PGA_NODE is not set")
    ospid = System.get_env("BENCH_PGA_OSPID") || die("BENCH_PGA_OSPID is not set")
    port = System.get_env("BENCH_WS_PORT") || die("BENCH_WS_PORT is not set")
    load = System.get_env("BENCH_WS_LOAD") || die("BENCH_WS_LOAD is not set")
    seconds = env_number("BENCH_SECONDS", 5)
    warmup = env_number("BENCH_WARMUP_SECONDS", 1)
    concs = env_concurrency("BENCH_CONCURRENCY", [1, 8, 64])
    connect(beam, 50)
    connect(pga, 50)
    setup(pga, beam)
    tck = clock_ticks()

    IO.puts("pga channels benchmark: #{seconds} s per run (warm-up #{warmup} s), " <>
              "pga-node CPU = utime+stime of pid #{ospid}")
    IO.puts(String.pad_trailing("path", 6) <> String.pad_leading("conns", 6) <>
              String.pad_leading("req/s", 10) <> String.pad_leading("p50 us", 9) <>
              String.pad_leading("p99 us", 9) <> String.pad_leading("pga us/req", 12) <>
              String.pad_leading("ws/rpc cpu", 12))

    for c <- concs do
      rpc = rpc_run(pga, c, seconds, warmup, ospid, tck)
      ws = ws_run(load, port, c, seconds, warmup, ospid, tck)
      row("rpc", c, rpc, "")
      row("ws", c, ws, ratio(ws.cpu_us, rpc.cpu_us))
    end
  end

  defp row(path, c, r, rat) do
    IO.puts(String.pad_trailing(path, 6) <> String.pad_leading("#{c}", 6) <>
              String.pad_leading("#{round(r.rps)}", 10) <>
              String.pad_leading(fmt_us(r.p50), 9) <> String.pad_leading(fmt_us(r.p99), 9) <>
              String.pad_leading(fmt_us(r.cpu_us), 12) <> String.pad_leading(rat, 12))
  end

  defp setup(pga, beam) do
    fc = %{
      __struct__: PhoenixGenApi.Structs.FunConfig, request_type: "bench_echo",
      service: "pga_bench", nodes: [beam], choose_node_mode: :random, timeout: 5000,
      mfa: {:pga_bench_echo, :echo, []}, arg_types: %{"x" => :string}, arg_orders: ["x"],
      response_type: :sync, request_info: false, check_permission: false,
      permission_callback: nil, version: nil, disabled: false, retry: nil,
      before_execute: nil, after_execute: nil, hook_timeout: 5000
    }
    case :rpc.call(pga, PhoenixGenApi.ConfigDb, :add, [fc]) do
      :ok -> :ok
      {:ok, _} -> :ok
      other -> die("ConfigDb.add/1: #{inspect(other)}")
    end
  end

  defp params do
    %{"request_id" => "b", "request_type" => "bench_echo", "service" => "pga_bench",
      "args" => %{"x" => @arg}}
  end

  # CPU ticks per second (getconf CLK_TCK).
  defp clock_ticks do
    case System.cmd("getconf", ["CLK_TCK"]) do
      {n, 0} -> String.to_integer(String.trim(n))
      _ -> 100
    end
  end

  defp cpu_ticks(ospid) do
    stat = File.read!("/proc/#{ospid}/stat")
    [_, rest] = String.split(stat, ") ", parts: 2)
    f = String.split(rest, " ")
    String.to_integer(Enum.at(f, 11)) + String.to_integer(Enum.at(f, 12))
  end

  defp rpc_run(pga, c, seconds, warmup, ospid, tck) do
    p = params()
    fun = fn ->
      case :erpc.call(pga, PhoenixGenApi.Executor, :execute_params!, [p], 5000) do
        %{success: true, result: @arg} -> true
        other -> other
      end
    end
    _ = measure(:rpc, fun, c, warmup)
    t0 = cpu_ticks(ospid)
    r = measure(:rpc, fun, c, seconds)
    t1 = cpu_ticks(ospid)
    Map.put(r, :cpu_us, per_request(t1 - t0, tck, r.calls))
  end

  defp ws_run(load, port, c, seconds, warmup, ospid, tck) do
    payload = ~s({"request_id":"b","request_type":"bench_echo","service":"pga_bench","args":{"x":"#{@arg}"}})
    args = ["127.0.0.1", port, "/socket", "#{c}", "#{seconds}", "#{warmup}", payload]
    p = Port.open({:spawn_executable, load}, [:binary, :exit_status, {:line, 4096}, args: args])
    ws_lines(p, ospid, tck, %{})
  end

  defp ws_lines(p, ospid, tck, acc) do
    receive do
      {^p, {:data, {_, "measure start"}}} -> ws_lines(p, ospid, tck, Map.put(acc, :t0, cpu_ticks(ospid)))
      {^p, {:data, {_, "measure end"}}} -> ws_lines(p, ospid, tck, Map.put(acc, :t1, cpu_ticks(ospid)))
      {^p, {:data, {_, "requests " <> _ = line}}} ->
        kv = line |> String.split(" ") |> Enum.chunk_every(2) |> Map.new(fn [k, v] -> {k, v} end)
        n = String.to_integer(kv["requests"])
        ws_lines(p, ospid, tck, Map.merge(acc, %{calls: n, rps: String.to_float(kv["rps"] <> ".0"),
          p50: String.to_float(kv["p50_us"] <> ".0"), p99: String.to_float(kv["p99_us"] <> ".0")}))
      {^p, {:data, _}} -> ws_lines(p, ospid, tck, acc)
      {^p, {:exit_status, 0}} ->
        Map.put(acc, :cpu_us, per_request(acc.t1 - acc.t0, tck, acc.calls))
      {^p, {:exit_status, st}} -> die("ws_load exited with #{st}")
    end
  end

  defp per_request(_ticks, _tck, 0), do: nil
  defp per_request(ticks, tck, n), do: ticks * 1_000_000 / tck / n
end

PgaChannelsBench.main()
