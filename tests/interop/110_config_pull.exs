# 110_config_pull: the gateway pulls FunConfigs from a real Elixir service
# node S that serves Sup.get_config/0 (and Sup.version/0) the way
# PhoenixGenApi's ConfigPuller expects (config-plane.md §5, acceptance cases
# 64-72): good list, bare list, {:error, _}, binary node names, nodedown
# fallback to a second node, the version probe, Code.ensure_loaded? false,
# auto-pull registration by a push, and a slow service that blocks nothing.
Code.require_file("lib/check.exs", __DIR__)
Code.require_file("lib/config_structs.exs", __DIR__)

defmodule Scenario do
  require Check
  alias PhoenixGenApi.Structs.ServiceConfig
  alias PhoenixGenApi.{ConfigDb, ConfigFailed, ConfigPuller, ConfigReceiver}

  # S: get_config/0 answers per {Sup, :mode}; every call is counted.
  @service_code """
  defmodule Sup do
    import ConfigFixtures
    def get_config do
      count(:get_config)
      case :persistent_term.get({Sup, :mode}, :good) do
        :good -> {:ok, [f(node())]}
        :bare -> [f(node())]
        :error -> {:error, :not_ready}
        :missing -> {:ok, [f(node()), f(node(), request_type: "missing", mfa: {Sup.Missing, :f, []})]}
        :slow -> Process.sleep(60_000); {:ok, [f(node())]}
      end
    end
    def version do
      count(:version)
      :persistent_term.get({Sup, :version}, "v1")
    end
    def count(k), do: :ets.update_counter(:sup_counts, k, 1, {k, 0})
    def calls(k) do
      case :ets.lookup(:sup_counts, k) do
        [{_, n}] -> n
        [] -> 0
      end
    end
  end
  :ets.new(:sup_counts, [:named_table, :public])
  """

  def sc(s, over \\ []) do
    struct!(%ServiceConfig{service: "pull_svc", nodes: [s], module: Sup,
      function: :get_config, args: []}, over)
  end

  def call(gw, m, f, a), do: :rpc.call(gw, m, f, a, Check.tmo(5_000))

  def mode(s, m), do: :ok = :rpc.call(s, :persistent_term, :put, [{Sup, :mode}, m])
  def calls(s, k), do: :rpc.call(s, Sup, :calls, [k])

  # Removes every registration and waits for an (empty, successful) round.
  def reset(gw) do
    svcs = call(gw, ConfigPuller, :get_services, [])
    :ok = call(gw, ConfigPuller, :delete, [Map.values(svcs)])
    :ok = call(gw, ConfigDb, :clear, [])
    :ok = call(gw, ConfigFailed, :clear, [])
    :ok = call(gw, ConfigPuller, :pull, [])
    Check.wait_until(fn -> call(gw, ConfigPuller, :status, []).failure_count == 0 end, 5_000)
  end

  def api(gw, svc), do: call(gw, ConfigPuller, :get_api_list, [svc])

  # Lines of the gateway's log (run.sh starts it with --log-level debug).
  def log_has?(text) do
    case File.read(Path.join(Check.run_dir(), "gw.err")) do
      {:ok, log} -> String.contains?(log, text)
      _ -> false
    end
  end

  def run do
    gw = Check.gw()
    structs = Path.expand("lib/config_structs.exs", __DIR__)
    {_port, _pid, s} =
      Check.start_node("svc", "Process.sleep(:infinity)",
        setup: "Code.require_file(#{inspect(structs)})\n" <> @service_code)
    # The gateway must reach S by name: S connects first so nodedown tests
    # below are about a truly absent node.
    true = :rpc.call(s, Node, :connect, [gw])
    reset(gw)

    # ---- case 64 ----
    Check.eq("ConfigPuller.add([]) -> :ok", :ok, fn -> call(gw, ConfigPuller, :add, [[]]) end)
    Check.match("ConfigPuller.delete with a non-ServiceConfig raises ArgumentError",
      {:badrpc, {:EXIT, {%ArgumentError{message: "nodes must be a list of ServiceConfig"}, _}}},
      call(gw, ConfigPuller, :delete, [[%{invalid: "data"}]]))

    # ---- case 65: {:ok, [F]} ----
    Check.eq("good list: api_list, version nil, store has the config",
      {["test_request"], nil, :ok}, fn ->
        :ok = call(gw, ConfigPuller, :add, [[sc(s)]])
        :ok = call(gw, ConfigPuller, :pull, [])
        true = Check.wait_until(fn -> api(gw, "pull_svc") == ["test_request"] end, 5_000)
        {ok, _} = call(gw, ConfigDb, :get, ["pull_svc", "test_request", "1.0.0"])
        {api(gw, "pull_svc"), call(gw, ConfigPuller, :get_service_version, ["pull_svc"]), ok}
      end)
    Check.eq("the pulled FunConfig kept S's fields, service rewritten to the ServiceConfig's",
      {"pull_svc", [s], 5000}, fn ->
        {:ok, fc} = call(gw, ConfigDb, :get, ["pull_svc", "test_request", "1.0.0"])
        {fc.service, fc.nodes, fc.timeout}
      end)
    Check.eq("get_all_versions has the service with nil", %{"pull_svc" => nil},
      fn -> call(gw, ConfigPuller, :get_all_versions, []) end)

    # ---- case 66: a bare list ----
    Check.eq("bare list: nothing stored, api_list nil, failure_count 1, next round in 60000 ms",
      {nil, 0, 1, true}, fn ->
        reset(gw)
        mode(s, :bare)
        :ok = call(gw, ConfigPuller, :add, [[sc(s, service: "bare_svc")]])
        :ok = call(gw, ConfigPuller, :pull, [])
        true = Check.wait_until(fn -> call(gw, ConfigPuller, :status, []).failure_count == 1 end, 5_000)
        {api(gw, "bare_svc"), call(gw, ConfigDb, :count, []),
         call(gw, ConfigPuller, :status, []).failure_count,
         Check.wait_until(fn -> log_has?("1 of 1 services failed, next in 60000 ms") end, 2_000)}
      end, timeout: 15_000)
    Check.eq("{:error, _} fails too: failure_count 2, next round in 120000 ms", {2, true}, fn ->
      mode(s, :error)
      :ok = call(gw, ConfigPuller, :pull, [])
      true = Check.wait_until(fn -> call(gw, ConfigPuller, :status, []).failure_count == 2 end, 5_000)
      {2, Check.wait_until(fn -> log_has?("{:unexpected_result, {:error, :not_ready}}") and
          log_has?("next in 120000 ms") end, 2_000)}
    end, timeout: 15_000)
    Check.eq("one success resets failure_count", 0, fn ->
      mode(s, :good)
      :ok = call(gw, ConfigPuller, :pull, [])
      true = Check.wait_until(fn -> call(gw, ConfigPuller, :status, []).failure_count == 0 end, 5_000)
      call(gw, ConfigPuller, :status, []).failure_count
    end, timeout: 15_000)

    # ---- case 68: binary node names; nodedown and fallback ----
    Check.eq("binary node names: the service fails with :no_valid_nodes", true, fn ->
      reset(gw)
      :ok = call(gw, ConfigPuller, :add, [[sc(s, nodes: [Atom.to_string(s)])]])
      :ok = call(gw, ConfigPuller, :pull, [])
      Check.wait_until(fn -> call(gw, ConfigPuller, :status, []).failure_count == 1 end, 5_000) and
        log_has?("failed: :no_valid_nodes") and call(gw, ConfigDb, :count, []) == 0
    end, timeout: 15_000)
    ghost = Check.node_name("ghost")
    Check.eq("an absent first node falls back to S (node fallback)", {["test_request"], 1}, fn ->
      reset(gw)
      :ok = call(gw, ConfigPuller, :add, [[sc(s, nodes: [ghost, s])]])
      :ok = call(gw, ConfigPuller, :pull, [])
      true = Check.wait_until(fn -> api(gw, "pull_svc") == ["test_request"] end, 8_000)
      {api(gw, "pull_svc"), call(gw, ConfigDb, :count, [])}
    end, timeout: 15_000)
    Check.eq("only an absent node: {:badrpc, :nodedown}", true, fn ->
      reset(gw)
      :ok = call(gw, ConfigPuller, :add, [[sc(s, nodes: [ghost])]])
      :ok = call(gw, ConfigPuller, :pull, [])
      Check.wait_until(fn -> call(gw, ConfigPuller, :status, []).failure_count == 1 end, 8_000) and
        log_has?("failed: {:badrpc, :nodedown}")
    end, timeout: 15_000)

    # ---- case 67: the version probe ----
    vsc = sc(s, version_module: Sup, version_function: :version)
    Check.eq("version probe: round 1 pulls and stores the version", {"v1", 1}, fn ->
      reset(gw)
      :ok = :rpc.call(s, :persistent_term, :put, [{Sup, :version}, "v1"])
      :ok = call(gw, ConfigPuller, :add, [[vsc]])
      :ok = call(gw, ConfigPuller, :pull, [])
      true = Check.wait_until(fn ->
        call(gw, ConfigPuller, :get_service_version, ["pull_svc"]) == "v1" end, 5_000)
      {call(gw, ConfigPuller, :get_service_version, ["pull_svc"]), call(gw, ConfigDb, :count, [])}
    end, timeout: 15_000)
    Check.eq("same version: round 2 skips the full pull (store stays empty)", {0, 0}, fn ->
      :ok = call(gw, ConfigDb, :clear, [])
      v0 = calls(s, :version)
      g0 = calls(s, :get_config)
      :ok = call(gw, ConfigPuller, :pull, [])
      true = Check.wait_until(fn -> calls(s, :version) > v0 end, 5_000)
      Process.sleep(Check.tmo(300))
      {calls(s, :get_config) - g0, call(gw, ConfigDb, :count, [])}
    end, timeout: 15_000)
    Check.eq("force_pull pulls in full again (store repopulated)", 1, fn ->
      :ok = call(gw, ConfigPuller, :force_pull, [])
      true = Check.wait_until(fn -> call(gw, ConfigDb, :count, []) == 1 end, 5_000)
      call(gw, ConfigDb, :count, [])
    end, timeout: 15_000)
    Check.eq("a new version pulls again and is stored", "v2", fn ->
      :ok = :rpc.call(s, :persistent_term, :put, [{Sup, :version}, "v2"])
      :ok = call(gw, ConfigPuller, :pull, [])
      true = Check.wait_until(fn ->
        call(gw, ConfigPuller, :get_service_version, ["pull_svc"]) == "v2" end, 5_000)
      call(gw, ConfigPuller, :get_service_version, ["pull_svc"])
    end, timeout: 15_000)

    # ---- case 69: Code.ensure_loaded? false on S ----
    Check.eq("module not loaded on S: not stored, not in api_list, failed record with node S",
      {["test_request"], {:error, :not_found},
       [%{source: :pull, node: s, request_type: "missing",
          reason: ["module Sup.Missing not loaded on node #{inspect(s)}"]}]}, fn ->
        reset(gw)
        mode(s, :missing)
        :ok = call(gw, ConfigPuller, :add, [[sc(s)]])
        :ok = call(gw, ConfigPuller, :pull, [])
        true = Check.wait_until(fn -> api(gw, "pull_svc") != nil end, 5_000)
        failed = for e <- call(gw, ConfigFailed, :list, [[source: :pull]]),
          do: Map.take(e, [:source, :node, :request_type, :reason])
        {api(gw, "pull_svc"), call(gw, ConfigDb, :get, ["pull_svc", "missing", "1.0.0"]), failed}
      end, timeout: 15_000)

    # ---- auto-pull: a push with module/function registers S ----
    Check.eq("a push with module/function registers the service; a pull fetches from S",
      {:ok, ["test_request"]}, fn ->
        reset(gw)
        mode(s, :good)
        push = ConfigFixtures.p(s, service: "auto_svc", module: Sup, function: :get_config,
          fun_configs: [ConfigFixtures.f(s, service: "auto_svc", request_type: "pushed")])
        {:ok, :accepted} = :rpc.call(gw, ConfigReceiver, :push, [push, [force: false]])
        :ok = call(gw, ConfigPuller, :pull, [])
        true = Check.wait_until(fn -> api(gw, "auto_svc") == ["test_request"] end, 5_000)
        {elem(call(gw, ConfigDb, :get, ["auto_svc", "test_request", "1.0.0"]), 0),
         api(gw, "auto_svc")}
      end, timeout: 15_000)
    Check.eq("delete_pushed_service drops the registration", %{}, fn ->
      :ok = call(gw, ConfigReceiver, :delete_pushed_service, ["auto_svc"])
      call(gw, ConfigPuller, :get_services, [])
    end)

    # ---- a slow service blocks nothing ----
    # (Started here: a node lives as long as the process that opened it.)
    {_, _, s2} = Check.start_node("slow", "Process.sleep(:infinity)",
      setup: "Code.require_file(#{inspect(structs)})\n" <> @service_code <>
        ":persistent_term.put({Sup, :mode}, :slow)\n")
    Check.eq("a slow service node: the other service is pulled at once, the gateway answers",
      {["test_request"], true}, fn ->
        reset(gw)
        :ok = call(gw, ConfigPuller, :add, [[sc(s, service: "fast_svc")]])
        # Asked twice: 5000 ms per call, so the 6000 ms deadline ends it.
        :ok = call(gw, ConfigPuller, :add, [[sc(s2, service: "slow_svc", nodes: [s2, s2])]])
        :ok = call(gw, ConfigPuller, :pull, [])
        {ms, ok} = Check.timed(fn ->
          Check.wait_until(fn -> api(gw, "fast_svc") == ["test_request"] end, 4_000) end)
        {t2, _} = Check.timed(fn -> call(gw, ConfigDb, :count, []) end)
        true = ok
        {api(gw, "fast_svc"), ms < Check.tmo(3_000) and t2 < Check.tmo(1_000) and
          api(gw, "slow_svc") == nil}
      end, timeout: 30_000)
    Check.eq("the slow service fails with {:task_exit, :timeout} after pull_timeout + 1000",
      true, fn ->
        Check.wait_until(fn -> log_has?("\"slow_svc\" failed: {:task_exit, :timeout}") end, 10_000)
      end, timeout: 20_000)

    Check.eq("clean up", :ok, fn ->
      svcs = call(gw, ConfigPuller, :get_services, [])
      :ok = call(gw, ConfigPuller, :delete, [Map.values(svcs)])
      :ok = call(gw, ConfigDb, :clear, [])
      call(gw, ConfigFailed, :clear, [])
    end)
    Check.finish()
  end
end

Scenario.run()
