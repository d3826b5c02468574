# 900_shutdown: SIGTERM to the gateway ends its connections: a connected
# node sees nodedown and noconnection DOWNs; an in-flight call fails with
# nodedown instead of hanging. run.sh then checks the exit status (0).
Code.require_file("lib/check.exs", __DIR__)

defmodule Scenario do
  require Check

  def run do
    gw = Check.gw()
    os = System.get_env("PGA_GW_OSPID") || ""
    :pong = Node.ping(gw)
    true = Node.monitor(gw, true)
    mref = :erlang.monitor(:process, {:pga_node, gw})
    me = self()

    inflight =
      spawn(fn ->
        r = :rpc.call(gw, :pga_node, :sleep, [60_000])
        send(me, {:inflight, r})
      end)

    Process.sleep(300)

    sent =
      if os != "" do
        {_, st} = System.cmd("kill", ["-TERM", os], stderr_to_stdout: true)
        st
      else
        :no_pid
      end

    Check.eq("SIGTERM delivered to the gateway (pid #{os})", 0, fn -> sent end)

    wait = Check.tmo(10_000)

    nodedown =
      receive do
        {:nodedown, ^gw} -> :nodedown
      after
        wait -> :timeout
      end

    Check.eq("a connected node sees {:nodedown, gw} after SIGTERM", :nodedown, fn -> nodedown end)

    down =
      receive do
        {:DOWN, ^mref, :process, _, reason} -> reason
      after
        Check.tmo(2_000) -> :timeout
      end

    Check.eq("a monitor on {:pga_node, gw} fires with :noconnection", :noconnection, fn -> down end)

    r =
      receive do
        {:inflight, r} -> r
      after
        Check.tmo(2_000) ->
          Process.exit(inflight, :kill)
          :timeout
      end

    Check.eq("an in-flight :rpc.call returns {:badrpc, :nodedown}", {:badrpc, :nodedown}, fn -> r end)

    Check.eq("the gateway is gone from epmd", true, fn ->
      [alive, _] = gw |> Atom.to_string() |> String.split("@")
      Check.wait_until(fn ->
        case :erl_epmd.names(~c"127.0.0.1") do
          {:ok, names} -> not List.keymember?(names, String.to_charlist(alive), 0)
          _ -> false
        end
      end, 10_000)
    end, timeout: 15_000)

    Check.finish()
  end
end

Scenario.run()
