# 420_ops_callflow: PhoenixGenApi.call_flow/2,3, inspect_request/1,
# list_call_flows/0,1 (also on Diagnostics) and the print helpers
# call_flow_print, flows_print and inspect_print (ops-plane.md §4.4, §5;
# acceptance cases 9-20 and 60). FunConfigs are stored with ConfigDb.add
# and the store is cleared at the end.
Code.require_file("lib/check.exs", __DIR__)
Code.require_file("lib/config_structs.exs", __DIR__)

defmodule Scenario do
  require Check
  alias PhoenixGenApi.ConfigDb
  alias PhoenixGenApi.Structs.FunConfig

  @top PhoenixGenApi

  def rpc(f, a), do: :rpc.call(Check.gw(), @top, f, a, Check.tmo(10_000))
  def db(f, a), do: :rpc.call(Check.gw(), ConfigDb, f, a, Check.tmo(5_000))

  def local_cfg(over \\ []) do
    struct!(%FunConfig{service: "test_service", request_type: "test_action", nodes: :local,
      choose_node_mode: :random, timeout: 5000, mfa: {T, :test_fn, []}, arg_types: nil,
      arg_orders: [], response_type: :sync, check_permission: false}, over)
  end

  def add(fc), do: db(:add, [fc])

  # Runs fun with a capturing group leader: {value, printed text}.
  def printed(fun) do
    gl = Check.capture_gl()
    Process.group_leader(self(), gl)
    r = fun.()
    {r, Check.captured(gl)}
  end

  def phases(flow), do: Enum.map(flow.steps, & &1.phase)
  def step(flow, phase), do: Enum.find(flow.steps, &(&1.phase == phase))

  def run do
    if System.get_env("PGA_NODE") == "standin" do
      Check.diag("skipped: the BEAM stand-in has no ops plane")
      Check.finish()
    end

    gw = Check.gw()
    db(:clear, [])

    # ---- not found (9) ----
    Check.eq("call_flow of an unknown config -> the 5-key error map",
      %{service: "unknown_service", request_type: "unknown_action", config: nil,
        error: :not_found, steps: [%{phase: :config_lookup,
          desc: "ConfigDb.get(\"unknown_service\", \"unknown_action\") → :not_found"}]},
      fn -> rpc(:call_flow, ["unknown_service", "unknown_action"]) end)
    Check.eq("Diagnostics.call_flow answers the same",
      :not_found, fn ->
        :rpc.call(gw, PhoenixGenApi.Diagnostics, :call_flow, ["x", "y"]).error
      end)
    Check.match("call_flow with a non-binary request_type -> function_clause",
      {:badrpc, {:EXIT, {:function_clause, _}}}, rpc(:call_flow, ["s", :not_binary]))

    # ---- local config (10, 11) ----
    cfg = local_cfg()
    Check.eq("local cfg stored", :ok, fn -> add(cfg) end)
    Check.eq("call_flow of the local cfg: config verbatim and the flow fields",
      {cfg, true, :sync, :random, 5000, {T, :test_fn, []}, :none, false, false, true, 17},
      fn ->
        f = rpc(:call_flow, ["test_service", "test_action"])
        {f.config, f.local?, f.response_type, f.choose_node_mode, f.timeout, f.mfa,
         f.permission.strategy, f.hooks.before_execute.configured, f.retry.configured,
         Map.has_key?(f.rate_limit, :global) and Map.has_key?(f.rate_limit, :api),
         map_size(f)}
      end)
    Check.eq("local cfg: the ten phases in order and the execution text",
      {[:channel, :decode, :config_lookup, :hooks_before, :permission, :rate_limit,
        :argument_validation, :execution, :hooks_after, :response],
       "Local execution via Task.async (timeout: 5000ms)"},
      fn ->
        f = rpc(:call_flow, ["test_service", "test_action"])
        {phases(f), step(f, :execution).desc}
      end)
    Check.eq("local cfg: nodes [:local], none reachable (replicated quirk)",
      {[:local], [], [:local]}, fn ->
        f = rpc(:call_flow, ["test_service", "test_action"])
        {f.nodes, f.reachable_nodes, f.unreachable_nodes}
      end)
    Check.eq("rate_limit lists the limiter's global limits with scope :global",
      true, fn ->
        f = rpc(:call_flow, ["test_service", "test_action"])
        Enum.all?(f.rate_limit.global, &(&1.scope == :global and Map.has_key?(&1, :key)))
      end)

    # ---- versioned remote config (12, 13) ----
    vcfg = local_cfg(service: "versioned_service", request_type: "versioned_action",
      version: "1.0.0", nodes: [:nonexistent@host])
    Check.eq("versioned cfg stored", :ok, fn -> add(vcfg) end)
    Check.eq("versioned cfg: version, nodes, node_selection then execution",
      {"1.0.0", [:nonexistent@host],
       [%{phase: :node_selection, desc: "NodeSelector picks :random from [:nonexistent@host]"},
        %{phase: :execution, desc: "RPC to target node(s) — 0/1 reachable"}]},
      fn ->
        f = rpc(:call_flow, ["versioned_service", "versioned_action"])
        i = Enum.find_index(f.steps, &(&1.phase == :node_selection))
        {f.version, f.nodes, Enum.slice(f.steps, i, 2)}
      end, timeout: 15_000)
    Check.eq("versions \"0.0.0\" and \"9.9.9\" fall back to the latest (1.0.0)",
      {"1.0.0", "1.0.0"}, fn ->
        {rpc(:call_flow, ["versioned_service", "versioned_action", "0.0.0"]).version,
         rpc(:call_flow, ["versioned_service", "versioned_action", "9.9.9"]).version}
      end, timeout: 15_000)
    me = node()
    Check.eq("reachable: the gateway itself and this (connected) node",
      {[gw, me], [gw, me], []}, fn ->
        :ok = add(local_cfg(service: "reach", nodes: [gw, me]))
        f = rpc(:call_flow, ["reach", "test_action"])
        {f.nodes, f.reachable_nodes, f.unreachable_nodes}
      end)
    Check.eq("a tuple choose_node_mode is inspected, not a crash (deviation)",
      "NodeSelector picks {:sticky, \"user_id\"} from [#{inspect(me)}]", fn ->
        :ok = add(local_cfg(service: "sticky", nodes: [me], choose_node_mode: {:sticky, "user_id"}))
        step(rpc(:call_flow, ["sticky", "test_action"]), :node_selection).desc
      end)

    # ---- disabled (14) ----
    Check.eq("disabled cfg -> error :disabled, config nil", {:disabled, nil}, fn ->
      :ok = db(:disable, ["test_service", "test_action"])
      f = rpc(:call_flow, ["test_service", "test_action"])
      {f.error, f.config}
    end)

    # ---- list_call_flows (20) ----
    Check.eq("list_call_flows hides the disabled entry", false, fn ->
      Enum.any?(rpc(:list_call_flows, []), &(&1.service == "test_service"))
    end, timeout: 15_000)
    Check.eq("include_disabled: true lists it in the short form",
      true, fn ->
        %{service: "test_service", request_type: "test_action", version: nil,
          status: :disabled, disabled: true} in rpc(:list_call_flows, [[include_disabled: true]])
      end, timeout: 15_000)
    Check.eq("enabled entry: local? true, disabled false, a steps list", {true, false, true}, fn ->
      :ok = db(:enable, ["test_service", "test_action"])
      e = Enum.find(rpc(:list_call_flows, []), &(&1.service == "test_service"))
      {e.local?, e.disabled, is_list(e.steps)}
    end, timeout: 15_000)
    Check.eq("list_call_flows sorted by service", ["reach", "sticky", "test_service",
      "versioned_service"], fn -> Enum.map(rpc(:list_call_flows, []), & &1.service) end,
      timeout: 15_000)

    # ---- descriptions (15-18) ----
    Check.eq("retry: 3 -> all nodes, and the :retry step after :execution",
      {%{configured: true, mode: :all_nodes, attempts: 3,
         description: "Retry up to 3 times across all nodes"},
       %{phase: :retry, desc: "Retry on failure: 3 attempts (all nodes)"}, :execution}, fn ->
        :ok = add(local_cfg(retry: 3))
        f = rpc(:call_flow, ["test_service", "test_action"])
        i = Enum.find_index(f.steps, &(&1.phase == :retry))
        {f.retry, Enum.at(f.steps, i), Enum.at(f.steps, i - 1).phase}
      end)
    Check.eq("retry {:same_node, 2}",
      {"Retry up to 2 times on the same node", "Retry on failure: 2 attempts (same node)"}, fn ->
        :ok = add(local_cfg(retry: {:same_node, 2}))
        f = rpc(:call_flow, ["test_service", "test_action"])
        {f.retry.description, step(f, :retry).desc}
      end)
    Check.eq("check_permission {:arg, \"user_id\"}",
      %{strategy: :arg_based, field: "user_id",
        description: "Checks permission via request arg 'user_id'"}, fn ->
        :ok = add(local_cfg(check_permission: {:arg, "user_id"}))
        rpc(:call_flow, ["test_service", "test_action"]).permission
      end)
    Check.eq("check_permission :any_authenticated -> :unknown (replicated)",
      %{strategy: :unknown, raw: :any_authenticated,
        description: "Unknown permission config: :any_authenticated"}, fn ->
        :ok = add(local_cfg(check_permission: :any_authenticated))
        rpc(:call_flow, ["test_service", "test_action"]).permission
      end)
    Check.eq("before_execute {MyHooks, :audit}",
      {%{configured: true, mfa: {MyHooks, :audit}, args: 2,
         description: "Elixir.MyHooks.audit/2(request, fun_config)"},
       "before_execute hook: Elixir.MyHooks.audit/2"}, fn ->
        :ok = add(local_cfg(before_execute: {MyHooks, :audit}))
        f = rpc(:call_flow, ["test_service", "test_action"])
        {f.hooks.before_execute, step(f, :hooks_before).desc}
      end)
    Check.eq("response_type :async: deferred validation, async response",
      {"ArgumentHandler.convert_args!/2 (deferred to worker pool)",
       "Async result pushed to client when ready"}, fn ->
        :ok = add(local_cfg(response_type: :async))
        f = rpc(:call_flow, ["test_service", "test_action"])
        {step(f, :argument_validation).desc, step(f, :response).desc}
      end)

    # ---- inspect_request (19) ----
    Check.eq("inspect_request of an unknown atom-keyed map",
      {%{service: "unknown_service", request_type: "unknown_action", version: nil,
         user_id: "user_123", device_id: nil, request_id: "req_456"}, nil}, fn ->
        r = rpc(:inspect_request, [%{service: "unknown_service",
          request_type: "unknown_action", user_id: "user_123", request_id: "req_456"}])
        {r.request, r.config}
      end)
    Check.eq("inspect_request reads string keys too", {"unknown_service", "unknown_action"}, fn ->
      r = rpc(:inspect_request, [%{"service" => "unknown_service",
        "request_type" => "unknown_action"}])
      {r.request.service, r.request.request_type}
    end)
    Check.match("inspect_request of a non-map raises", {:badrpc, {:EXIT, _}},
      rpc(:inspect_request, [:nope]))

    # ---- prints (60) ----
    :ok = add(local_cfg())
    Check.match("inspect_print of a found config prints the plan (deviation)",
      {:ok, text} when is_binary(text),
      printed(fn -> rpc(:inspect_print, [%{service: "test_service", request_type: "test_action"}]) end))
    Check.eq("inspect_print text", true, fn ->
      {:ok, text} = printed(fn ->
        rpc(:inspect_print, [%{service: "test_service", request_type: "test_action"}])
      end)
      String.starts_with?(text, "\n=== Request Inspection ===\nService:      \"test_service\"\n") and
        String.contains?(text, "--- Execution Plan ---\n") and
        String.contains?(text, "  1. [channel] WebSocket handle_in receives payload on channel\n") and
        String.ends_with?(text, "\n\n")
    end)
    Check.eq("inspect_print of an unknown config",
      {:ok, "\n=== Request Inspection ===\nService:      \"nope\"\nRequest Type: \"x\"\n" <>
        "Version:      nil\nUser ID:      nil\nDevice ID:    nil\nRequest ID:   nil\n" <>
        "\n❌ Config not found: :not_found\n\n"},
      fn -> printed(fn -> rpc(:inspect_print, [%{service: "nope", request_type: "x"}]) end) end)
    Check.eq("call_flow_print of an unknown config",
      {:ok, "\n=== Call Flow: nope/x ===\n❌ Config not found: :not_found\n\n"},
      fn -> printed(fn -> rpc(:call_flow_print, ["nope", "x"]) end) end)
    Check.eq("call_flow_print of the local cfg", {:ok, true}, fn ->
      {r, text} = printed(fn -> rpc(:call_flow_print, ["test_service", "test_action", nil]) end)
      {r, String.starts_with?(text, """

      === Call Flow: test_service/test_action ===
      Service:      test_service
      Request Type: test_action
      Version:      nil
      Response:     sync
      Local:        true
      Node Mode:    random
      Timeout:      5000ms
      MFA:          {T, :test_fn, []}

      --- Nodes ---
        All:         [:local]
        Reachable:   []
        ❌ Unreachable: [:local]

      --- Rate Limits ---
      """) and String.contains?(text, """

      --- Permission ---
        No permission check

      --- Hooks ---
        Before: No hook configured
        After:  No hook configured

      --- Retry ---
        No retry

      --- Execution Steps ---
        1. [channel] WebSocket handle_in receives payload on channel
      """) and String.ends_with?(text, "  10. [response] Sync result pushed back to client via WebSocket\n\n")}
    end)
    Check.eq("flows_print with include_disabled shows a disabled row (deviation)", {:ok, true}, fn ->
      :ok = db(:disable, ["test_service", "test_action"])
      {r, text} = printed(fn -> rpc(:flows_print, [[include_disabled: true]]) end)
      row = String.pad_trailing(~s("test_service"), 25) <> String.pad_trailing(~s("test_action"), 25) <>
        String.pad_trailing("nil", 12) <> String.pad_trailing("-", 8) <> "- [DISABLED]\n"
      header = String.pad_trailing("Service", 25) <> String.pad_trailing("Request Type", 25) <>
        String.pad_trailing("Version", 12) <> String.pad_trailing("Local", 8) <> "Nodes\n"
      {r, String.starts_with?(text, "\n=== Registered Call Flows ===\nTotal: 4\n\n" <> header <>
        String.duplicate("-", 90) <> "\n") and String.contains?(text, row) and
        String.ends_with?(text, "\n\n")}
    end, timeout: 15_000)

    Check.eq("flows_print of an empty store",
      {:ok, "\n=== Registered Call Flows ===\nTotal: 0\n  (no registered configs)\n\n"}, fn ->
        :ok = db(:clear, [])
        printed(fn -> rpc(:flows_print, []) end)
      end)
    Check.eq("list_call_flows of an empty store", [], fn -> rpc(:list_call_flows, []) end)

    db(:clear, [])
    Check.finish()
  end
end

Scenario.run()
