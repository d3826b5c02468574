# 470_ops_hostile: every function the gateway serves under the library's
# module names, called with odd arguments (wrong types, huge numbers,
# improper and deep lists, funs, pids, refs, large binaries, invalid UTF-8).
# Each call must be answered (a value or {:badrpc, _}) within its timeout,
# and the gateway must still serve afterwards: network input never crashes
# it or hangs a call. Runs with a fixed seed, so a failure can be replayed.
Code.require_file("lib/check.exs", __DIR__)

defmodule Scenario do
  require Check

  @modules %{
    PhoenixGenApi => :facade,
    PhoenixGenApi.Diagnostics => ~w(health_check statistics debug_report call_flow
      inspect_request cluster_view list_call_flows trace_processes trace_functions
      stop_trace stop_trace_functions trace_status)a,
    PhoenixGenApi.Telemetry => ~w(list_events attach_all attach_executor attach_rate_limiter
      attach_hooks attach_worker_pool attach_config attach_many detach_all
      attach_default_logger detach_default_logger execute span)a,
    PhoenixGenApi.Relay => ~w(create_group delete_group get_group_info join_group
      leave_group accept_member mute_member unmute_member handle_relay table)a,
    PhoenixGenApi.RelayServer => ~w(status create_group delete_group get_group_info
      join_group leave_group accept_member mute_member unmute_member handle_relay)a,
    PhoenixGenApi.Security => ~w(admin_action_allowed? valid_push_token? validate_mfa)a,
    PhoenixGenApi.WorkerPool => ~w(status)a,
    PhoenixGenApi.RateLimiter => ~w(status instance_count routing_strategy
      get_configured_limits get_global_limits set_global_limits add_global_limit
      remove_global_limit update_config reset_rate_limit get_rate_limit_status
      check_rate_limit attach_telemetry detach_telemetry)a,
    PhoenixGenApi.ConfigFailed => ~w(record list count summary cleanup)a,
    PhoenixGenApi.ConfigReceiver => ~w(push verify get_pushed_config
      get_all_pushed_services status delete_pushed_service)a,
    PhoenixGenApi.ConfigDb => ~w(add batch_add update delete disable enable get
      get_fast get_latest get_all_functions get_functions_from_services
      get_all_services count status)a,
    PhoenixGenApi.ConfigPuller => ~w(add delete get_services get_api_list
      get_service_version get_all_versions status)a,
    PhoenixGenApi.Executor => ~w(execute! execute_params! attach_telemetry detach_telemetry)a,
    PhoenixGenApi.JsonConfig => ~w(generate export_all export_service export_single)a
  }
  @combos_per_function 30

  def hostile do
    deep = Enum.reduce(1..2000, [], fn _, acc -> [acc] end)
    [nil, :bogus, :"ünï", -1, 0, 2 ** 200, 1.5, "", "x", <<0xFF, 0xFE, 0>>,
     :binary.copy("a", 200_000), [], [1 | 2], deep, {1}, {:a, :b, :c}, %{},
     %{"a" => [1, 2, 3], b: %{c: :d}}, [a: 1, tracer: self()], self(), make_ref(),
     fn _ -> :ok end, fn _, _, _, _ -> :ok end, &Kernel.+/2,
     %{__struct__: PhoenixGenApi.Structs.Request, request_id: 1, service: [],
       request_type: {}, user_id: self(), args: :x}]
  end

  # {module, function, arity} served by the gateway among the candidates.
  def served(gw) do
    for {mod, names} <- @modules,
        {f, a} <- candidates(gw, mod, names),
        :rpc.call(gw, :erlang, :function_exported, [mod, f, a]) == true,
        do: {mod, f, a}
  end

  defp candidates(gw, mod, :facade), do: :rpc.call(gw, mod, :__info__, [:functions])
  defp candidates(_gw, _mod, names), do: for(f <- names, a <- 0..4, do: {f, a})

  def args_for(0, _pool), do: [[]]

  def args_for(arity, pool) do
    for _ <- 1..@combos_per_function, do: for(_ <- 1..arity, do: Enum.random(pool))
  end

  # Every call answered; {mfa, args, what} for those that were not.
  def sweep(gw, fns, pool) do
    for {m, f, a} <- fns, args <- args_for(a, pool), reduce: [] do
      bad ->
        case call(gw, m, f, args) do
          :answered -> bad
          what -> [{{m, f, a}, args, what} | bad]
        end
    end
  end

  defp call(gw, m, f, args) do
    task = Task.async(fn -> :rpc.call(gw, m, f, args, Check.tmo(8_000)) end)

    case Task.yield(task, Check.tmo(10_000)) || Task.shutdown(task, :brutal_kill) do
      {:ok, {:badrpc, :timeout}} -> :timeout
      {:ok, {:badrpc, :nodedown}} -> :nodedown
      {:ok, _} -> :answered
      other -> {:no_answer, other}
    end
  end

  def cleanup(gw) do
    :rpc.call(gw, PhoenixGenApi.ConfigDb, :clear, [])
    :rpc.call(gw, PhoenixGenApi, :set_global_limits, [[]])
    :rpc.call(gw, PhoenixGenApi.ConfigFailed, :clear, [])
    for g <- ["", "x", <<0xFF, 0xFE, 0>>, :binary.copy("a", 200_000)],
        do: :rpc.call(gw, PhoenixGenApi.Relay, :delete_group, [g])
  end

  def run do
    gw = Check.gw()
    :rand.seed(:exsss, {470, 470, 470})
    fns = served(gw)
    Check.run("the served functions are found (#{length(fns)})", fn ->
      if length(fns) > 150, do: :ok, else: {:fail, "too few", length(fns)}
    end)
    pool = hostile()
    Check.run("every call with odd arguments is answered", fn ->
      # What the print helpers print goes to a sink (this process only).
      Process.group_leader(self(), Check.capture_gl())
      case sweep(gw, fns, pool) do
        [] -> :ok
        bad -> {:fail, "unanswered", Enum.take(Enum.reverse(bad), 5)}
      end
    end, timeout: 600_000)
    Check.eq("the gateway still serves: echo", :still_here,
      fn -> :rpc.call(gw, :pga_node, :echo, [:still_here], Check.tmo(5_000)) end)
    Check.match("the gateway still serves: health_check", %{node: ^gw},
      :rpc.call(gw, PhoenixGenApi, :health_check, [], Check.tmo(10_000)))
    cleanup(gw)
    Check.eq("store and limits back to empty", {0, []},
      fn -> {:rpc.call(gw, PhoenixGenApi.ConfigDb, :count, []),
             :rpc.call(gw, PhoenixGenApi, :get_global_limits, [])} end)
    Check.finish()
  end
end

Scenario.run()
