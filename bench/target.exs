# The BEAM side of the baseline: an Elixir node that serves
# :pga_bench_echo.echo/1, the same job as pga's :pga_node.echo/1, and the
# service function the gateway benchmark (bench/gateway.exs) routes to.
# bench/run.sh starts it; it runs until SIGTERM (init:stop).
defmodule :pga_bench_echo do
  def echo(term), do: term

  # The two-hop baseline of bench/gateway.exs: this node only passes the
  # call on, as the thinnest possible BEAM gateway would.
  def forward(node, term), do: :erpc.call(node, :pga_node, :echo, [term], 5_000)
end

# run.sh waits for this line before it starts the driver.
IO.puts("pga-bench target ready #{node()}")
Process.sleep(:infinity)
