# 070_monitor: monitors held by callers on the gateway's registered names
# (spec §9): no DOWN while the target lives, an immediate noproc DOWN for a
# missing name, demonitor honoured.
Code.require_file("lib/check.exs", __DIR__)

defmodule Scenario do
  require Check

  def down(ref, ms) do
    receive do
      {:DOWN, ^ref, :process, obj, reason} -> {:down, obj, reason}
    after
      ms -> :no_down
    end
  end

  def run do
    gw = Check.gw()
    :pong = Node.ping(gw)

    Check.eq("monitor {:pga_node, gw}: no DOWN while it lives", :no_down, fn ->
      ref = :erlang.monitor(:process, {:pga_node, gw})
      r = down(ref, 500)
      true = :erlang.demonitor(ref, [:flush])
      r
    end)

    Check.match("monitor {:nosuch, gw}: DOWN :noproc at once",
      {ms, {:down, {:pga_nosuch_server, ^gw}, :noproc}} when ms < limit,
      (
        limit = Check.tmo(1_000)
        Check.timed(fn ->
          ref = :erlang.monitor(:process, {:pga_nosuch_server, gw})
          down(ref, Check.tmo(3_000))
        end)
      ))

    Check.eq("Process.monitor {:nosuch, gw}: DOWN :noproc", {:down, {:pga_other_missing, gw}, :noproc}, fn ->
      ref = Process.monitor({:pga_other_missing, gw})
      down(ref, Check.tmo(3_000))
    end)

    # rex and net_kernel serve rpc.block_call and Node.ping (spec §10.4),
    # so they must exist as names too.
    Check.eq("monitor {:rex, gw}: no DOWN", :no_down, fn ->
      ref = :erlang.monitor(:process, {:rex, gw})
      r = down(ref, 300)
      :erlang.demonitor(ref, [:flush])
      r
    end)
    Check.eq("monitor {:net_kernel, gw}: no DOWN", :no_down, fn ->
      ref = :erlang.monitor(:process, {:net_kernel, gw})
      r = down(ref, 300)
      :erlang.demonitor(ref, [:flush])
      r
    end)

    Check.eq("100 monitors on {:pga_node, gw}, then demonitor all: no DOWN, server answers",
      {:no_down, :pong}, fn ->
      refs = for _ <- 1..100, do: :erlang.monitor(:process, {:pga_node, gw})
      Enum.each(refs, &:erlang.demonitor(&1))
      Process.sleep(200)
      got =
        receive do
          {:DOWN, _, _, _, _} = m -> m
        after
          0 -> :no_down
        end
      {got, GenServer.call({:pga_node, gw}, :ping)}
    end)

    Check.eq("monitor, call, demonitor x 50 (gen_server's own pattern)", List.duplicate(:pong, 50), fn ->
      for _ <- 1..50 do
        ref = :erlang.monitor(:process, {:pga_node, gw})
        r = GenServer.call({:pga_node, gw}, :ping)
        true = :erlang.demonitor(ref, [:flush])
        r
      end
    end)

    Check.eq("50 missing-name monitors each get exactly one DOWN :noproc", {50, 0}, fn ->
      refs = for i <- 1..50, do: :erlang.monitor(:process, {:"pga_missing_#{i}", gw})
      firsts = Enum.count(refs, &(down(&1, Check.tmo(2_000)) != :no_down))
      Process.sleep(100)
      seconds = Enum.count(refs, &(down(&1, 0) != :no_down))
      {firsts, seconds}
    end, timeout: 15_000)

    Check.eq("monitor_node(gw): no nodedown while connected", :none, fn ->
      true = :erlang.monitor_node(gw, true)
      receive do
        {:nodedown, ^gw} -> :nodedown
      after
        300 -> :none
      end
    end)

    Check.finish()
  end
end

Scenario.run()
