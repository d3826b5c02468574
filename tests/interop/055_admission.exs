# 055_admission: fair admission before the handshake (issue 11; docs/compat.md
# D10). 2,000 half-open sockets from this host (the source a new node also
# connects from) are held open: a fresh node still connects and is served
# at once, the gateway keeps at most 128 of them from one source, and
# closes the rest within the 2 s first-bytes deadline. Connections that are
# up are never touched.
Code.require_file("lib/check.exs", __DIR__)

defmodule Scenario do
  require Check

  @flood 2_000

  def open_sockets(port, n) do
    for _ <- 1..n do
      {:ok, s} = :gen_tcp.connect({127, 0, 0, 1}, port, [:binary, active: false], 5_000)
      s
    end
  end

  # Sockets the gateway still holds open (a closed one reads :closed).
  def still_open(socks) do
    Enum.count(socks, fn s -> :gen_tcp.recv(s, 0, 0) == {:error, :timeout} end)
  end

  def run do
    gw = Check.gw()
    [alive, _] = gw |> Atom.to_string() |> String.split("@")
    :pong = Node.ping(gw)
    true = Node.monitor(gw, true)
    {:port, port, _} = :erl_epmd.port_please(String.to_charlist(alive), {127, 0, 0, 1})

    socks = open_sockets(port, @flood)
    Check.eq("#{@flood} half-open sockets are accepted by the kernel", @flood, fn -> length(socks) end)

    code = """
    IO.puts("result " <> inspect({Node.ping(#{inspect(gw)}),
      :erpc.call(#{inspect(gw)}, :pga_node, :echo, [{:served, 1}])}))
    System.halt(0)
    """

    t0 = System.monotonic_time(:millisecond)

    Check.eq("a fresh node connects and is served while the sockets are held open",
      ["result {:pong, {:served, 1}}"], fn ->
        {p, _os, _name} = Check.start_node("admitted", code, hidden: true)
        {_status, lines} = Check.port_output(p, 20_000)
        Enum.filter(lines, &String.starts_with?(&1, "result "))
      end, timeout: 30_000)

    waited = System.monotonic_time(:millisecond) - t0
    Check.diag("fresh node served #{waited} ms after the flood was opened")

    Check.eq("at most 128 pre-handshake sockets kept from one source", true, fn ->
      still_open(socks) <= 128
    end, timeout: 20_000)

    Check.eq("every half-open socket is closed after the first-bytes deadline", 0, fn ->
      Process.sleep(Check.tmo(3_000))
      still_open(socks)
    end, timeout: 30_000)

    for s <- socks, do: :gen_tcp.close(s)

    dropped =
      receive do
        {:nodedown, ^gw} -> :nodedown
      after
        0 -> :no_nodedown
      end

    Check.eq("our own connection (up) was never dropped", :no_nodedown, fn -> dropped end)
    Check.eq("the gateway still answers", {:pong, 7}, fn ->
      {Node.ping(gw), :erpc.call(gw, :pga_node, :echo, [7])}
    end)

    Check.finish()
  end
end

Scenario.run()
