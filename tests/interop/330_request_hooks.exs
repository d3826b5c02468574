# 330_request_hooks: before/after hooks (request-plane.md §10, compat R14).
# No native function is registered under the hook modules, so the gateway
# calls them by RPC on the node selected for the request: a real Elixir
# service node defines them. Checks the E3 texts (double inspect, 5000 ms
# timeout), the request rewritten by {:ok, req2, cfg2}, and the after hook
# that sees the final Response while its own value is discarded.
Code.require_file("lib/check.exs", __DIR__)
Code.require_file("lib/config_structs.exs", __DIR__)

defmodule Scenario do
  require Check
  alias PhoenixGenApi.Structs.PushConfig

  @exec PhoenixGenApi.Executor

  @service """
  defmodule Svc do
    def hello(name), do: {:ok, "hi " <> name}
  end
  defmodule Hooks do
    def rename(req, cfg), do: {:ok, %{req | args: %{"name" => "hooked"}}, cfg}
    def quota(_req, _cfg), do: {:error, :quota}
    def no(_req, _cfg), do: {:error, "no"}
    def boom(_req, _cfg), do: raise("hookboom")
    def throws(_req, _cfg), do: throw(:x)
    def exits(_req, _cfg), do: exit(:bye)
    def slow(_req, _cfg), do: (Process.sleep(6000); :ok)
    def other(_req, _cfg), do: :whatever
    def with_extra(req, extra), do: :persistent_term.put({:before_extra, req.request_id}, extra)
    def record(req, cfg, resp) do
      :persistent_term.put({:after, req.request_id}, {req.args, cfg.request_type, resp})
      {:error, :discarded}
    end
    def record_extra(req, _cfg, extra),
      do: :persistent_term.put({:after_extra, req.request_id}, extra)
    def crash_after(_req, _cfg, _resp), do: raise("after boom")
  end
  """

  def resp(id, over \\ []) do
    Map.merge(%{__struct__: PhoenixGenApi.Structs.Response, request_id: id, result: nil,
      success: false, error: nil, async: false, has_more: false, can_retry: false},
      Map.new(over))
  end

  def ok(id, r), do: resp(id, result: r, success: true)
  def err(id, e), do: resp(id, error: e)

  def fc(node, rt, over) do
    ConfigFixtures.f(node, Keyword.merge([request_type: rt, service: "svc",
      choose_node_mode: :random, timeout: 5000, version: nil,
      mfa: {Svc, :hello, []}, arg_types: %{"name" => :string}, arg_orders: ["name"]], over))
  end

  def params(rt, name),
    do: %{"request_id" => "id-" <> rt, "request_type" => rt, "service" => "svc",
          "user_id" => "u1", "device_id" => "d1", "args" => %{"name" => name}}

  def xp(gw, p), do: :erpc.call(gw, @exec, :execute_params!, [p], Check.tmo(20_000))
  def pt(svc, key), do: :rpc.call(svc, :persistent_term, :get, [key, :unset], 5000)

  def run do
    if System.get_env("PGA_NODE") == "standin" do
      Check.diag("skipped: the BEAM stand-in has no executor")
      Check.finish()
    end

    gw = Check.gw()
    {_port, _ospid, svc} = Check.start_node("svc", "Process.sleep(:infinity)", setup: @service)

    fcs = [
      fc(svc, "rename", before_execute: {Hooks, :rename}, after_execute: {Hooks, :record}),
      fc(svc, "quota", before_execute: {Hooks, :quota}, after_execute: {Hooks, :record}),
      fc(svc, "no", before_execute: {Hooks, :no}),
      fc(svc, "boom", before_execute: {Hooks, :boom}),
      fc(svc, "throws", before_execute: {Hooks, :throws}),
      fc(svc, "exits", before_execute: {Hooks, :exits}),
      fc(svc, "slow", before_execute: {Hooks, :slow}),
      fc(svc, "other", before_execute: {Hooks, :other}),
      fc(svc, "extra", before_execute: {Hooks, :with_extra, [:x1]},
         after_execute: {Hooks, :record_extra, [:x2]}),
      fc(svc, "after_only", after_execute: {Hooks, :record}),
      fc(svc, "after_crash", after_execute: {Hooks, :crash_after}),
      fc(svc, "after_async", response_type: :async, after_execute: {Hooks, :record}),
      fc(svc, "local", nodes: :local)
    ]
    push = %PushConfig{service: "svc", nodes: [svc], config_version: "1", fun_configs: fcs}
    Check.eq("service node pushes its FunConfigs", {:ok, :accepted},
      fn -> :rpc.call(gw, PhoenixGenApi.ConfigReceiver, :push, [push, [force: true]], 5000) end)

    Check.eq(":local without a registered C function: a failed record (R23)",
      [["local function not available: {Svc, :hello, []}"]],
      fn -> for %{request_type: "local", source: :push, reason: r} <-
                  :rpc.call(gw, PhoenixGenApi.ConfigFailed, :list, [[source: :push]]),
                do: r end)
    Check.eq(":local config not stored", resp("id-local", error: "unsupported function: local version latest"),
      fn -> xp(gw, params("local", "A")) end)

    Check.eq("before {:ok, req2, cfg2}: the call uses req2", ok("id-rename", "hi hooked"),
      fn -> xp(gw, params("rename", "A")) end)
    Check.eq("after hook saw the modified request and the final Response",
      {%{"name" => "hooked"}, "rename", ok("id-rename", "hi hooked")},
      fn -> pt(svc, {:after, "id-rename"}) end)
    Check.eq("before {:error, :quota} -> E3", err("id-quota", "hook rejected: :quota"),
      fn -> xp(gw, params("quota", "A")) end)
    Check.eq("after hook runs on E3 with the original request",
      {%{"name" => "A"}, "quota", err("id-quota", "hook rejected: :quota")},
      fn -> pt(svc, {:after, "id-quota"}) end)
    Check.eq("before {:error, \"no\"} -> E3 inspects", err("id-no", "hook rejected: \"no\""),
      fn -> xp(gw, params("no", "A")) end)
    Check.eq("raising hook: double-inspected message",
      err("id-boom", "hook rejected: \"\\\"hookboom\\\"\""),
      fn -> xp(gw, params("boom", "A")) end)
    Check.eq("exiting hook: inspect({:exit, v}) inspected again",
      err("id-exits", "hook rejected: \"{:exit, :bye}\""),
      fn -> xp(gw, params("exits", "A")) end)
    # rpc:call returns a thrown value as the result (compat R14)
    Check.eq("throwing remote hook: the value thrown counts as returned", ok("id-throws", "hi A"),
      fn -> xp(gw, params("throws", "A")) end)
    Check.eq("any other value: original request", ok("id-other", "hi A"),
      fn -> xp(gw, params("other", "A")) end)
    Check.eq("{m, f, extra}: before gets extra, after gets extra", {ok("id-extra", "hi A"), [:x1], [:x2]},
      fn -> {xp(gw, params("extra", "A")), pt(svc, {:before_extra, "id-extra"}),
             pt(svc, {:after_extra, "id-extra"})} end)
    Check.eq("after hook's {:error, _} is discarded", ok("id-after_only", "hi A"),
      fn -> xp(gw, params("after_only", "A")) end)
    Check.eq("after hook that raises changes nothing", ok("id-after_crash", "hi A"),
      fn -> xp(gw, params("after_crash", "A")) end)
    Check.eq("async: the after hook sees the ack",
      {resp("id-after_async", success: true, async: true),
       {%{"name" => "A"}, "after_async", resp("id-after_async", success: true, async: true)}},
      fn -> r = xp(gw, params("after_async", "A"))
            receive do {:async_call, _} -> :ok after Check.tmo(5000) -> :ok end
            {r, pt(svc, {:after, "id-after_async"})} end)
    Check.eq("slow hook: killed after 5000 ms",
      err("id-slow", "hook rejected: \"hook timed out after 5000ms\""),
      fn -> xp(gw, params("slow", "A")) end, timeout: 15_000)
    Check.eq("gateway still answers", ok("id-other", "hi Z"),
      fn -> xp(gw, params("other", "Z")) end)
    Check.finish()
  end
end

Scenario.run()
