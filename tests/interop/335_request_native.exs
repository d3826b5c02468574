# 335_request_native: `nodes: :local`, local permission callbacks and hooks
# run as the C functions registered under the same {Module, Function}
# (compat R14, R15, R23), using the pga_test plugin's functions on a
# pga-node that loads it (the harness gateway, or a private one).
Code.require_file("lib/check.exs", __DIR__)
Code.require_file("lib/plugin.exs", __DIR__)

defmodule Scenario do
  require Check
  alias PhoenixGenApi.Structs.{FunConfig, PushConfig}

  @exec PhoenixGenApi.Executor

  def resp(id, over) do
    Map.merge(%{__struct__: PhoenixGenApi.Structs.Response, request_id: id, result: nil,
      success: false, error: nil, async: false, has_more: false, can_retry: false},
      Map.new(over))
  end

  def fc(rt, over) do
    struct!(%FunConfig{request_type: rt, service: "native", nodes: :local,
      choose_node_mode: :random, timeout: 2000, mfa: {PgaTest.Fns, :notify, []},
      arg_types: %{"v" => :string}, arg_orders: ["v"], response_type: :sync,
      version: nil}, over)
  end

  def params(rt),
    do: %{"request_id" => "id-" <> rt, "request_type" => rt, "service" => "native",
          "user_id" => "u1", "device_id" => "d1", "args" => %{"v" => "x"}}

  def xp(pga, rt), do: :erpc.call(pga, @exec, :execute_params!, [params(rt)], Check.tmo(20_000))

  def run do
    case PgaPlugin.serving() do
      {:skip, why} ->
        Check.diag("skipped: " <> why)
        Check.run("native functions (skipped: #{why |> String.split("\n") |> hd()})", fn -> :ok end)
        Check.finish()

      serving ->
        run(serving, PgaPlugin.node_of(serving))
    end
  end

  def run(serving, pga) do
    fcs = [
      fc("ok", []),
      fc("refuse", mfa: {PgaTest.Fns, :refuse, []}),
      fc("raise", mfa: {PgaTest.Fns, :fail, []}),
      fc("before", before_execute: {PgaTest.Stream, :oops}),
      fc("hook_missing", before_execute: {PgaTest.Fns, :nope}),
      fc("perm", permission_callback: {PgaTest.Fns, :notify, []}),
      fc("missing", mfa: {PgaTest.Fns, :nope, []}),
      fc("arity", mfa: {PgaTest.Fns, :notify, [:extra]})
    ]
    push = %PushConfig{service: "native", nodes: [pga], config_version: "1", fun_configs: fcs}
    Check.eq("push with :local configs", {:ok, :accepted},
      fn -> :rpc.call(pga, PhoenixGenApi.ConfigReceiver, :push, [push, [force: true]], 5000) end)
    Check.eq(":local mfa without its C function (or arity): failed records",
      [{"arity", ["local function not available: {PgaTest.Fns, :notify, [:extra]}"]},
       {"missing", ["local function not available: {PgaTest.Fns, :nope, []}"]}],
      fn -> Enum.sort(for %{request_type: rt, source: :push, reason: r} <-
                  :rpc.call(pga, PhoenixGenApi.ConfigFailed, :list, [[source: :push]]),
                rt in ["arity", "missing"], do: {rt, r}) end)
    Check.eq(":local runs the registered C function", resp("id-ok", result: :ok, success: true),
      fn -> xp(pga, "ok") end)
    Check.eq(":local {:error, _} -> E7", resp("id-refuse", error: "Internal Server Error"),
      fn -> xp(pga, "refuse") end)
    Check.eq(":local function that raises -> E7", resp("id-raise", error: "Internal Server Error"),
      fn -> xp(pga, "raise") end)
    # oops(R, Info) answers {:error, :no_stream} when Info has no stream_pid
    Check.eq("native before hook's {:error, r} -> E3 with inspect(r)",
      resp("id-before", error: "hook rejected: :no_stream"), fn -> xp(pga, "before") end)
    Check.eq(":local hook without a C function: no node to call it on",
      resp("id-hook_missing", error: "hook rejected: \"{:exit, :nodedown}\""),
      fn -> xp(pga, "hook_missing") end)
    Check.eq("native local permission callback not returning true -> E4",
      resp("id-perm", error: "Permission denied"), fn -> xp(pga, "perm") end)
    PgaPlugin.finish(serving)
    Check.finish()
  end
end

Scenario.run()
