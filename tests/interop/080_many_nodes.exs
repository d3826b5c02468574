# 080_many_nodes: hundreds of peer nodes connected at once. Each peer is a
# raw socket that completes the handshake by hand (spec §3) and then makes
# an erpc-style SPAWN_REQUEST (spec §10) of pga_node:echo/1; every peer
# must get its own answer, and real nodes must still be served.
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

  # Connects and completes the handshake as node `name`; the socket is then
  # in 4-byte packet mode. Returns the socket.
  defp handshake(port, name, cookie) do
    {:ok, s} = :gen_tcp.connect({127, 0, 0, 1}, port, [:binary, active: false, packet: 2])
    :ok = :gen_tcp.send(s, <<?N, @otp25_hidden::64, 7::32, byte_size(name)::16, name::binary>>)
    {:ok, "sok"} = :gen_tcp.recv(s, 0, Check.tmo(5_000))
    {:ok, <<?N, _::64, ch::32, _::binary>>} = :gen_tcp.recv(s, 0, Check.tmo(5_000))
    digest = :erlang.md5(cookie <> Integer.to_string(ch))
    :ok = :gen_tcp.send(s, <<?r, 42::32, digest::binary>>)
    {:ok, <<?a, ours::binary-16>>} = :gen_tcp.recv(s, 0, Check.tmo(5_000))
    ^ours = :erlang.md5(cookie <> "42")
    :ok = :inet.setopts(s, packet: 4)
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
    :ok = :gen_tcp.send(s, [<<?p>>, ctrl, payload])
    res
  end

  # Reads packets until the MONITOR_P_EXIT (21/28) carrying the result.
  defp await_result(s, res) do
    case :gen_tcp.recv(s, 0, Check.tmo(10_000)) do
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
      socks = Enum.map(names, &handshake(port, &1, cookie))
      pending =
        socks |> Enum.zip(names) |> Enum.with_index()
        |> Enum.map(fn {{s, n}, i} -> {s, i, spawn_echo(s, n, i)} end)
      wrong = for {s, i, res} <- pending, await_result(s, res) != {:peer, i}, do: i
      Enum.each(socks, &:gen_tcp.close/1)
      {length(socks), wrong}
    end, timeout: 120_000)

    Check.eq("a real node is still served with #{@peers} peers having come and gone", :ok, fn ->
      :rpc.call(gw, :pga_node, :echo, [:ok])
    end)
  end
end

Scenario.run()
Check.finish()
