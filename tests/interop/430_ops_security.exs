# 430_ops_security: PhoenixGenApi.Security (admin_action_allowed?/1,
# valid_push_token?/1, validate_mfa/1) and the admin-gated tracing API
# (ops-plane.md §8, §9.1; acceptance cases 23-28, 47-49). The harness
# gateway runs with the defaults; three private gateways (pga-node
# --config FILE) carry admin_actions, push_token and mfa_allowlist.
Code.require_file("lib/check.exs", __DIR__)
Code.require_file("lib/config_structs.exs", __DIR__)
Code.require_file("lib/config_gw.exs", __DIR__)

defmodule Scenario do
  require Check
  alias PhoenixGenApi.Security

  @top PhoenixGenApi
  @flags [:call, :return_to, :procs]
  @actions [:change_detail_error, :update_rate_limit_config, :push_config,
            :enable_tracing, :disable_tracing]

  def call(gw, m, f, a), do: :rpc.call(gw, m, f, a, Check.tmo(5_000))

  def defaults(gw) do
    Check.eq("defaults: every tracing call -> {:error, :admin_action_denied}",
      List.duplicate({:error, :admin_action_denied}, 6), fn ->
        [call(gw, @top, :trace_processes, [self()]),
         call(gw, @top, :trace_functions, [{T, :noop}]),
         call(gw, @top, :stop_trace, [self()]),
         call(gw, @top, :stop_trace_functions, [{T, :noop}]),
         call(gw, PhoenixGenApi.Diagnostics, :stop_trace, []),
         call(gw, @top, :trace_processes, [:all, :not_a_list])]
      end)
    Check.eq("defaults: admin_action_allowed? is false for all five",
      List.duplicate(false, 5), fn -> Enum.map(@actions, &call(gw, Security, :admin_action_allowed?, [&1])) end)
    Check.match("admin_action_allowed?(:bogus) -> function_clause",
      {:badrpc, {:EXIT, {:function_clause, _}}}, call(gw, Security, :admin_action_allowed?, [:bogus]))
    Check.eq("no push token: nil and any binary are valid, others not",
      [true, true, false, false], fn ->
        Enum.map([nil, "anything", :atom_token, 123], &call(gw, Security, :valid_push_token?, [&1]))
      end)
    Check.eq("validate_mfa: denylist, non-tuples, no allowlist",
      [{:error, {:mfa_not_allowed, {:os, :cmd, ["echo"]}}}, {:error, {:mfa_not_allowed, :net}},
       :ok, {:error, {:mfa_not_allowed, {:erlang, :halt}}}], fn ->
        Enum.map([{:os, :cmd, ["echo"]}, :net, {MyModule, :f, []}, {:erlang, :halt}],
          &call(gw, Security, :validate_mfa, [&1]))
      end)
  end

  def enable_only(gw) do
    me = self()
    Check.eq("[:push_config, :enable_tracing]: exactly those two allowed",
      [false, false, true, true, false], fn ->
        Enum.map(@actions, &call(gw, Security, :admin_action_allowed?, [&1]))
      end)
    Check.eq("push_token secret123: only the exact binary",
      [false, true, false, false, false, false, false], fn ->
        Enum.map([nil, "secret123", "", "wrong_token", :atom_token, 123, "secret1234"],
          &call(gw, Security, :valid_push_token?, [&1]))
      end)
    Check.eq("mfa_allowlist [:os, {MyApp.Order, :create}]",
      [{:error, {:mfa_not_allowed, {:os, :cmd, ["echo"]}}}, :ok,
       {:error, {:mfa_not_allowed, {MyApp.Order, :delete, []}}}], fn ->
        Enum.map([{:os, :cmd, ["echo"]}, {MyApp.Order, :create, []}, {MyApp.Order, :delete, []}],
          &call(gw, Security, :validate_mfa, [&1]))
      end)
    Check.eq("trace_processes validation order and errors",
      [{:error, :invalid_tracer}, {:error, :invalid_trace_flag},
       {:error, :invalid_trace_target}, {:error, {:invalid_trace_target, [:existing]}},
       {:error, :invalid_trace_flag}, {:error, {:invalid_trace_target, [:all, :new]}}], fn ->
        [call(gw, @top, :trace_processes, [:all, [tracer: "x"]]),
         call(gw, @top, :trace_processes, [:all, [tracer: me, flags: [:bogus]]]),
         call(gw, @top, :trace_processes, [:foo, [tracer: me]]),
         call(gw, @top, :trace_processes, [:existing, [tracer: me]]),
         call(gw, @top, :trace_processes, [:foo, [tracer: me, flags: :call]]),
         call(gw, @top, :trace_processes, [[:all, :new, me], [tracer: me]])]
      end)
    Check.match("trace_processes(:all, tracer: self()) -> {:ok, map}",
      {:ok, %{tracer: ^me, flags: @flags, targets: [:all], results: %{":all" => n}}}
        when is_integer(n),
      call(gw, @top, :trace_processes, [:all, [tracer: me]]))
    Check.eq("trace_functions: :all and a negative arity rejected",
      [{:error, {:invalid_mfa, [{:_, :_, :_}]}}, {:error, :invalid_mfa},
       {:error, :invalid_match_spec}, {:error, {:invalid_mfa, [{T, :noop, :_}]}}], fn ->
        [call(gw, @top, :trace_functions, [:all, [tracer: me]]),
         call(gw, @top, :trace_functions, [{T, :f, -1}]),
         call(gw, @top, :trace_functions, [{T, :f, 1}, [tracer: me, match_spec: 3]]),
         call(gw, PhoenixGenApi.Diagnostics, :trace_functions, [{T, :noop}, [tracer: me]])]
      end)
    Check.eq("enable_tracing only: stop_trace -> denied", {:error, :admin_action_denied},
      fn -> call(gw, @top, :stop_trace, []) end)
  end

  def disable_only(gw) do
    Check.match("stop_trace_functions() -> all patterns",
      {:ok, %{mfas: [{:_, :_, :_}], results: %{"{:_, :_, :_}" => n}}} when is_integer(n),
      call(gw, @top, :stop_trace_functions, []))
    Check.match("stop_trace() -> all targets",
      {:ok, %{flags: @flags, targets: [:all], results: %{":all" => n}}} when is_integer(n),
      call(gw, @top, :stop_trace, []))
    Check.eq("disable_tracing only: trace_processes -> denied", {:error, :admin_action_denied},
      fn -> call(gw, @top, :trace_processes, [:all, [tracer: self()]]) end)
    Check.match("mfa_allowlist [] denies everything", {:error, {:mfa_not_allowed, _}},
      call(gw, Security, :validate_mfa, [{MyModule, :f, []}]))
  end

  def both(gw) do
    me = self()
    fc = ConfigFixtures.f(node(), service: "traced", mfa: {MyApp.Order, :create, []})
    Check.eq("a stored FunConfig makes its module traceable", {:ok, %{"{MyApp.Order, :create, :_}" => 1}}, fn ->
      :ok = call(gw, PhoenixGenApi.ConfigDb, :add, [fc])
      case call(gw, @top, :trace_functions, [{MyApp.Order, :create}, [tracer: me]]) do
        {:ok, %{pattern_results: pr, process_trace: %{targets: [:all]}, match_spec: true}} -> {:ok, pr}
        other -> other
      end
    end)
    # (the key is the gateway's inspect of a remote pid: "#PID<...>")
    Check.eq("trace_processes of a remote pid counts nothing", {:ok, "#PID<", [0]}, fn ->
      case call(gw, @top, :trace_processes, [me, [tracer: me]]) do
        {:ok, %{results: r, targets: [^me]}} ->
          [k] = Map.keys(r)
          {:ok, binary_part(k, 0, 5), Map.values(r)}
        other -> other
      end
    end)
    Check.eq("stop_trace_functions removes the stored pattern",
      {:ok, %{mfas: [{MyApp.Order, :_, :_}], results: %{"{MyApp.Order, :_, :_}" => 1}}},
      fn -> call(gw, @top, :stop_trace_functions, [{MyApp.Order, :_}]) end)
    Check.eq("stop_trace(:all) removes both process traces", {:ok, %{":all" => 2}}, fn ->
      case call(gw, @top, :stop_trace, [:all, []]) do
        {:ok, %{results: r}} -> {:ok, r}
        other -> other
      end
    end)
  end

  def run do
    ConfigGw.require_binary!()

    defaults(Check.gw())

    a = ConfigGw.start_with_config("secgw_a", ~s({"admin_actions": ["push_config", "enable_tracing"],
      "push_token": "secret123",
      "mfa_allowlist": ["os", ["Elixir.MyApp.Order", "create"]]}))
    enable_only(a.node)
    ConfigGw.stop(a)

    b = ConfigGw.start_with_config("secgw_b", ~s({"admin_actions": ["disable_tracing"], "mfa_allowlist": []}))
    disable_only(b.node)
    ConfigGw.stop(b)

    c = ConfigGw.start_with_config("secgw_c", ~s({"admin_actions": ["enable_tracing", "disable_tracing"]}))
    both(c.node)
    ConfigGw.stop(c)

    Check.finish()
  end
end

Scenario.run()
