# The soak benchmark (issue 11; `make bench-soak`, not CI): BENCH_SOAK_SECONDS
# (600) of mixed load through pga-node (sync, async and stream requests
# through the Executor, config pushes, relay group life cycles) while
# faults are injected: service nodes killed with SIGKILL and started again
# (flapping), client nodes killed mid-load, junk connections to the
# distribution port. It reports, per kind, requests sent, answered (success
# or an error response: both are answers), lost (no answer by the deadline),
# duplicated (a second answer) and hung (an RPC that never returned); all
# three must be 0. pga-node's heap in use and RSS at start, middle and end.
# bench/soak.sh starts pga-node and this driver; the driver starts the other
# nodes. Environment: BENCH_PGA_NODE, BENCH_PGA_OSPID, BENCH_ELIXIR,
# BENCH_COOKIE, BENCH_SOAK_SECONDS, BENCH_SOAK_WORKERS (16).
Code.require_file("../tests/interop/lib/config_structs.exs", __DIR__)

defmodule Soak do
  alias PhoenixGenApi.Structs.PushConfig
  @exec PhoenixGenApi.Executor
  @answer_ms 15_000

  @service """
  defmodule SoakSvc do
    def echo(n), do: n
    def slow(n), do: (Process.sleep(rem(n, 200)); n)
    def ticks(n, %{stream_pid: pid}) do
      spawn(fn -> for i <- 1..rem(n, 10) + 1, do: send(pid, {:result, i})
                  send(pid, {:last_result, :end}) end)
      {:ok, :started}
    end
  end
  """

  def host(gw), do: gw |> Atom.to_string() |> String.split("@") |> List.last()

  def fc(nodes, rt, mfa, over) do
    ConfigFixtures.f(hd(nodes), Keyword.merge([request_type: rt, service: "soak",
      nodes: nodes, choose_node_mode: :random, timeout: 5_000, version: nil, mfa: mfa,
      arg_types: %{"n" => :num}, arg_orders: ["n"]], over))
  end

  def push_config(gw, nodes, v) do
    push = %PushConfig{service: "soak", nodes: nodes, config_version: "#{v}",
      fun_configs: [fc(nodes, "sync", {SoakSvc, :echo, []}, []),
                    fc(nodes, "async", {SoakSvc, :slow, []}, response_type: :async),
                    fc(nodes, "stream", {SoakSvc, :ticks, []}, response_type: :stream,
                       request_info: true)]}
    :erpc.call(gw, PhoenixGenApi.ConfigReceiver, :push, [push, [force: true]], @answer_ms)
  end

  def params(rt, id, n), do: %{"request_id" => id, "request_type" => rt, "service" => "soak",
    "user_id" => "u#{rem(n, 50)}", "device_id" => "d", "args" => %{"n" => n}}

  # One operation; its outcome: :answered | :lost | :hung.
  def op(gw, :sync, id, n) do
    case call(gw, @exec, :execute_params!, [params("sync", id, n)]) do
      :hung -> :hung
      %{request_id: ^id} -> :answered
      _ -> :answered
    end
  end

  def op(gw, :async, id, n) do
    case call(gw, @exec, :execute_params!, [params("async", id, n)]) do
      :hung -> :hung
      %{async: true, success: true} ->
        receive do
          {:async_call, %{request_id: ^id}} -> :answered
        after @answer_ms -> :lost
        end
      _ -> :answered # refused at once (circuit open, no node): an answer
    end
  end

  def op(gw, :stream, id, n) do
    case call(gw, @exec, :execute_params!, [params("stream", id, n)]) do
      :hung -> :hung
      %{has_more: true} -> stream_end(id, System.monotonic_time(:millisecond) + @answer_ms)
      _ -> :answered
    end
  end

  def op(gw, :push, _id, n), do: (call(gw, PhoenixGenApi.ConfigReceiver, :get_pushed_config, ["soak"]); push_op(gw, n))
  def op(gw, :relay, id, _n) do
    r = PhoenixGenApi.Relay
    with :ok <- call(gw, r, :create_group, [id, :public, "owner", self()]),
         {:ok, :active} <- call(gw, r, :join_group, [id, "m", self()]),
         {:ok, _} <- call(gw, r, :get_group_info, [id]),
         :ok <- call(gw, r, :delete_group, [id]) do
      :answered
    else
      :hung -> :hung
      _ -> :answered
    end
  end

  defp push_op(gw, n) do
    nodes = :persistent_term.get(:soak_nodes)
    case (try do push_config(gw, nodes, n) catch _, _ -> :hung end) do
      :hung -> :hung
      _ -> :answered
    end
  end

  defp stream_end(id, deadline) do
    left = max(deadline - System.monotonic_time(:millisecond), 0)
    receive do
      {:stream_response, %{request_id: ^id, has_more: true}} -> stream_end(id, deadline)
      {:stream_response, %{request_id: ^id}} -> :answered
      {:stream_started, ^id, _} -> stream_end(id, deadline)
    after left -> :lost
    end
  end

  defp call(gw, m, f, a) do
    try do
      :erpc.call(gw, m, f, a, @answer_ms)
    catch
      :error, {:erpc, :timeout} -> :hung
      _, e -> {:error, e}
    end
  end

  # A worker: random operations until the deadline; counts per kind. Answers
  # that come for a request already finished are duplicates.
  def worker(gw, parent, wid, deadline) do
    loop(gw, parent, wid, deadline, 0, %{})
  end

  defp loop(gw, parent, wid, deadline, i, acc) do
    if System.monotonic_time(:millisecond) >= deadline do
      Process.sleep(1_000)
      send(parent, {:done, self(), Map.update(acc, :dup, strays(0), &(&1 + strays(0)))})
    else
      kind = Enum.at([:sync, :sync, :async, :async, :stream, :relay, :push], rem(:rand.uniform(1000), 7))
      kind = if kind == :push and rem(i, 20) != 0, do: :sync, else: kind
      id = "w#{wid}-#{i}"
      out = op(gw, kind, id, i)
      acc = Map.update(acc, {kind, out}, 1, &(&1 + 1))
      acc = Map.update(acc, :dup, strays(0), &(&1 + strays(0)))
      loop(gw, parent, wid, deadline, i + 1, acc)
    end
  end

  # Answers for requests already finished (this worker waits for one at a time).
  defp strays(n) do
    receive do
      {:async_call, _} -> strays(n + 1)
      {:stream_response, %{has_more: false}} -> strays(n + 1)
      {:stream_response, _} -> strays(n)
      {:stream_started, _, _} -> strays(n)
    after 0 -> n
    end
  end

  # Nodes started here end with this driver: each halts when its stdin
  # (the port) closes.
  def start_node(name, code) do
    port = Port.open({:spawn_executable, System.fetch_env!("BENCH_ELIXIR")},
      [:binary, :exit_status, :stderr_to_stdout, {:line, 4096},
       args: ["--sname", name, "--cookie", System.fetch_env!("BENCH_COOKIE"), "-e",
              "spawn(fn -> IO.read(:stdio, :line); System.halt(0) end)\n" <>
              "IO.puts(\"ready \" <> System.pid())\n" <> code]])
    receive do
      {^port, {:data, {_, "ready " <> ospid}}} -> {port, ospid}
    after 30_000 -> raise "#{name} did not start"
    end
  end

  def rss(ospid) do
    File.read!("/proc/#{ospid}/status")
    |> String.split("\n") |> Enum.find(&String.starts_with?(&1, "VmRSS:"))
    |> String.split() |> Enum.at(1) |> String.to_integer()
  end

  def heap(gw), do: find_used(:erpc.call(gw, PhoenixGenApi, :statistics, [], 10_000))
  defp find_used(%{processes_used: u}), do: u
  defp find_used(m) when is_map(m), do: Enum.find_value(Map.values(m), &find_used/1)
  defp find_used({:ok, m}), do: find_used(m)
  defp find_used(_), do: nil

  def start_service(i) do
    start_node("soaksvc#{i}", @service <> "\nProcess.sleep(:infinity)")
  end

  def kill(ospid), do: System.cmd("kill", ["-KILL", ospid])

  # Faults: every 20 s one service node is killed and started again; every
  # 30 s a client node with load is killed; every 10 s junk connections.
  def faults(gw, svcs, deadline, n) do
    if System.monotonic_time(:millisecond) < deadline do
      Process.sleep(5_000)
      svcs =
        case rem(n, 4) do
          0 ->
            i = rem(div(n, 4), length(svcs))
            {_port, ospid} = Enum.at(svcs, i)
            kill(ospid)
            Process.sleep(2_000)
            List.replace_at(svcs, i, start_service(i))
          1 ->
            junk(gw)
            svcs
          2 ->
            {_p, os} = start_node("soakcl#{n}", client_code(gw))
            Process.sleep(3_000)
            kill(os)
            svcs
          _ ->
            junk(gw)
            svcs
        end
      faults(gw, svcs, deadline, n + 1)
    end
  end

  def client_code(gw) do
    """
    gw = #{inspect(gw)}
    for i <- 1..200, do: spawn(fn ->
      :erpc.call(gw, #{inspect(@exec)}, :execute_params!, [%{"request_id" => "c\#{i}",
        "request_type" => Enum.random(["async", "stream"]), "service" => "soak",
        "user_id" => "c", "device_id" => "d", "args" => %{"n" => i}}], 10_000)
      Process.sleep(:infinity) end)
    Process.sleep(:infinity)
    """
  end

  def junk(gw) do
    [alive, h] = gw |> Atom.to_string() |> String.split("@")
    {:ok, addrs} = :inet.getaddr(String.to_charlist(h), :inet)
    case :erl_epmd.port_please(String.to_charlist(alive), addrs) do
      {:port, port, _} ->
        for k <- 1..50 do
          case :gen_tcp.connect(addrs, port, [:binary], 2_000) do
            {:ok, s} -> if rem(k, 2) == 0, do: :gen_tcp.send(s, :crypto.strong_rand_bytes(64)); s
            _ -> nil
          end
        end
        |> Enum.each(fn s -> s && :gen_tcp.close(s) end)
      _ -> :ok
    end
  end

  def mem(gw, ospid), do: {heap(gw), rss(ospid)}

  def main do
    gw = String.to_atom(System.fetch_env!("BENCH_PGA_NODE"))
    ospid = System.fetch_env!("BENCH_PGA_OSPID")
    secs = String.to_integer(System.get_env("BENCH_SOAK_SECONDS") || "600")
    nworkers = String.to_integer(System.get_env("BENCH_SOAK_WORKERS") || "16")
    true = Node.connect(gw)
    svcs = for i <- 0..1, do: start_service(i)
    nodes = for i <- 0..1, do: :"soaksvc#{i}@#{host(gw)}"
    :persistent_term.put(:soak_nodes, nodes)
    {:ok, :accepted} = push_config(gw, nodes, 0)
    m0 = mem(gw, ospid)
    t0 = System.monotonic_time(:millisecond)
    deadline = t0 + secs * 1000
    me = self()
    spawn_link(fn -> faults(gw, svcs, deadline, 0) end)
    spawn_link(fn -> Process.sleep(div(secs * 1000, 2)); send(me, {:middle, mem(gw, ospid)}) end)
    ws = for w <- 1..nworkers, do: spawn_link(fn -> worker(gw, me, w, deadline) end)
    results = for w <- ws, do: (receive do {:done, ^w, acc} -> acc end)
    mid = receive do {:middle, m} -> m after 0 -> nil end
    Process.sleep(5_000)
    m2 = mem(gw, ospid)
    total = Enum.reduce(results, %{}, fn acc, t -> Map.merge(t, acc, fn _, a, b -> a + b end) end)
    IO.puts("pga soak: #{secs} s, #{nworkers} workers, faults: service nodes killed and " <>
              "restarted, client nodes killed mid-load, junk connections")
    IO.puts("kind      answered      lost      hung")
    for k <- [:sync, :async, :stream, :relay, :push] do
      IO.puts(String.pad_trailing("#{k}", 8) <> pad(total[{k, :answered}] || 0, 10) <>
                pad(total[{k, :lost}] || 0, 10) <> pad(total[{k, :hung}] || 0, 10))
    end
    IO.puts("duplicated answers: #{total[:dup] || 0}")
    IO.puts("pga heap in use / RSS: start #{inspect(m0)}, middle #{inspect(mid)}, end #{inspect(m2)} (bytes, kB)")
    bad = Enum.sum(for {{_, o}, n} <- total, o in [:lost, :hung], do: n) + (total[:dup] || 0)
    System.halt(if bad == 0, do: 0, else: 1)
  end

  defp pad(x, n), do: String.pad_leading(to_string(x), n)
end

Soak.main()
