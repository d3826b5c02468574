# 010_rpc: every rpc/erpc entry point into the gateway, with exact result
# and error shapes (spec §7, §10).
Code.require_file("lib/check.exs", __DIR__)

defmodule Scenario do
  require Check

  def run do
    gw = Check.gw()
    terms = Check.terms()

    # ---- echo round trips ----
    for {label, t} <- terms do
      Check.eq(":erpc.call echo: #{label}", t, fn -> :erpc.call(gw, :pga_node, :echo, [t]) end)
    end

    Check.eq(":rpc.call echo returns every sample term", [], fn ->
      for {label, t} <- terms, :rpc.call(gw, :pga_node, :echo, [t]) !== t, do: label
    end, timeout: 20_000)

    Check.eq(":erpc.call echo keeps the sign of -0.0", <<-0.0::float>>, fn ->
      x = :erpc.call(gw, :pga_node, :echo, [-0.0])
      <<x::float>>
    end)

    big = :crypto.strong_rand_bytes(8 * 1024 * 1024)
    Check.eq(":erpc.call echo: 8 MB binary", true, fn ->
      :erpc.call(gw, :pga_node, :echo, [big]) === big
    end, timeout: 30_000)
    Check.eq(":rpc.call echo: 8 MB binary inside a tuple", true, fn ->
      :rpc.call(gw, :pga_node, :echo, [{:big, big, 1}]) === {:big, big, 1}
    end, timeout: 30_000)

    Check.eq(":erpc.call/5 echo with timeout :infinity", {:inf}, fn ->
      :erpc.call(gw, :pga_node, :echo, [{:inf}], :infinity)
    end)
    Check.eq(":rpc.call/5 echo with a timeout", {:five}, fn ->
      :rpc.call(gw, :pga_node, :echo, [{:five}], 5_000)
    end)
    Check.eq(":erlang.node/0 via erpc", gw, fn -> :erpc.call(gw, :erlang, :node, []) end)
    Check.eq("pga_node.sleep(50) -> :ok", :ok, fn -> :rpc.call(gw, :pga_node, :sleep, [50]) end)

    # ---- timeouts ----
    Check.match(":rpc.call/5 timeout -> {:badrpc, :timeout} at the deadline",
      {ms, {:badrpc, :timeout}} when ms >= 180 and ms < 1000,
      Check.timed(fn -> :rpc.call(gw, :pga_node, :sleep, [1500], 200) end))

    Check.match(":erpc.call/5 timeout raises {:erpc, :timeout}",
      {ms, {:error, {:erpc, :timeout}}} when ms >= 180 and ms < 1000,
      Check.timed(fn -> Check.catching(:erpc.call(gw, :pga_node, :sleep, [1500], 200)) end))

    Check.eq("no stray message after a timed-out call completes", {0, {:late}}, fn ->
      {:badrpc, :timeout} = :rpc.call(gw, :pga_node, :sleep, [600], 100)
      Process.sleep(900)
      {:message_queue_len, q} = Process.info(self(), :message_queue_len)
      {q, :erpc.call(gw, :pga_node, :echo, [{:late}])}
    end)

    # ---- undefined functions (spec §10.2: stack [{M, F, Args, []}]) ----
    Check.eq(":rpc.call unknown module -> exact undef shape",
      {:badrpc, {:EXIT, {:undef, [{:pga_nosuch_mod, :f, [1, "two", :three], []}]}}},
      fn -> :rpc.call(gw, :pga_nosuch_mod, :f, [1, "two", :three]) end)

    Check.eq(":rpc.call unknown function of pga_node -> exact undef shape",
      {:badrpc, {:EXIT, {:undef, [{:pga_node, :nosuch, [], []}]}}},
      fn -> :rpc.call(gw, :pga_node, :nosuch, []) end)

    # [1, 2] travels as STRING_EXT; the stack must still hold the list (§7).
    Check.eq(":rpc.call pga_node.echo/2 (wrong arity, small-int args) -> undef",
      {:badrpc, {:EXIT, {:undef, [{:pga_node, :echo, [1, 2], []}]}}},
      fn -> :rpc.call(gw, :pga_node, :echo, [1, 2]) end)

    Check.eq(":erpc.call unknown module raises exact undef",
      {:error, {:exception, :undef, [{:pga_nosuch_mod, :f, [1, "two", :three], []}]}},
      fn -> Check.catching(:erpc.call(gw, :pga_nosuch_mod, :f, [1, "two", :three])) end)

    Check.eq(":erpc.call pga_node.echo/0 raises exact undef",
      {:error, {:exception, :undef, [{:pga_node, :echo, [], []}]}},
      fn -> Check.catching(:erpc.call(gw, :pga_node, :echo, [])) end)

    Check.eq(":erpc.call with 10 args to an unknown function raises exact undef",
      {:error, {:exception, :undef, [{:pga_node, :many, Enum.to_list(1..10), []}]}},
      fn -> Check.catching(:erpc.call(gw, :pga_node, :many, Enum.to_list(1..10))) end)

    # ---- fail/1: error class, reason and a stack whose top frame is fail ----
    for reason <- [:boom, {:my_reason, "text", [1, 2]}] do
      Check.match(":rpc.call pga_node.fail(#{inspect(reason)}) -> {:badrpc, {:EXIT, {reason, stack}}}",
        {:badrpc, {:EXIT, {^reason, [{:pga_node, :fail, a, loc} | _]}}}
        when (a == 1 or a == [reason]) and is_list(loc),
        :rpc.call(gw, :pga_node, :fail, [reason]))

      Check.match(":erpc.call pga_node.fail(#{inspect(reason)}) raises {:exception, reason, stack}",
        {:error, {:exception, ^reason, [{:pga_node, :fail, a, loc} | _]}}
        when (a == 1 or a == [reason]) and is_list(loc),
        Check.catching(:erpc.call(gw, :pga_node, :fail, [reason])))
    end

    # ---- casts ----
    Check.eq(":rpc.cast returns true", true, fn -> :rpc.cast(gw, :pga_node, :echo, [1]) end)
    Check.eq(":erpc.cast returns :ok", :ok, fn -> :erpc.cast(gw, :pga_node, :echo, [1]) end)
    Check.eq(":erpc.cast of an unknown function, then a call still works", {:ok, :still},
      fn ->
        :ok = :erpc.cast(gw, :pga_nosuch_mod, :f, [])
        :ok = :erpc.cast(gw, :pga_node, :fail, [:cast_fail])
        {:ok, :erpc.call(gw, :pga_node, :echo, [:still])}
      end)

    # ---- nesting limit (docs/compat.md D9), counted on the argument ----
    deep = fn n -> Enum.reduce(1..n, [], fn _, acc -> [acc] end) end
    d10k = deep.(10_000)
    d10k1 = deep.(10_001)
    Check.eq(":erpc.call echo of a 10,000-deep list (the limit) is answered", true, fn ->
      :erpc.call(gw, :pga_node, :echo, [d10k], Check.tmo(10_000)) == d10k
    end, timeout: 20_000)
    Check.eq(":rpc.call echo of a 10,000-deep list is answered", true, fn ->
      :rpc.call(gw, :pga_node, :echo, [d10k], Check.tmo(10_000)) == d10k
    end, timeout: 20_000)
    Check.eq("a 10,001-deep argument is refused: erpc error {:erpc, :system_limit}",
      {:error, {:erpc, :system_limit}}, fn ->
        try do
          :erpc.call(gw, :pga_node, :echo, [d10k1], Check.tmo(10_000))
        catch
          :error, e -> {:error, e}
        end
      end, timeout: 20_000)
    Check.match("... and by rpc: {:badrpc, {:EXIT, :system_limit}}",
      {:badrpc, {:EXIT, :system_limit}},
      :rpc.call(gw, :pga_node, :echo, [d10k1], Check.tmo(10_000)))
    Check.eq("the connection survives the refusal", {:pong, 1}, fn ->
      {Node.ping(gw), :erpc.call(gw, :pga_node, :echo, [1])}
    end)

    # ---- multicall ----
    me = node()
    Check.eq(":rpc.multicall [gw, node()] :erlang.node", {[gw, me], []}, fn ->
      :rpc.multicall([gw, me], :erlang, :node, [])
    end)
    bad = :"pga_nosuch_node@127.0.0.1"
    Check.eq(":rpc.multicall with a missing node lists it as bad", {[gw], [bad]}, fn ->
      :rpc.multicall([gw, bad], :erlang, :node, [])
    end)
    Check.eq(":rpc.multicall/5 echo on the gateway twice", {[{:m, 1}, {:m, 1}], []}, fn ->
      :rpc.multicall([gw, gw], :pga_node, :echo, [{:m, 1}], 5_000)
    end)
    Check.eq(":erpc.multicall [gw, node()] :erlang.node", [{:ok, gw}, {:ok, me}], fn ->
      :erpc.multicall([gw, me], :erlang, :node, [])
    end)
    Check.match(":erpc.multicall mixes results, undef and fail",
      [{:ok, {:x}}, {:error, {:exception, :undef, [{:pga_node, :nosuch, [], []}]}}],
      [hd(:erpc.multicall([gw], :pga_node, :echo, [{:x}])),
       hd(:erpc.multicall([gw], :pga_node, :nosuch, []))])
    Check.match(":erpc.multicall fail -> {:error, {:exception, :boom, _}}",
      [{:error, {:exception, :boom, [_ | _]}}],
      :erpc.multicall([gw], :pga_node, :fail, [:boom]))
    Check.eq(":erpc.multicall/5 timeout -> {:error, {:erpc, :timeout}}",
      [{:error, {:erpc, :timeout}}], fn -> :erpc.multicall([gw], :pga_node, :sleep, [1500], 200) end)

    # ---- block_call (a gen_server call to rex, spec §10.4) ----
    Check.eq(":rpc.block_call echo", %{block: [1, 2, 3]}, fn ->
      :rpc.block_call(gw, :pga_node, :echo, [%{block: [1, 2, 3]}])
    end)
    Check.eq(":rpc.block_call/5 echo", {:b5}, fn ->
      :rpc.block_call(gw, :pga_node, :echo, [{:b5}], 5_000)
    end)
    Check.eq(":rpc.block_call unknown function -> exact undef shape",
      {:badrpc, {:EXIT, {:undef, [{:pga_nosuch_mod, :f, [1, 2], []}]}}},
      fn -> :rpc.block_call(gw, :pga_nosuch_mod, :f, [1, 2]) end)
    Check.match(":rpc.block_call fail -> {:badrpc, {:EXIT, {:boom, stack}}}",
      {:badrpc, {:EXIT, {:boom, [{:pga_node, :fail, _, _} | _]}}},
      :rpc.block_call(gw, :pga_node, :fail, [:boom]))

    # ---- the rex server directly ----
    gl = Process.group_leader()
    Check.eq("old {pid, {:call, m, f, a, gl}} message to rex -> {:rex, reply}",
      {:rex, %{"old" => [1, 2]}}, fn ->
      send({:rex, gw}, {self(), {:call, :pga_node, :echo, [%{"old" => [1, 2]}], gl}})
      receive do
        {:rex, _} = m -> m
      after
        Check.tmo(4_000) -> :no_reply
      end
    end)
    Check.eq("old rex message for an unknown function -> {:rex, {:badrpc, undef}}",
      {:rex, {:badrpc, {:EXIT, {:undef, [{:pga_nosuch_mod, :g, [[1, 2]], []}]}}}}, fn ->
      send({:rex, gw}, {self(), {:call, :pga_nosuch_mod, :g, [[1, 2]], gl}})
      receive do
        {:rex, _} = m -> m
      after
        Check.tmo(4_000) -> :no_reply
      end
    end)
    Check.eq("gen_server call {:call, m, f, a, gl} to rex", {:gen, "call"}, fn ->
      GenServer.call({:rex, gw}, {:call, :pga_node, :echo, [{:gen, "call"}], gl})
    end)

    # ---- async forms ----
    Check.eq(":erpc.send_request + receive_response", [:a, 1], fn ->
      req = :erpc.send_request(gw, :pga_node, :echo, [[:a, 1]])
      :erpc.receive_response(req, Check.tmo(4_000))
    end)
    Check.eq(":rpc.async_call + yield", {:async}, fn ->
      key = :rpc.async_call(gw, :pga_node, :echo, [{:async}])
      :rpc.yield(key)
    end)
    Check.eq(":rpc.async_call + nb_yield", {:value, {:nb}}, fn ->
      key = :rpc.async_call(gw, :pga_node, :echo, [{:nb}])
      :rpc.nb_yield(key, Check.tmo(4_000))
    end)
    Check.eq("20 outstanding :erpc.send_request answered in any order", Enum.to_list(1..20), fn ->
      reqs = for i <- 1..20, do: {i, :erpc.send_request(gw, :pga_node, :sleep, [rem(i * 37, 100)])}
      for {i, r} <- Enum.reverse(reqs) do
        :ok = :erpc.receive_response(r, Check.tmo(4_000))
        i
      end
      |> Enum.reverse()
    end)

    # ---- erl_call (ei's rex-based ei_rpc; the caller has a short host name) ----
    case System.get_env("PGA_ERL_CALL") do
      ec when is_binary(ec) and ec != "" ->
        call = fn apply ->
          args = ["-c", Check.cookie(), "-n", Atom.to_string(gw), "-timeout", "20", "-a", apply]
          System.cmd(ec, args, stderr_to_stdout: true)
        end

        Check.eq("erl_call -a 'erlang node'", {"'#{gw}'", 0}, fn -> call.("erlang node") end,
          timeout: 25_000)
        Check.eq("erl_call -a 'pga_node echo [...]'", {"{hello, world, 42, [a, b], \"str\"}", 0},
          fn -> call.("pga_node echo [{hello,world,42,[a,b],\"str\"}]") end, timeout: 25_000)
        Check.eq("erl_call -a unknown function -> badrpc undef",
          {"{badrpc, {'EXIT', {undef, [{pga_nosuch_mod, f, [x], []}]}}}", 0},
          fn -> call.("pga_nosuch_mod f [x]") end, timeout: 25_000)

      _ ->
        Check.diag("erl_call not found: erl_call checks skipped")
    end

    Check.eq("gateway answers after all of the above", :pong, fn -> Node.ping(gw) end)
    Check.finish()
  end
end

Scenario.run()
