# 340_request_streams: stream relays at scale (issue 4). A real Elixir
# service node streams 10,000 chunks through one execute_params!/1 call,
# then 1,000 streams run at once (a few chunks each); every chunk must come
# out once, in order, behind the nested first chunk, then the last_result
# end Response (request-plane.md §9.3).
Code.require_file("lib/check.exs", __DIR__)
Code.require_file("lib/config_structs.exs", __DIR__)

defmodule Scenario do
  require Check
  alias PhoenixGenApi.Structs.PushConfig

  @exec PhoenixGenApi.Executor

  @service """
  defmodule Svc do
    # the first chunks go before the call returns (the relay holds them
    # until the first chunk is out), the rest from another process
    def stream(n, %{stream_pid: pid}) do
      early = min(div(n, 2), 100)
      for i <- 1..early//1, do: send(pid, {:result, i})
      spawn(fn ->
        for i <- (early + 1)..n//1, do: send(pid, {:result, i})
        send(pid, {:last_result, "last"})
      end)
      {:ok, :started}
    end
  end
  """

  def resp(id, over) do
    Map.merge(%{__struct__: PhoenixGenApi.Structs.Response, request_id: id, result: nil,
      success: false, error: nil, async: false, has_more: false, can_retry: false},
      Map.new(over))
  end

  def chunk(id, i), do: resp(id, result: i, success: true, async: true, has_more: true)
  def last(id), do: resp(id, result: "last", success: true, async: true)

  def params(id, n) do
    %{"request_id" => id, "request_type" => "stream", "service" => "svc",
      "user_id" => "u1", "device_id" => "d1", "args" => %{"n" => n}}
  end

  def xp(gw, p), do: :erpc.call(gw, @exec, :execute_params!, [p], Check.tmo(20_000))

  # Collects one stream's messages for id: the started ack, the nested first
  # chunk, then chunks until the end Response. {:ok, [results]} or a failure.
  def collect(id, tmo) do
    receive do
      {:stream_started, ^id, pid} when is_pid(pid) ->
        receive do
          {:stream_response, %{request_id: ^id, result: %{result: :started}}} ->
            collect_chunks(id, tmo, [])
        after tmo -> {:fail, "no first chunk", id}
        end
    after tmo -> {:fail, "no stream_started", id}
    end
  end

  defp collect_chunks(id, tmo, acc) do
    receive do
      {:stream_response, %{request_id: ^id, has_more: true} = r} ->
        if r == chunk(id, r.result), do: collect_chunks(id, tmo, [r.result | acc]),
          else: {:fail, "bad chunk", r}
      {:stream_response, %{request_id: ^id} = r} ->
        if r == last(id), do: {:ok, Enum.reverse(acc)}, else: {:fail, "bad end", r}
    after tmo -> {:fail, "stalled after #{length(acc)} chunks", id}
    end
  end

  # The first index whose chunk is wrong, or nil.
  def first_wrong(got, n) do
    Enum.zip(got, 1..n) |> Enum.find_index(fn {g, i} -> g != i end)
  end

  def run do
    if System.get_env("PGA_NODE") == "standin" do
      Check.diag("skipped: the BEAM stand-in has no executor")
      Check.finish()
    end

    gw = Check.gw()
    {_port, _ospid, svc} = Check.start_node("svc", "Process.sleep(:infinity)", setup: @service)
    fc = ConfigFixtures.f(svc, request_type: "stream", service: "svc",
      choose_node_mode: :random, timeout: 10_000, version: nil,
      mfa: {Svc, :stream, []}, response_type: :stream, request_info: true,
      arg_types: %{"n" => :num}, arg_orders: ["n"])
    push = %PushConfig{service: "svc", nodes: [svc], config_version: "1", fun_configs: [fc]}
    Check.eq("service node pushes its FunConfig", {:ok, :accepted},
      fn -> :rpc.call(gw, PhoenixGenApi.ConfigReceiver, :push, [push, [force: true]], 5000) end)

    Check.run("one stream of 10,000 chunks: every index once, in order", fn ->
      n = 10_000
      id = "big"
      {ms, {ack, got}} = Check.timed(fn ->
        ack = xp(gw, params(id, n))
        {ack, collect(id, Check.tmo(5000))}
      end)
      Check.diag("10,000 chunks relayed in #{ms} ms")
      want_ack = resp(id, result: :init, success: true, async: true, has_more: true)
      case {ack, got} do
        {^want_ack, {:ok, got}} ->
          cond do
            length(got) != n -> {:fail, "chunk count", length(got)}
            (i = first_wrong(got, n)) != nil -> {:fail, "out of order at #{i + 1}", Enum.at(got, i)}
            true -> :ok
          end
        {^want_ack, other} -> other
        {other, _} -> {:fail, "ack", other}
      end
    end, timeout: 30_000)

    Check.run("1,000 concurrent streams of 5 chunks each all complete in order", fn ->
      me = self()
      streams = 1000
      per = 5
      t0 = System.monotonic_time(:millisecond)
      pids =
        for s <- 1..streams do
          spawn_link(fn ->
            id = "s#{s}"
            r =
              try do
                ack = xp(gw, params(id, per))
                if ack.success and ack.has_more, do: collect(id, Check.tmo(10_000)),
                  else: {:fail, "ack", ack}
              catch
                k, e -> {:fail, "raised #{inspect(k)}", e}
              end
            send(me, {:done, s, r})
          end)
        end
      results =
        for _ <- pids do
          receive do
            {:done, s, r} -> {s, r}
          after Check.tmo(30_000) -> {:timeout, nil}
          end
        end
      Check.diag("1,000 streams completed in #{System.monotonic_time(:millisecond) - t0} ms")
      bad = Enum.reject(results, fn {_, r} -> r == {:ok, Enum.to_list(1..per)} end)
      if bad == [], do: :ok, else: {:fail, "#{length(bad)} of #{streams} streams wrong", Enum.take(bad, 3)}
    end, timeout: 40_000)

    Check.eq("gateway still answers after the streams", true,
      fn -> Node.ping(gw) == :pong end)
    Check.finish()
  end
end

Scenario.run()
