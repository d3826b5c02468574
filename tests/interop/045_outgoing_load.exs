# 045_outgoing_load: the gateway keeps 10,000 of its own outgoing calls in
# flight at once (issue: "at least 10,000 calls in flight"). Each
# pga_node.rpc call is answered by a function here that waits until all
# have arrived, so all 10,000 are outstanding together before any returns.
Code.require_file("lib/check.exs", __DIR__)

defmodule Barrier do
  # Counts arrivals; releases every waiter once `n` have arrived.
  def start(n) do
    pid = spawn(fn -> loop(n, []) end)
    Process.register(pid, :pga_045_barrier)
    pid
  end

  defp loop(0, waiters) do
    Enum.each(waiters, &send(&1, :go))
    release()
  end

  defp loop(n, waiters) do
    receive do
      {:arrive, pid} -> loop(n - 1, [pid | waiters])
    end
  end

  defp release do
    receive do
      {:arrive, pid} -> send(pid, :go); release()
    end
  end

  # Called by the gateway (through pga_node.rpc) on this node.
  def wait(i) do
    send(:pga_045_barrier, {:arrive, self()})
    receive do
      :go -> {:done, i}
    end
  end
end

defmodule Scenario do
  require Check
  @calls 10_000

  def run do
    gw = Check.gw()
    me = node()
    Barrier.start(@calls)

    Check.eq("#{@calls} outgoing calls in flight at once all return", [], fn ->
      reqs =
        for i <- 1..@calls do
          {i, :erpc.send_request(gw, :pga_node, :rpc, [me, Barrier, :wait, [i], 60_000])}
        end

      for {i, r} <- reqs, :erpc.receive_response(r, Check.tmo(90_000)) != {:done, i}, do: i
    end, timeout: 120_000)

    Check.eq("the gateway answers after the load", :ok, fn ->
      :rpc.call(gw, :pga_node, :echo, [:ok])
    end)
  end
end

Scenario.run()
Check.finish()
