# Memory when client nodes die mid-request (issue 11): each round a fresh
# client node puts 300 async requests and 100 streams in flight through
# pga-node's Executor (to a slow service node) and is killed with SIGKILL;
# once pga has nothing in flight, pga's heap in use (statistics/0 memory
# processes_used, malloc's figure) and RSS are printed. Flat figures after
# the first rounds mean nothing is kept per dead node or per request.
#
# What it showed (issue 11): malloc's in-use figure grows 30-45 kB a round
# for the first ~7 rounds, then by 0-3 kB (noise) up to round 30; RSS the
# same way. Under valgrind's massif (PGA_WRAPPER="valgrind --tool=massif"
# BENCH_IDLE_MS=15000) the live heap at the idle point after every round is
# the same to the byte (783,132 B): no allocation outlives its request or
# its dead node. The early growth is glibc's per-thread caches and arenas
# (freed chunks a worker thread keeps for reuse count as "in use") filling
# up, which LeakSanitizer rightly does not report. The same holds when
# the client is killed only after its requests finished, and with one
# client node name reused each round.
# bench/deadclients.sh starts the nodes. Environment: BENCH_PGA_NODE,
# BENCH_PGA_OSPID, BENCH_ROUNDS (50), BENCH_ELIXIR, BENCH_COOKIE.
Code.require_file("../tests/interop/lib/config_structs.exs", __DIR__)

defmodule DeadClients do
  alias PhoenixGenApi.Structs.PushConfig
  @exec PhoenixGenApi.Executor

  @service """
  defmodule Svc do
    def slow(_n), do: (Process.sleep(3_000); :done)
    def stream(_n, %{stream_pid: pid}) do
      spawn(fn -> for i <- 1..30, do: (send(pid, {:result, i}); Process.sleep(100))
                  send(pid, {:last_result, :end}) end)
      {:ok, :started}
    end
  end
  """

  def fc(node, rt, over) do
    ConfigFixtures.f(node, Keyword.merge([request_type: rt, service: "soak",
      choose_node_mode: :random, timeout: 10_000, version: nil,
      arg_types: %{"n" => :num}, arg_orders: ["n"]], over))
  end

  def rss(ospid) do
    File.read!("/proc/#{ospid}/status")
    |> String.split("\n") |> Enum.find(&String.starts_with?(&1, "VmRSS:"))
    |> String.split() |> Enum.at(1) |> String.to_integer()
  end

  def heap(gw) do
    stats = :erpc.call(gw, PhoenixGenApi, :statistics, [], 10_000)
    find_used(stats)
  end

  # statistics/0 holds the memory map somewhere inside: find processes_used.
  defp find_used(%{processes_used: u}), do: u
  defp find_used(m) when is_map(m), do: Enum.find_value(Map.values(m), &find_used/1)
  defp find_used({:ok, m}), do: find_used(m)
  defp find_used(_), do: nil

  # Nodes started here end with this driver: each halts when its stdin
  # (the port) closes.
  def start_node(name, code) do
    cookie = System.fetch_env!("BENCH_COOKIE")
    port = Port.open({:spawn_executable, System.fetch_env!("BENCH_ELIXIR")},
      [:binary, :exit_status, :stderr_to_stdout, {:line, 4096},
       args: ["--sname", name, "--cookie", cookie, "-e",
              "spawn(fn -> IO.read(:stdio, :line); System.halt(0) end)\n" <>
              "IO.puts(\"ready \" <> System.pid())\n" <> code]])
    receive do
      {^port, {:data, {_, "ready " <> ospid}}} -> {port, ospid}
    after 30_000 -> raise "#{name} did not start"
    end
  end

  def client_code(gw) do
    """
    gw = #{inspect(gw)}
    p = fn rt, id -> %{"request_id" => id, "request_type" => rt, "service" => "soak",
                       "user_id" => "u", "device_id" => "d", "args" => %{"n" => 1}} end
    for i <- 1..#{n_async()}//1, do: spawn(fn -> :erpc.call(gw, #{inspect(@exec)}, :execute_params!, [p.("async", "a\#{i}")], 10_000); Process.sleep(:infinity) end)
    for i <- 1..#{n_streams()}//1, do: spawn(fn -> :erpc.call(gw, #{inspect(@exec)}, :execute_params!, [p.("stream", "s\#{i}")], 10_000); Process.sleep(:infinity) end)
    Process.sleep(#{String.to_integer(System.get_env("BENCH_KILL_AFTER_MS") || "1500")})
    IO.puts("in-flight")
    Process.sleep(:infinity)
    """
  end

  def n_async, do: String.to_integer(System.get_env("BENCH_ASYNC") || "300")
  def n_streams, do: String.to_integer(System.get_env("BENCH_STREAMS") || "100")

  def round(gw, i) do
    name = if System.get_env("BENCH_SAME_NAME") == "1", do: "soakcl", else: "soakcl#{i}"
    {port, ospid} = start_node(name, client_code(gw))
    receive do
      {^port, {:data, {_, "in-flight"}}} -> :ok
    after 30_000 -> raise "client #{i} never got its requests in flight"
    end
    System.cmd("kill", ["-KILL", ospid])
    receive do
      {^port, {:exit_status, _}} -> :ok
    after 10_000 -> :ok
    end
    # the slow calls end within 3 s and the streams within 3 s
    Process.sleep(String.to_integer(System.get_env("BENCH_IDLE_MS") || "4500"))
  end

  def main do
    gw = String.to_atom(System.fetch_env!("BENCH_PGA_NODE"))
    ospid = System.fetch_env!("BENCH_PGA_OSPID")
    rounds = String.to_integer(System.get_env("BENCH_ROUNDS") || "50")
    true = Node.connect(gw)
    {_port, _} = start_node("soaksvc", @service <> "\nProcess.sleep(:infinity)")
    svc = :"soaksvc@#{gw |> Atom.to_string() |> String.split("@") |> List.last()}"
    true = Node.connect(svc)
    push = %PushConfig{service: "soak", nodes: [svc], config_version: "1",
      fun_configs: [fc(svc, "async", mfa: {Svc, :slow, []}, response_type: :async),
                    fc(svc, "stream", mfa: {Svc, :stream, []}, response_type: :stream,
                       request_info: true)]}
    {:ok, :accepted} = :erpc.call(gw, PhoenixGenApi.ConfigReceiver, :push, [push, [force: true]])
    h0 = heap(gw)
    r0 = rss(ospid)
    IO.puts("pga dead-client soak: #{n_async()} async + #{n_streams()} streams in flight, " <>
              "client killed, #{rounds} rounds")
    IO.puts("round  heap used B   delta B   RSS kB  delta kB")
    IO.puts("    0 #{pad(h0, 12)} #{pad(0, 9)} #{pad(r0, 8)} #{pad(0, 9)}")
    Enum.reduce(1..rounds, {h0, r0}, fn i, {hp, rp} ->
      round(gw, i)
      h = heap(gw)
      r = rss(ospid)
      IO.puts("#{pad(i, 5)} #{pad(h, 12)} #{pad(h - hp, 9)} #{pad(r, 8)} #{pad(r - rp, 9)}")
      {h, r}
    end)
    System.halt(0)
  end

  defp pad(x, n), do: String.pad_leading(to_string(x), n)
end

DeadClients.main()
