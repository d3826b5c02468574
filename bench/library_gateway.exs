# The real-library column of the gateway CPU benchmark
# (bench/gateway_cpu.exs): an Elixir node running PhoenixGenApi itself, from
# ERL_LIBS (build it with /work/shared/tools/real-library.sh; never in make
# check or CI). It starts the application, consolidates the protocols (the
# library is built unconsolidated, and Request.decode! is then many times
# slower than in a release), logs at warning level as pga-node does under
# `make bench`, and serves:
#   PhoenixGenApi.*                       the library, called by the driver
#   :pga_bench_echo.echo/1                the echo of bench/driver.exs
#   :pga_bench_library.stream_params/2    see below
# The library sends stream messages to the process that called execute!,
# which under :erpc is a worker process that ends with the call; a stream
# is therefore run by stream_params/2 in that worker, which passes every
# message on to the driver's process until the stream ends. That costs this
# node one local receive and one remote send per chunk more than the
# library alone, which the benchmark's output says.
# bench/run.sh starts it; it runs until SIGTERM (init:stop).
require Logger

defmodule :pga_bench_echo do
  def echo(term), do: term
end

defmodule :pga_bench_library do
  def stream_params(params, receiver) do
    ack = PhoenixGenApi.Executor.execute_params!(params)
    if match?(%{success: true, has_more: true}, ack), do: pass_on(receiver)
    ack
  end

  defp pass_on(receiver) do
    receive do
      {:stream_started, _, _} = m ->
        send(receiver, m)
        pass_on(receiver)

      {:stream_response, r} = m ->
        send(receiver, m)
        if r.success and r.has_more, do: pass_on(receiver), else: :ok
    after
      60_000 -> :timeout
    end
  end

  # Consolidates every protocol on the code path, as a release would.
  def consolidate do
    paths = :code.get_path()

    for protocol <- Protocol.extract_protocols(paths) do
      impls = Protocol.extract_impls(protocol, paths)
      {:ok, binary} = Protocol.consolidate(protocol, impls)
      :code.purge(protocol)
      {:module, _} = :code.load_binary(protocol, ~c"consolidated", binary)
    end
  end
end

Logger.configure(level: :warning)
:pga_bench_library.consolidate()

case Application.ensure_all_started(:phoenix_gen_api) do
  {:ok, _} ->
    :ok

  other ->
    IO.puts(:stderr, "pga-bench: cannot start :phoenix_gen_api (ERL_LIBS?): #{inspect(other)}")
    System.halt(2)
end

vsn = Application.spec(:phoenix_gen_api, :vsn)
# run.sh waits for this line before it starts the driver.
IO.puts("pga-bench gateway ready #{node()} phoenix_gen_api #{vsn}")
Process.sleep(:infinity)
