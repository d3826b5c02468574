# 200_plugin_gateway: pga as a remote execution node. An Elixir gateway
# stand-in (GwStandin, lib/plugin.exs) pulls the C plugins' FunConfigs with
# the library's module probes, then runs every response type through
# :rpc.call: sync, async, none and native streams relayed by its own pid;
# returned errors, crashes, a deadline overrun and stream cancellation
# (config-plane.md §5.3, §9; request-plane.md §3, §4, §8.4, §9.3).
Code.require_file("lib/check.exs", __DIR__)
Code.require_file("lib/plugin.exs", __DIR__)

defmodule Scenario do
  require Check
  alias PhoenixGenApi.Structs.FunConfig

  def by_type(list), do: Map.new(list, &{&1.request_type, &1})

  def msg(ms) do
    receive do
      m -> m
    after
      ms -> :nothing
    end
  end

  def wait_stat(node, key, want) do
    Check.wait_until(fn -> Map.get(PgaPlugin.stats(node), key) >= want end, 5_000)
  end

  def run do
    case PgaPlugin.serving() do
      {:skip, why} ->
        Check.diag("skipped: " <> why)
        Check.run("plugins served (skipped: #{why |> String.split("\n") |> hd()})", fn -> :ok end)
        Check.finish()

      serving ->
        run(serving, PgaPlugin.node_of(serving))
    end
  end

  def run(serving, pga) do
    Check.diag("plugins served by #{inspect(pga)} (#{elem(serving, 0)})")

    # ---- what pga says about itself ----
    Check.match("pga_node.plugins/0 lists pga_example and pga_test",
      [%{name: "pga_example", service: "pga_example", functions: 4, configs: 4, version: "1.0.0"},
       %{name: "pga_test", service: "pga_test", functions: 11, configs: 8}],
      :rpc.call(pga, :pga_node, :plugins, []))

    # ---- module probes (config-plane.md §5.3 step 4, §9) ----
    Check.eq("Code.ensure_loaded?/1 is true for every plugin module",
      [true, true, true, true], fn ->
        for m <- [PgaExample.Math, PgaExample.Ticker, PgaTest.Fns, PgaTest.Stream],
            do: :rpc.call(pga, Code, :ensure_loaded?, [m])
      end)
    Check.eq("Code.ensure_loaded?/1: false for unknown modules, true for :pga_node",
      [false, false, true], fn ->
        for m <- [PgaExample.Nope, :nope, :pga_node], do: :rpc.call(pga, Code, :ensure_loaded?, [m])
      end)
    Check.eq("Code.ensure_compiled/1, Code.ensure_loaded/1, :code.ensure_loaded/1",
      [{:module, PgaExample.Math}, {:error, :nofile}, {:module, PgaTest.Fns}, {:error, :nofile}],
      fn ->
        [:rpc.call(pga, Code, :ensure_compiled, [PgaExample.Math]),
         :rpc.call(pga, Code, :ensure_compiled, [Nope]),
         :rpc.call(pga, Code, :ensure_loaded, [PgaTest.Fns]),
         :rpc.call(pga, :code, :ensure_loaded, [:nope])]
      end)
    Check.eq(":erlang.function_exported/3 follows what pga serves",
      [true, false, true, false], fn ->
        [:rpc.call(pga, :erlang, :function_exported, [PgaExample.Math, :add, 2]),
         :rpc.call(pga, :erlang, :function_exported, [PgaExample.Math, :add, 3]),
         :rpc.call(pga, :erlang, :function_exported, [PgaExample.Ticker, :ticks, 2]),
         :rpc.call(pga, :erlang, :function_exported, [PgaExample.Math, :nope, 0])]
      end)

    # ---- the pull supporter ----
    Check.match("get_config(\"pga_example\") -> {:ok, 4 complete %FunConfig{}} on this node",
      {:ok, [%FunConfig{request_type: "add", nodes: [^pga], service: "pga_example",
                        mfa: {PgaExample.Math, :add, []}, response_type: :sync,
                        arg_types: %{"a" => :num, "b" => :num}, arg_orders: ["a", "b"],
                        timeout: 5000, choose_node_mode: :random},
             %FunConfig{request_type: "echo", mfa: {PgaExample.Math, :echo, []}},
             %FunConfig{request_type: "fib", response_type: :async, mfa: {PgaExample.Math, :fib, []}},
             %FunConfig{request_type: "ticks", response_type: :stream, request_info: true,
                        mfa: {PgaExample.Ticker, :ticks, []}, arg_orders: ["count"]}]},
      :rpc.call(pga, :pga_node, :get_config, ["pga_example"]))
    Check.eq("every FunConfig on the wire has the 18 fields + __struct__", [], fn ->
      {:ok, all} = :rpc.call(pga, :pga_node, :get_config, [])
      for fc <- all, map_size(Map.from_struct(fc)) != 18 or map_size(fc) != 19,
          do: fc.request_type
    end)
    Check.match("get_config/0 holds both services' configs, in load order",
      {:ok, [%{service: "pga_example"}, _, _, _, %{service: "pga_test"} | _] = l} when length(l) == 12,
      :rpc.call(pga, :pga_node, :get_config, []))
    Check.eq("get_config(:pga_test) (an atom) selects the same as the binary", true, fn ->
      :rpc.call(pga, :pga_node, :get_config, [:pga_test]) ==
        :rpc.call(pga, :pga_node, :get_config, ["pga_test"])
    end)
    Check.eq("get_config of a service nobody serves -> {:error, :not_found}", {:error, :not_found},
      fn -> :rpc.call(pga, :pga_node, :get_config, ["nobody"]) end)
    Check.match("get_config_version: per service, stable, nil for an unknown service",
      {v1, v1, v2, nil} when is_binary(v1) and byte_size(v1) == 16 and v1 != v2,
      {:rpc.call(pga, :pga_node, :get_config_version, ["pga_example"]),
       :rpc.call(pga, :pga_node, :get_config_version, ["pga_example"]),
       :rpc.call(pga, :pga_node, :get_config_version, ["pga_test"]),
       :rpc.call(pga, :pga_node, :get_config_version, ["nobody"])})

    ex = GwStandin.pull(pga, "pga_example")
    te = GwStandin.pull(pga, "pga_test")
    Check.match("the gateway's pull accepts all 4 pga_example configs (probes, §2.1)",
      {:ok, v, [_, _, _, _], []} when is_binary(v), ex)
    Check.match("the gateway's pull accepts all 8 pga_test configs",
      {:ok, _, l, []} when length(l) == 8, te)
    cfg =
      case {ex, te} do
        {{:ok, _, a, _}, {:ok, _, b, _}} -> by_type(a ++ b)
        _ -> %{}
      end

    # ---- sync ----
    Check.match("sync \"add\" %{a: 1, b: 2} -> success, result 3",
      %{success: true, result: 3}, GwStandin.sync(cfg["add"], %{"a" => 1, "b" => 2}))
    Check.match("sync \"add\" with floats -> 3.75",
      %{success: true, result: 3.75}, GwStandin.sync(cfg["add"], %{"a" => 1.5, "b" => 2.25}))
    Check.match("sync \"echo\" returns its string",
      %{success: true, result: "héllo ✓"}, GwStandin.sync(cfg["echo"], %{"value" => "héllo ✓"}))
    Check.match("sync \"refuse\" (args as one map): the function's {:error, _} -> error response",
      %{success: false, cause: {:error, %{"value" => "no"}}},
      GwStandin.sync(cfg["refuse"], %{"value" => "no"}))
    Check.match("sync \"fail\": the function fails -> the gateway sees :rpc_exit",
      %{success: false, cause: {:error, :rpc_exit}},
      GwStandin.sync(cfg["fail"], %{"value" => "boom"}))
    Check.eq("a failing handler's exact rpc shape (undef-style stack)",
      {:badrpc, {:EXIT, {"boom", [{PgaTest.Fns, :fail, ["boom"], []}]}}},
      fn -> :rpc.call(pga, PgaTest.Fns, :fail, ["boom"]) end)
    Check.match(":erpc sees the failure as error {:exception, reason, stack}",
      {:error, {:exception, :boom, [{PgaTest.Fns, :fail, [:boom], []}]}},
      Check.catching(:erpc.call(pga, PgaTest.Fns, :fail, [:boom])))
    Check.match("add(\"a\", 1) fails like Erlang's + (badarith)",
      {:badrpc, {:EXIT, {:badarith, [{PgaExample.Math, :add, ["a", 1], []}]}}},
      :rpc.call(pga, PgaExample.Math, :add, ["a", 1]))
    Check.match("a handler building an incomplete term -> pga_bad_result, node fine",
      {{:badrpc, {:EXIT, {:pga_bad_result, _}}}, :pong},
      {:rpc.call(pga, PgaTest.Fns, :bad_result, []), Node.ping(pga)})
    Check.eq("20 concurrent \"add\" requests get their own sums", Enum.map(1..20, &(&1 + 1000)),
      fn ->
        1..20
        |> Enum.map(fn i -> Task.async(fn -> GwStandin.sync(cfg["add"], %{"a" => i, "b" => 1000}) end) end)
        |> Enum.map(&Task.await(&1, Check.tmo(10_000)).result)
      end)

    # ---- async and none (§9.1) ----
    Check.match("async \"notify\": ack, then {:async_call, success :ok}",
      {%{async: true, success: true}, {:async_call, %{success: true, result: :ok}}},
      (
        ack = GwStandin.async(cfg["notify"], %{"value" => "x"}, self())
        {ack, msg(Check.tmo(5_000))}
      ))
    Check.eq("none \"fire\": {:ok, :no_response}, and the function ran", {{:ok, :no_response}, true},
      fn ->
        before = PgaPlugin.stats(pga).fired
        r = GwStandin.none(cfg["fire"], %{"value" => "x"})
        {r, wait_stat(pga, :fired, before + 1)}
      end)

    # ---- streams (§9.3) ----
    Check.match("stream \"ticks\" 5: started, first chunk (from {:ok, :started}), 5 ticks, end, in order",
      {%{has_more: true, result: :init},
       [%{has_more: true, result: %{success: true, result: :started}},
        %{result: %{"tick" => 1}}, %{result: %{"tick" => 2}}, %{result: %{"tick" => 3}},
        %{result: %{"tick" => 4}}, %{result: %{"tick" => 5}, has_more: true},
        %{has_more: false, end: true}]},
      (
        ack = GwStandin.stream(cfg["ticks"], %{"count" => 5}, self())
        {:stream_started, "r1", _relay} = msg(Check.tmo(5_000))
        {ack, GwStandin.collect(Check.tmo(5_000))}
      ))
    Check.match("stream \"ticks\" 2000: every tick arrives, in order",
      {2002, true},
      (
        GwStandin.stream(cfg["ticks"], %{"count" => 2000}, self())
        {:stream_started, _, _} = msg(Check.tmo(5_000))
        got = GwStandin.collect(Check.tmo(10_000))
        ticks = for %{result: %{"tick" => i}} <- got, do: i
        {length(got), ticks == Enum.to_list(1..2000)}
      ), timeout: 30_000)
    Check.match("stream \"last\": the value, then {:last_result, v}; nothing after the last",
      [%{result: %{success: true, result: %{last: :PGA_OK, then: :PGA_EINVAL}}},
       %{result: "v", has_more: false}],
      (
        GwStandin.stream(cfg["last"], %{"value" => "v"}, self())
        {:stream_started, _, _} = msg(Check.tmo(5_000))
        GwStandin.collect(Check.tmo(5_000))
      ))
    Check.match("stream \"oops\": {:error, r} -> an error response",
      [%{result: %{success: true}}, %{success: false, cause: "bad"}],
      (
        GwStandin.stream(cfg["oops"], %{"value" => "bad"}, self())
        {:stream_started, _, _} = msg(Check.tmo(5_000))
        GwStandin.collect(Check.tmo(5_000))
      ))
    Check.match("stream \"forever\" stopped by the client ({:\"$gen_cast\", :stop}): end, and "
                <> "the handler is cancelled (relay monitored)",
      {[%{result: %{result: :streaming}}, %{result: 1}, %{result: 2}, %{result: 3}], %{end: true}, true},
      (
        before = PgaPlugin.stats(pga).stream_stops
        GwStandin.stream(cfg["forever"], %{"interval" => 20}, self())
        {:stream_started, _, relay} = msg(Check.tmo(5_000))
        chunks = for _ <- 1..4, do: elem(msg(Check.tmo(5_000)), 1)
        GenServer.cast(relay, :stop)
        last = Stream.repeatedly(fn -> msg(Check.tmo(5_000)) end)
               |> Enum.find(fn {:stream_response, r} -> r[:has_more] == false; _ -> true end)
        {chunks, elem(last, 1), wait_stat(pga, :stream_stops, before + 1)}
      ), timeout: 20_000)
    Check.eq("stream \"forever\" whose relay is killed: the handler is cancelled", true, fn ->
      before = PgaPlugin.stats(pga).stream_stops
      GwStandin.stream(cfg["forever"], %{"interval" => 5}, self())
      {:stream_started, _, relay} = msg(Check.tmo(5_000))
      {:stream_response, _first} = msg(Check.tmo(5_000))
      Process.exit(relay, :kill)
      wait_stat(pga, :stream_stops, before + 1)
    end, timeout: 20_000)
    Check.eq("a stream function without a stream pid -> {:error, :no_stream}",
      {:error, :no_stream}, fn -> :rpc.call(pga, PgaTest.Stream, :forever, [10, %{}]) end)

    # ---- deadline (the config's timeout: 300 ms for "slow") ----
    Check.match("deadline overrun -> {:badrpc, {:EXIT, {:timeout, {M, F, A}}}} at ~300 ms",
      {ms, {:badrpc, {:EXIT, {:timeout, {PgaTest.Fns, :slow, 1}}}}}
        when ms >= 250 and ms < 2_500,
      Check.timed(fn -> :rpc.call(pga, PgaTest.Fns, :slow, [3_000], Check.tmo(10_000)) end))
    Check.match("deadline overrun through :erpc -> exit {:exception, {:timeout, ...}}",
      {:exit, {:exception, {:timeout, {PgaTest.Fns, :slow, 1}}}},
      Check.catching(:erpc.call(pga, PgaTest.Fns, :slow, [3_000], Check.tmo(10_000))))
    Check.eq("the overrunning handler saw pga_call_cancelled() and stopped", true, fn ->
      wait_stat(pga, :cancelled, 2)
    end)
    Check.match("deadline through the gateway: \"slow\" 3000 -> error response",
      %{success: false}, GwStandin.sync(cfg["slow"], %{"ms" => 3_000}), timeout: 10_000)
    Check.match("under the deadline \"slow\" 50 -> :ok",
      %{success: true, result: :ok}, GwStandin.sync(cfg["slow"], %{"ms" => 50}))

    # ---- back-pressure: a relay whose node stops reading (SIGSTOP) ----
    sink = """
    defmodule Sink do
      def start, do: spawn(fn -> loop() end)
      defp loop do
        receive do
          _ -> loop()
        end
      end
    end
    """

    case (try do
            Check.start_node("sink", "Process.sleep(:infinity)", setup: sink)
          rescue
            e -> {:error, Exception.message(e)}
          end) do
      {_port, ospid, sinknode} ->
        relay = :rpc.call(sinknode, Sink, :start, [])
        sent = fn -> PgaPlugin.stats(pga).flood_sent end

        Check.match("back-pressure: sends wait while the relay's node reads nothing, then resume",
          {:flooding, true, 0, :pong, true},
          (
            r = :rpc.call(pga, PgaTest.Stream, :flood, [4096, %{stream_pid: relay}])
            Process.sleep(Check.tmo(300))
            moving = sent.()
            System.cmd("kill", ["-STOP", ospid])
            Process.sleep(Check.tmo(1_500))
            a = sent.()
            Process.sleep(Check.tmo(1_000))
            b = sent.()
            ping = Node.ping(pga)
            System.cmd("kill", ["-CONT", ospid])
            resumed = Check.wait_until(fn -> sent.() > b end, 5_000)
            {r, moving > 0, b - a, ping, resumed}
          ), timeout: 30_000)
        Check.eq("the flooding handler stops when its relay is killed", true, fn ->
          :rpc.call(sinknode, Process, :exit, [relay, :kill])
          Check.wait_until(fn ->
            x = sent.()
            Process.sleep(200)
            sent.() == x
          end, 5_000)
        end, timeout: 20_000)

      {:error, why} ->
        Check.run("back-pressure (sink node did not start)", fn -> {:fail, why} end)
    end

    Check.eq("pga still answers after all of that", :pong, fn -> Node.ping(pga) end)
    PgaPlugin.finish(serving)
    Check.finish()
  end
end

Scenario.run()
