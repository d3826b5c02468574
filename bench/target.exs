# The BEAM side of the baseline: an Elixir node that serves
# :pga_bench_echo.echo/1, the same job as pga's :pga_node.echo/1, and the
# service functions the gateway benchmarks (bench/gateway.exs,
# bench/gateway_cpu.exs) route to.
# bench/run.sh starts it; it runs until SIGTERM (init:stop).
defmodule :pga_bench_echo do
  def echo(term), do: term

  # The two-hop baseline of bench/gateway.exs: this node only passes the
  # call on, as the thinnest possible BEAM gateway would.
  def forward(node, term), do: :erpc.call(node, :pga_node, :echo, [term], 5_000)

  # The sync service function of bench/gateway_cpu.exs: {:ok, v}, the
  # answer the library passes on without a warning in its log.
  def reply(term), do: {:ok, term}

  # The stream of bench/gateway_cpu.exs: n chunks, then the last, sent from
  # another process to the gateway's relay while the call returns at once.
  def stream(n, %{stream_pid: pid}) do
    spawn(fn ->
      for i <- 1..n//1, do: send(pid, {:result, i})
      send(pid, {:last_result, :done})
    end)

    {:ok, :started}
  end
end

# run.sh waits for this line before it starts the driver.
IO.puts("pga-bench target ready #{node()}")
Process.sleep(:infinity)
