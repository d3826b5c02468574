# 090_ticks: a node with a short net_ticktime (4 s) stays connected to an
# idle gateway: pga ticks back at the peer's pace (spec §6; compat D8).
# Without that the peer would drop pga after about 4 s of silence.
Code.require_file("lib/check.exs", __DIR__)

defmodule Scenario do
  require Check

  def run do
    gw = Check.gw()

    if System.get_env("PGA_NODE") == "standin" do
      # A BEAM does not tick at a peer's shorter ticktime (harness notes).
      Check.run("short net_ticktime (skipped on the stand-in)", fn -> :ok end)
    else
      Check.eq("idle for 12 s with net_ticktime 4: no nodedown, still connected", {:no_nodedown, true, :pong}, fn ->
        :pong = Node.ping(gw)
        _ = :net_kernel.set_net_ticktime(4, 0)
        Node.monitor(gw, true)
        seen =
          receive do
            {:nodedown, ^gw} -> :nodedown
          after
            Check.tmo(12_000) -> :no_nodedown
          end
        {seen, gw in Node.list(:hidden), Node.ping(gw)}
      end, timeout: 30_000)
    end
  end
end

Scenario.run()
Check.finish()
