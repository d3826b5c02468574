# 020_genserver: the registered server `pga_node` answers gen_server calls
# from every client form; a missing name fails fast with noproc (spec §9, §11).
Code.require_file("lib/check.exs", __DIR__)

defmodule Scenario do
  require Check

  def run do
    gw = Check.gw()
    srv = {:pga_node, gw}

    Check.eq("GenServer.call :ping -> :pong", :pong, fn -> GenServer.call(srv, :ping) end)
    Check.eq(":gen_server.call/3 :ping -> :pong", :pong, fn -> :gen_server.call(srv, :ping, 5_000) end)
    Check.eq("GenServer.call {:echo, t} for every sample term", [], fn ->
      for {label, t} <- Check.terms(), GenServer.call(srv, {:echo, t}) !== t, do: label
    end, timeout: 20_000)

    big = :crypto.strong_rand_bytes(4 * 1024 * 1024)
    Check.eq("GenServer.call {:echo, 4 MB binary}", true, fn ->
      GenServer.call(srv, {:echo, big}, 20_000) === big
    end, timeout: 25_000)

    Check.eq("GenServer.cast returns :ok and the server keeps answering", {:ok, :ok, :pong}, fn ->
      a = GenServer.cast(srv, {:unknown_cast, self()})
      b = GenServer.cast(srv, :ping)
      {a, b, GenServer.call(srv, :ping)}
    end)
    Check.eq("a plain message to the server is ignored", :pong, fn ->
      send(srv, {:stray, :message})
      GenServer.call(srv, :ping)
    end)
    Check.eq("100 sequential calls", List.duplicate(:pong, 100), fn ->
      for _ <- 1..100, do: GenServer.call(srv, :ping)
    end)
    Check.eq("50 concurrent callers get their own replies", Enum.to_list(1..50), fn ->
      1..50
      |> Enum.map(fn i -> Task.async(fn -> GenServer.call(srv, {:echo, {i, self()}}) end) end)
      |> Enum.map(&Task.await(&1, Check.tmo(5_000)))
      |> Enum.map(fn {i, _pid} -> i end)
    end)

    Check.eq(":gen_server.send_request + receive_response", {:reply, :pong}, fn ->
      req = :gen_server.send_request(srv, :ping)
      :gen_server.receive_response(req, Check.tmo(4_000))
    end)
    Check.eq(":gen_server.send_request + wait_response", {:reply, {:w}}, fn ->
      req = :gen_server.send_request(srv, {:echo, {:w}})
      :gen_server.wait_response(req, Check.tmo(4_000))
    end)

    # multi_call tags its requests with a plain {Tag, Node} tuple (no
    # alias): the server must echo the tag verbatim and reply to the pid.
    Check.eq(":gen_server.multi_call [gw] -> {[{gw, :pong}], []}", {[{gw, :pong}], []}, fn ->
      :gen_server.multi_call([gw], :pga_node, :ping, Check.tmo(4_000))
    end)

    # An old-style call message whose tag is a plain reference.
    Check.eq("raw {:\"$gen_call\", {pid, ref}, req} gets {ref, reply}", {:pong}, fn ->
      ref = make_ref()
      send(srv, {:"$gen_call", {self(), ref}, :ping})
      receive do
        {^ref, r} -> {r}
      after
        Check.tmo(4_000) -> :no_reply
      end
    end)

    # Unknown name: MONITOR_P answered with noproc, so the caller exits at
    # once instead of waiting for its timeout.
    limit = Check.tmo(1_000)

    Check.match("GenServer.call to an unknown name exits {:noproc, _} within 1 s",
      {ms, {:exit, {:noproc, {GenServer, :call, [{:pga_nosuch_server, ^gw}, :ping, 5_000]}}}}
      when ms < limit,
      Check.timed(fn -> Check.catching(GenServer.call({:pga_nosuch_server, gw}, :ping)) end))
    Check.match(":gen_server.call to an unknown name exits {:noproc, _}",
      {:exit, {:noproc, {:gen_server, :call, [{:pga_nosuch_server, ^gw}, :ping, 3_000]}}},
      Check.catching(:gen_server.call({:pga_nosuch_server, gw}, :ping, 3_000)))
    Check.eq(":gen_server.multi_call to an unknown name -> bad node", {[], [gw]}, fn ->
      :gen_server.multi_call([gw], :pga_nosuch_server, :ping, Check.tmo(4_000))
    end)
    Check.eq("GenServer.cast to an unknown name returns :ok", :ok, fn ->
      GenServer.cast({:pga_nosuch_server, gw}, :hello)
    end)

    Check.eq("the server answers after all of the above", :pong, fn -> GenServer.call(srv, :ping) end)
    Check.finish()
  end
end

Scenario.run()
