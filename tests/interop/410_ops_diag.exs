# 410_ops_diag: the gateway's diagnostics over :rpc.call (ops-plane.md §2,
# §4.1-§4.6, §4.9, §5; acceptance cases 1-8, 21, 22, 41): health_check,
# statistics, debug_report, trace_status, cluster_view and the print helpers
# that write to the caller's group leader.
Code.require_file("lib/check.exs", __DIR__)

# This node answers the gateway's cluster_view probes like another gateway.
defmodule PhoenixGenApi.ConfigDb do
  def get_all_services, do: ["peer_svc"]
end

defmodule Scenario do
  require Check

  @pga PhoenixGenApi
  @diag PhoenixGenApi.Diagnostics
  @checks [:async_pool, :config_db, :config_puller, :config_receiver,
           :rate_limiter_instances, :rate_limiter_supervisor, :relay_registry,
           :relay_server, :stream_pool, :supervision_tree, :worker_pool_supervisor]
  @mem [:atom, :atom_used, :binary, :code, :ets, :processes, :processes_used,
        :system, :total]

  def rpc(gw, f, a, tmo \\ 10_000), do: :rpc.call(gw, @pga, f, a, Check.tmo(tmo))

  # Runs fun with a capturing group leader; returns {result, text}.
  def printed(fun) do
    gl = Check.capture_gl()
    Process.group_leader(self(), gl)
    r = fun.()
    {r, Check.captured(gl)}
  end

  def sorted_keys(m), do: m |> Map.keys() |> Enum.sort()

  def run do
    gw = Check.gw()
    true = Node.connect(gw)
    # A peer whose ConfigDb never answers in time: cluster_view stays bounded.
    {_, _, slow} =
      Check.start_node("slowdb", "Process.sleep(:infinity)",
        setup: """
        defmodule PhoenixGenApi.ConfigDb do
          def get_all_services, do: (Process.sleep(30_000); ["late"])
        end
        true = Node.connect(#{inspect(gw)})
        """)

    trace_status(gw)
    limiter_views(gw)
    health(gw)
    statistics(gw)
    debug_report(gw)
    cluster(gw, slow)
    prints(gw)
    Check.finish()
  end

  # ---- case 1 ----
  def trace_status(gw) do
    Check.eq("case 1: trace_status -> %{node, trace_control_word: 0}",
      %{node: gw, trace_control_word: 0}, fn -> rpc(gw, :trace_status, []) end)
    Check.eq("Diagnostics.trace_status answers the same",
      %{node: gw, trace_control_word: 0}, fn -> :rpc.call(gw, @diag, :trace_status, []) end)
  end

  # statistics, health_check and RateLimiter report one limiter the same way.
  def limiter_views(gw) do
    Check.run("statistics' rate_limiter data is RateLimiter.status(); health counts its instances", fn ->
      st = :rpc.call(gw, PhoenixGenApi.RateLimiter, :status, [])
      n = :rpc.call(gw, PhoenixGenApi.RateLimiter, :instance_count, [])
      stats = rpc(gw, :statistics, []).phoenix_gen_api.rate_limiter
      inst = rpc(gw, :health_check, []).checks.phoenix_gen_api.checks.rate_limiter_instances
      cond do
        stats != %{status: :ok, data: st} -> {:fail, "statistics", {stats, st}}
        inst != %{status: :ok, instance_count: n, alive_instances: n} -> {:fail, "health", {inst, n}}
        length(st.instances) != n or n < 1 -> {:fail, "instances", st}
        true -> :ok
      end
    end)
  end

  # ---- cases 2-6 ----
  def health(gw) do
    Check.match("case 2: health_check keys, checks keys, status, node",
      {[:checked_at_ms, :checks, :node, :status], [:node, :phoenix_gen_api, :vm], true, ^gw},
      (fn h -> {sorted_keys(h), sorted_keys(h.checks), h.status in [:ok, :degraded, :error], h.node} end).(
        rpc(gw, :health_check, [])))
    Check.match("case 3: max_memory_bytes: 1 degrades the vm check",
      {:degraded, s} when s in [:degraded, :error],
      (fn h -> {h.checks.vm.status, h.status} end).(rpc(gw, :health_check, [[max_memory_bytes: 1]])))
    Check.eq("case 4: a non-integer max_memory_bytes is ignored", :ok, fn ->
      rpc(gw, :health_check, [[max_memory_bytes: "1"]]).checks.vm.status
    end)
    Check.eq("a huge max_memory_bytes (bignum) does not degrade", :ok, fn ->
      rpc(gw, :health_check, [[max_memory_bytes: Integer.pow(2, 70)]]).checks.vm.status
    end)
    Check.match("case 5: mode :gateway, the 11 checks, supervision tree of 8",
      {:gateway, @checks, %{status: :ok, children_count: 8}},
      (fn h -> p = h.checks.phoenix_gen_api; {p.mode, sorted_keys(p.checks), p.checks.supervision_tree} end).(
        rpc(gw, :health_check, [])))
    Check.match("case 6: node check", %{status: :ok, node: ^gw, alive?: true, connected_nodes: l} when is_list(l),
      rpc(gw, :health_check, []).checks.node)
    Check.eq("case 6: this node is among connected_nodes", true, fn ->
      node() in rpc(gw, :health_check, []).checks.node.connected_nodes
    end)
    Check.match("case 6: nine integer memory keys, 2-tuple uptime",
      {@mem, true, {a, b}} when is_integer(a) and is_integer(b),
      (fn vm -> {sorted_keys(vm.memory), Enum.all?(Map.values(vm.memory), &is_integer/1), vm.uptime} end).(
        rpc(gw, :health_check, []).checks.vm))
    Check.match("vm check keys and a process summary with the C-node shape",
      {[:memory, :process_count, :process_limit, :schedulers, :schedulers_online, :status, :uptime],
       %{status: :ok, registered_name: "PhoenixGenApi.ConfigDb", pid: pid,
         process: %{registered_name: PhoenixGenApi.ConfigDb, current_function: {:c_node, :config_db, 0},
                    status: :waiting, node: ^gw, pid: pid}}} when is_pid(pid),
      (fn h -> {sorted_keys(h.checks.vm), h.checks.phoenix_gen_api.checks.config_db} end).(
        rpc(gw, :health_check, [])))
    Check.eq("pids of the pseudo-processes are stable and on the gateway", {true, gw}, fn ->
      a = rpc(gw, :health_check, []).checks.phoenix_gen_api.checks.async_pool.pid
      b = rpc(gw, :health_check, []).checks.phoenix_gen_api.checks.async_pool.pid
      {a == b, node(a)}
    end)
    Check.match("rate_limiter_instances reports instance and alive counts",
      %{status: :ok, instance_count: n, alive_instances: n} when n > 0,
      rpc(gw, :health_check, []).checks.phoenix_gen_api.checks.rate_limiter_instances)
    Check.match("uptime's second element counts since the last read (shared state)",
      {t1, d} when d <= t1,
      (fn _ -> rpc(gw, :health_check, []); rpc(gw, :health_check, []).checks.vm.uptime end).(nil))
    Check.match("health_check(:bad) -> function_clause", {:badrpc, {:EXIT, {:function_clause, _}}},
      rpc(gw, :health_check, [:bad]))
    Check.match("Diagnostics.health_check/1 is served too", %{node: ^gw},
      :rpc.call(gw, @diag, :health_check, [[]]))
  end

  # ---- case 7 ----
  def statistics(gw) do
    Check.match("case 7: node, collected_at_ms, vm.memory, client_mode, 30 events",
      {^gw, t, %{total: _}, false, 30} when is_integer(t),
      (fn s -> {s.node, s.collected_at_ms, s.vm.memory, s.phoenix_gen_api.client_mode,
                s.phoenix_gen_api.telemetry_events} end).(rpc(gw, :statistics, [])))
    Check.match("case 7: tuple shapes and scheduler_wall_time :undefined",
      {{_, _}, {_, _, _}, {_, 0}, :undefined, {_, _}, {_, _}, {_, _}},
      (fn vm -> {vm.reductions, vm.garbage_collection, vm.context_switches, vm.scheduler_wall_time,
                 vm.exact_reductions, vm.runtime, vm.uptime} end).(rpc(gw, :statistics, []).vm))
    Check.eq("vm keys", [:context_switches, :ets_count, :exact_reductions, :garbage_collection,
        :memory, :port_count, :process_count, :process_limit, :reductions, :runtime,
        :scheduler_wall_time, :schedulers, :schedulers_online, :uptime], fn ->
      sorted_keys(rpc(gw, :statistics, []).vm)
    end)
    Check.match("phoenix_gen_api sections", {[:client_mode, :config_db, :config_puller, :config_receiver,
        :rate_limiter, :relay, :telemetry_events, :worker_pool],
        %{status: :ok, count: c, services: l, ets: %{exists: true, size: c, type: :set}},
        %{status: :ok, data: %{status: :ok}}, %{status: :ok, data: %{status: :ok}},
        %{status: :ok, data: %{status: :ok, instance_count: n, instances: i}},
        %{async_pool: %{status: :ok, data: %{idle_workers: _, busy_workers: _, queued_tasks: _,
          circuit_open: false, total_tasks_executed: _, total_tasks_failed: _}}, stream_pool: %{status: :ok}},
        %{status: :ok, data: %{status: :ok, group_count: _}}}
        when is_integer(c) and is_list(l) and length(i) == n,
      (fn p -> {sorted_keys(p), p.config_db, p.config_puller, p.config_receiver, p.rate_limiter,
                p.worker_pool, p.relay} end).(rpc(gw, :statistics, []).phoenix_gen_api))
    Check.run("config_db.ets has every key an equivalent ETS table reports, same values", fn ->
      # ConfigDb's own table options in the library
      t = :ets.new(:pga_equivalent, [:public, :set, :named_table, read_concurrency: true,
                                     write_concurrency: true])
      local = t |> :ets.info() |> Map.new()
      :ets.delete(t)
      got = rpc(gw, :statistics, []).phoenix_gen_api.config_db.ets
      same = [:decentralized_counters, :read_concurrency, :write_concurrency, :compressed,
              :heir, :type, :named_table, :protection, :keypos]
      cond do
        Enum.sort(Map.keys(got)) != Enum.sort([:exists | Map.keys(local)]) ->
          {:fail, "keys", {Map.keys(got), Map.keys(local)}}
        Map.take(got, same) != Map.take(local, same) -> {:fail, "values", {got, local}}
        not is_reference(got.id) or node(got.id) != gw -> {:fail, "id", got.id}
        got.id != rpc(gw, :statistics, []).phoenix_gen_api.config_db.ets.id -> {:fail, "id stable", got.id}
        true -> :ok
      end
    end)
    Check.match("a rate-limiter instance carries its limits and tables",
      %{status: :ok, instance_index: 0, global_limits: g, api_limits: a, cleanup_interval: 60_000,
        ets: %{global: %{exists: true}, api: %{exists: true}}} when is_list(g) and is_list(a),
      hd(rpc(gw, :statistics, []).phoenix_gen_api.rate_limiter.data.instances))
    Check.match("statistics/1 ignores any option", %{node: ^gw}, rpc(gw, :statistics, [:whatever]))
    Check.match("Diagnostics.statistics/0 is served too", %{node: ^gw}, :rpc.call(gw, @diag, :statistics, []))
  end

  # ---- case 8 ----
  def debug_report(gw) do
    Check.match("case 8: process_limit 3, ConfigDb table, trace word",
      {n, true, true} when n <= 3,
      (fn r -> {length(r.processes), Map.has_key?(r.ets_tables, "PhoenixGenApi.ConfigDb"),
                Map.has_key?(r.trace, :trace_control_word)} end).(rpc(gw, :debug_report, [[process_limit: 3]])))
    Check.eq("ets_tables has the five library tables",
      [":phoenix_gen_api_relay_groups", ":rate_limiter_api", ":rate_limiter_global",
       "PhoenixGenApi.ConfigDb", "PhoenixGenApi.RelayRegistry"],
      fn -> sorted_keys(rpc(gw, :debug_report, []).ets_tables) end)
    Check.match("a table info has the C-node keys",
      %{exists: true, name: PhoenixGenApi.ConfigDb, size: s, memory: m, type: :set, named_table: true,
        protection: :public, owner: o, node: ^gw, keypos: 1} when is_integer(s) and is_integer(m) and is_pid(o),
      rpc(gw, :debug_report, []).ets_tables["PhoenixGenApi.ConfigDb"])
    Check.match("the default lists the pseudo-processes and rex, sorted by memory",
      {true, true, true},
      (fn r -> names = Enum.map(r.processes, & &1.registered_name)
               mem = Enum.map(r.processes, & &1.memory)
               {:rex in names, :async_pool in names, mem == Enum.sort(mem, :desc)} end).(
        rpc(gw, :debug_report, [])))
    Check.match("include_current_stacktrace adds a stack to every summary",
      [%{current_stacktrace: [{:c_node, _, 0, []}]} | _],
      rpc(gw, :debug_report, [[include_current_stacktrace: true, process_limit: 2]]).processes)
    Check.eq("a negative process_limit takes from the end (Enum.take)", 1, fn ->
      length(rpc(gw, :debug_report, [[process_limit: -1]]).processes)
    end)
    Check.match("a non-integer process_limit -> function_clause",
      {:badrpc, {:EXIT, {:function_clause, _}}}, rpc(gw, :debug_report, [[process_limit: :x]]))
  end

  # ---- cases 21, 22 ----
  def cluster(gw, slow) do
    Check.match("case 21: self, count, self entry, node_selection",
      {^gw, true, true, %{strategies: [:random, :hash, :round_robin, :sticky],
                         description: "Configure via FunConfig.choose_node_mode"}},
      (fn v -> {v.self, v.connected_count == length(v.connected),
                Map.has_key?(v.registered_processes, gw), v.node_selection} end).(
        rpc(gw, :cluster_view, [], 15_000)), timeout: 15_000)
    Check.match("peers: registered names and ConfigDb services; a slow peer is bounded",
      {ms, true, true, ["peer_svc"], []} when ms < 6_000,
      (fn -> {ms, v} = Check.timed(fn -> rpc(gw, :cluster_view, [], 15_000) end)
             {ms, node() in v.connected and slow in v.connected,
              :rex in v.registered_processes[node()],
              v.phoenix_gen_api_services[node()], v.phoenix_gen_api_services[slow]} end).(),
      timeout: 15_000)
    Check.eq("the self entry lists the gateway's own names, :rex among them", true, fn ->
      :rex in rpc(gw, :cluster_view, [], 15_000).registered_processes[gw]
    end, timeout: 15_000)
    Check.eq("cluster_view's names of the gateway are the named processes debug_report lists",
      true, fn ->
        names = rpc(gw, :cluster_view, [], 15_000).registered_processes[gw]
        procs = rpc(gw, :debug_report, [[process_limit: 1000]]).processes
        Enum.sort(names) == Enum.sort(for p <- procs, p.registered_name, do: p.registered_name)
          || {:fail, "differ", {names, procs}}
      end, timeout: 15_000)
    Check.run("debug_print: no column runs into the next (the longest name too)", fn ->
      gl = Check.capture_gl()
      Process.group_leader(self(), gl)
      :ok = :rpc.call(gw, PhoenixGenApi, :debug_print, [[]], Check.tmo(5_000))
      text = Check.captured(gl)
      rows = text |> String.split("\n") |> Enum.filter(&String.starts_with?(&1, "#PID<"))
      long = Enum.find(rows, &(&1 =~ "WorkerPoolSupervisor"))
      cond do
        rows == [] -> {:fail, "no rows", text}
        long == nil -> {:fail, "no WorkerPoolSupervisor row", text}
        # pid, name, memory ("0 B": two words), status
        Enum.all?(rows, &(length(String.split(&1)) == 5)) -> :ok
        true -> {:fail, "columns", rows}
      end
    end, timeout: 15_000)
    Check.match("case 22: :erlang.registered/0 on the gateway lists atoms with :rex",
      l when is_list(l), :rpc.call(gw, :erlang, :registered, []))
    Check.eq("case 22: ... and :rex and :net_kernel are in it", {true, true, true}, fn ->
      l = :rpc.call(gw, :erlang, :registered, [])
      {Enum.all?(l, &is_atom/1), :rex in l, :net_kernel in l}
    end)
    Check.match("case 22: ConfigDb.get_all_services/0 -> list", l when is_list(l),
      :rpc.call(gw, PhoenixGenApi.ConfigDb, :get_all_services, []))
  end

  # ---- case 41 and the other helpers ----
  def prints(gw) do
    Check.match("case 41: health_print -> :ok after its block",
      {:ok, "\n=== PhoenixGenApi Health Check ===\n" <> _rest}, printed(fn -> rpc(gw, :health_print, []) end))
    Check.eq("case 41: the block has its sections and ends with an empty line", {true, true, true, true}, fn ->
      {:ok, t} = printed(fn -> rpc(gw, :health_print, [[max_memory_bytes: 1]]) end)
      {t =~ "\n--- VM ---\n  Status:      ⚠️  degraded\n", t =~ "\n--- Node ---\n  Self:        #{gw}\n",
       t =~ "\n--- PhoenixGenApi ---\n  Status:      " and t =~ "  Mode:        gateway\n  Processes:\n    ",
       String.ends_with?(t, "\n\n")}
    end)
    Check.run("health_print lines: checks sorted, pid and extras", fn ->
      {:ok, t} = printed(fn -> rpc(gw, :health_print, []) end)
      ok = t =~ ~r/\n    ✅ async_pool  pid=#PID<\d+\.\d+\.\d+>\n    ✅ config_db  pid=/u and
        t =~ ~r/\n    ✅ rate_limiter_instances  pid=N\/A  alive=\d+\/\d+\n/u
      if ok, do: :ok, else: (File.write!(Path.join(Check.run_dir(), "health_print.txt"), t); {:fail, "unexpected text (health_print.txt)", t})
    end)
    Check.match("health_print(:bad) -> function_clause, nothing printed",
      {{:badrpc, {:EXIT, {:function_clause, _}}}, ""}, printed(fn -> rpc(gw, :health_print, [:bad]) end))
    Check.eq("stats_print prints the statistics block", {:ok, true, true, true, true}, fn ->
      {r, t} = printed(fn -> rpc(gw, :stats_print, []) end)
      {r, String.starts_with?(t, "\n=== PhoenixGenApi Statistics ===\nNode: #{gw}\nCollected at: "),
       t =~ ~r/\n  Memory:        \d+ B total\n    Processes:   \d+ B \(\d+ B used\)\n/,
       t =~ "\n--- PhoenixGenApi ---\n  Client mode:   false\n  Telemetry events: 30\n",
       t =~ "\n  Worker Pools:\n    async_pool:\n      Status:   ok\n      Idle: "}
    end)
    Check.eq("debug_print echoes the limit and lists tables", {:ok, true, true, true}, fn ->
      {r, t} = printed(fn -> rpc(gw, :debug_print, [[process_limit: 2]]) end)
      {r, t =~ "\n--- Top 2 Processes by Memory ---\nPID            Name" <>
                 "                          Memory      Status\n" <> String.duplicate("-", 70) <> "\n",
       t =~ "\n--- ETS Tables ---\n  :phoenix_gen_api_relay_groups: size=",
       String.ends_with?(t, "\n--- Trace ---\n  Control word: 0\n\n")}
    end)
    Check.eq("debug_print/0 says Top 20", true, fn ->
      {:ok, t} = printed(fn -> rpc(gw, :debug_print, []) end)
      t =~ "\n--- Top 20 Processes by Memory ---\n"
    end)
    Check.eq("cluster_print prints the view", {:ok, true, true, true}, fn ->
      {r, t} = printed(fn -> rpc(gw, :cluster_print, [], 15_000) end)
      {r, String.starts_with?(t, "\n=== Cluster View ===\nSelf: #{gw}\nConnected nodes ("),
       t =~ "\n    - rex\n",
       t =~ "\n--- Node Selection Strategies ---\n  :random, :hash, :round_robin, :sticky\n" <>
              "  Configure via FunConfig.choose_node_mode\n\n"}
    end, timeout: 15_000)
  end
end

Scenario.run()
