defmodule PhoenixGenApi do
  @moduledoc "A stand-in facade (the real one is pga's): reports each call to the test."
  for {fun, arity} <- [
        health_print: 1,
        stats_print: 0,
        debug_print: 1,
        cluster_print: 0,
        flows_print: 1,
        call_flow_print: 3,
        inspect_print: 1,
        pool_status: 0,
        cache_status: 0,
        pushed_services_status: 0,
        failed_configs_print: 1,
        failed_configs_summary: 0,
        rl_config: 0,
        rl_global: 0,
        rl_status: 1,
        statistics: 0
      ] do
    args = Macro.generate_arguments(arity, __MODULE__)

    def unquote(fun)(unquote_splicing(args)) do
      send(:ops_test, {:called, unquote(fun), unquote(args)})
      IO.puts("printed by #{unquote(fun)}")
      :ok
    end
  end
end

defmodule PgaRemoteOpsTest do
  use ExUnit.Case, async: false
  import ExUnit.CaptureIO
  alias PhoenixGenApi.Remote.Ops

  setup do
    Process.register(self(), :ops_test)
    :ok
  end

  test "print helpers call the facade's *_print functions with their arguments" do
    gw = node()

    assert capture_io(fn -> assert Ops.health(gw, max_memory_bytes: 1) == :ok end) =~
             "printed by health_print"

    assert_received {:called, :health_print, [[max_memory_bytes: 1]]}
    capture_io(fn -> Ops.flow(gw, "svc", "rt") end)
    assert_received {:called, :call_flow_print, ["svc", "rt", nil]}
    capture_io(fn -> Ops.limit_status(gw, "u1") end)
    assert_received {:called, :rl_status, ["u1"]}
  end

  test "call/3 returns the facade's value" do
    capture_io(fn -> assert Ops.call(node(), :statistics) == :ok end)
    assert_received {:called, :statistics, []}
  end

  test "limit_status only takes a binary user id, as the facade's guard" do
    assert_raise FunctionClauseError, fn -> Ops.limit_status(node(), :u1) end
  end
end
