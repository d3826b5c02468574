# 060_load: many concurrent callers, every result checked; nothing lost or
# crossed between callers (spec §10.2: one job per request).
Code.require_file("lib/check.exs", __DIR__)

defmodule Scenario do
  require Check

  # Runs `callers` processes making `calls` calls each; returns the number
  # of wrong or failed results (0 is a pass) and a sample of the failures.
  def load(callers, calls, call) do
    1..callers
    |> Enum.map(fn i ->
      Task.async(fn ->
        Enum.reduce(1..calls, {0, []}, fn j, {bad, sample} ->
          t = {i, j, "payload-#{i}-#{j}", self()}

          case (try do call.(t) catch k, r -> {k, r} end) do
            ^t -> {bad, sample}
            other -> {bad + 1, Enum.take([{t, other} | sample], 3)}
          end
        end)
      end)
    end)
    |> Enum.map(&Task.await(&1, :infinity))
    |> Enum.reduce({0, []}, fn {b, s}, {tb, ts} -> {tb + b, Enum.take(s ++ ts, 3)} end)
  end

  def run do
    gw = Check.gw()

    Check.match("64 callers x 200 :erpc.call echo: all 12800 results correct",
      {0, []},
      load(64, 200, fn t -> :erpc.call(gw, :pga_node, :echo, [t]) end),
      timeout: 90_000)

    Check.match("32 :rpc.call + 32 GenServer.call callers x 50, concurrently: all correct",
      [{0, []}, {0, []}],
      (
        a = Task.async(fn -> load(32, 50, fn t -> :rpc.call(gw, :pga_node, :echo, [t]) end) end)
        b = Task.async(fn -> load(32, 50, fn t -> GenServer.call({:pga_node, gw}, {:echo, t}) end) end)
        [Task.await(a, :infinity), Task.await(b, :infinity)]
      ),
      timeout: 60_000)

    Check.eq("1000 outstanding :erpc.send_request from one process, all answered", 0, fn ->
      reqs = for i <- 1..1000, do: {i, :erpc.send_request(gw, :pga_node, :echo, [i])}
      Enum.count(reqs, fn {i, r} -> :erpc.receive_response(r, Check.tmo(30_000)) !== i end)
    end, timeout: 60_000)

    Check.eq("100 concurrent calls with 64 KB arguments", 0, fn ->
      1..100
      |> Enum.map(fn i ->
        Task.async(fn ->
          b = :binary.copy(<<i>>, 65_536)
          :erpc.call(gw, :pga_node, :echo, [b]) === b
        end)
      end)
      |> Enum.map(&Task.await(&1, :infinity))
      |> Enum.count(&(!&1))
    end, timeout: 60_000)

    Check.eq("16 concurrent sleep(300) calls overlap (done in < 16 x 300 ms)", true, fn ->
      {ms, rs} =
        Check.timed(fn ->
          1..16
          |> Enum.map(fn _ -> Task.async(fn -> :erpc.call(gw, :pga_node, :sleep, [300]) end) end)
          |> Enum.map(&Task.await(&1, :infinity))
        end)

      rs == List.duplicate(:ok, 16) and ms < 16 * 300
    end, timeout: 30_000)

    Check.eq("the gateway answers after the load", :pong, fn -> Node.ping(gw) end)
    Check.finish()
  end
end

Scenario.run()
