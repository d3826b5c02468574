# 080_many_nodes: hundreds of peer nodes connected at once. Each peer is a
# raw socket that completes the handshake by hand (spec §3) and then makes
# an erpc-style SPAWN_REQUEST (spec §10) of pga_node:echo/1; every peer
# must get its own answer, and real nodes must still be served. In a TLS
# run (PGA_INTEROP_TLS=1) the raw sockets are TLS sessions (:ssl with the
# run's certificates; handshake messages then carry 4 length bytes).
Code.require_file("lib/check.exs", __DIR__)

defmodule Scenario do
  require Check

  @peers 300
  @otp25_hidden 0xD07DF7FBC

  defp gw_port(gw) do
    [alive, _] = gw |> Atom.to_string() |> String.split("@")
    {:port, p, _} = :erl_epmd.port_please(String.to_charlist(alive), {127, 0, 0, 1})
    p
  end

  # The run's TLS certificates (next to its optfile), or nil: plain TCP.
  defp tls_dir do
    case Check.gw_tls_args() do
      [_, _, "--ssl-dist-optfile", conf] -> Path.dirname(conf)
      _ -> nil
    end
  end

  defp connect(port, nil) do
    {:ok, s} = :gen_tcp.connect({127, 0, 0, 1}, port, [:binary, active: false, packet: 2])
    {:gen_tcp, s}
  end

  defp connect(port, dir) do
    # TLS distribution runs without the ssl application; :ssl.connect needs it.
    {:ok, _} = Application.ensure_all_started(:ssl)
    {:ok, s} =
      :ssl.connect({127, 0, 0, 1}, port,
        [:binary, active: false, packet: 4, verify: :verify_peer,
         server_name_indication: :disable,
         certfile: ~c"#{dir}/node.pem", keyfile: ~c"#{dir}/node.key",
         cacertfile: ~c"#{dir}/ca.pem"], Check.tmo(10_000))
    {:ssl, s}
  end

  defp tx({m, s}, data), do: m.send(s, data)
  defp recv({m, s}, ms), do: m.recv(s, 0, ms)
  defp close({m, s}), do: m.close(s)
  defp packet4({:gen_tcp, s}), do: :inet.setopts(s, packet: 4)
  defp packet4({:ssl, _}), do: :ok

  # Connects and completes the handshake as node `name`; the socket is then
  # in 4-byte packet mode. Returns the socket.
  defp handshake(port, name, cookie, dir) do
    s = connect(port, dir)
    :ok = tx(s, <<?N, @otp25_hidden::64, 7::32, byte_size(name)::16, name::binary>>)
    {:ok, "sok"} = recv(s, Check.tmo(5_000))
    {:ok, <<?N, _::64, ch::32, _::binary>>} = recv(s, Check.tmo(5_000))
    digest = :erlang.md5(cookie <> Integer.to_string(ch))
    :ok = tx(s, <<?r, 42::32, digest::binary>>)
    {:ok, <<?a, ours::binary-16>>} = recv(s, Check.tmo(5_000))
    ^ours = :erlang.md5(cookie <> "42")
    :ok = packet4(s)
    s
  end

  # A pid and a reference of the fake node, built from their external
  # formats (NEW_PID_EXT, NEWER_REFERENCE_EXT).
  defp atom_ext(name), do: <<119, byte_size(name), name::binary>>
  defp fake_pid(name), do: :erlang.binary_to_term(<<131, 88, atom_ext(name)::binary, 1::32, 0::32, 7::32>>)

  defp fake_ref(name, n) do
    :erlang.binary_to_term(<<131, 90, 3::16, atom_ext(name)::binary, 7::32, n::32, 0::32, 0::32>>)
  end

  defp spawn_echo(s, name, i) do
    pid = fake_pid(name)
    req = fake_ref(name, i)
    res = fake_ref(name, i + 100_000)
    ctrl = :erlang.term_to_binary({29, req, pid, pid, {:erpc, :execute_call, 4}, [:monitor]})
    payload = :erlang.term_to_binary([res, :pga_node, :echo, [{:peer, i}]])
    :ok = tx(s, [<<?p>>, ctrl, payload])
    res
  end

  # Reads packets until the MONITOR_P_EXIT (21/28) carrying the result.
  defp await_result(s, res) do
    case recv(s, Check.tmo(10_000)) do
      {:ok, <<>>} -> await_result(s, res)
      {:ok, <<?p, rest::binary>>} ->
        {ctrl, used} = :erlang.binary_to_term(rest, [:used])
        payload = binary_part(rest, used, byte_size(rest) - used)
        case ctrl do
          {21, _, _, _, {^res, :return, v}} -> v
          {28, _, _, _} -> (case :erlang.binary_to_term(payload) do {^res, :return, v} -> v; o -> {:bad, o} end)
          _ -> await_result(s, res)
        end
      other -> {:error, other}
    end
  end

  def run do
    gw = Check.gw()
    cookie = Check.cookie()
    port = gw_port(gw)
    names = for i <- 1..@peers, do: Atom.to_string(Check.node_name("many#{i}"))

    # One check: the sockets belong to the process that runs it.
    Check.eq("#{@peers} peers connect at once and each gets its own echo answer",
      {@peers, []}, fn ->
      dir = tls_dir()
      socks = Enum.map(names, &handshake(port, &1, cookie, dir))
      pending =
        socks |> Enum.zip(names) |> Enum.with_index()
        |> Enum.map(fn {{s, n}, i} -> {s, i, spawn_echo(s, n, i)} end)
      wrong = for {s, i, res} <- pending, await_result(s, res) != {:peer, i}, do: i
      Enum.each(socks, &close/1)
      {length(socks), wrong}
    end, timeout: 120_000)

    Check.eq("a real node is still served with #{@peers} peers having come and gone", :ok, fn ->
      :rpc.call(gw, :pga_node, :echo, [:ok])
    end)
  end
end

Scenario.run()
Check.finish()
