# 000_connect: the gateway is reachable as a hidden node with the cluster
# cookie, and refuses a node with the wrong one (spec §1-§3).
Code.require_file("lib/check.exs", __DIR__)

defmodule Scenario do
  require Check

  def run do
    gw = Check.gw()
    alive = gw |> Atom.to_string() |> String.split("@") |> hd() |> String.to_charlist()

    # The run's private epmd (ERL_EPMD_PORT) holds the gateway's name.
    Check.eq("epmd lists the gateway's name", true, fn ->
      {:ok, names} = :erl_epmd.names(~c"127.0.0.1")
      List.keymember?(names, alive, 0)
    end)

    Check.match(
      "epmd gives a port and dist version 6 for the gateway",
      {:port, p, 6} when is_integer(p) and p > 0,
      :erl_epmd.port_please(alive, {127, 0, 0, 1})
    )

    Check.eq("Node.ping -> :pong", :pong, fn -> Node.ping(gw) end)
    Check.eq("gateway is in Node.list(:hidden)", true, fn -> gw in Node.list(:hidden) end)
    Check.eq("gateway is not in Node.list() (not published)", false, fn -> gw in Node.list() end)
    Check.eq("gateway is in Node.list(:connected)", true, fn -> gw in Node.list(:connected) end)

    Check.eq("the connection is of type hidden", {:ok, :hidden}, fn ->
      :net_kernel.node_info(gw, :type)
    end)

    Check.eq(":net_adm.ping -> :pong", :pong, fn -> :net_adm.ping(gw) end)

    Check.eq(":rpc.call :erlang.node/0 is the gateway's name", gw, fn ->
      :rpc.call(gw, :erlang, :node, [])
    end)

    Check.eq(":erpc.call :erlang.node/0 is the gateway's name", gw, fn ->
      :erpc.call(gw, :erlang, :node, [])
    end)

    Check.eq(
      "disconnect then ping reconnects (5 times)",
      List.duplicate({false, :pong, true}, 5),
      fn ->
        for _ <- 1..5 do
          Node.disconnect(gw)
          down = gw in Node.list(:connected)
          {down, Node.ping(gw), gw in Node.list(:hidden)}
        end
      end,
      timeout: 20_000
    )

    # Another node with a different cookie: the gateway must refuse the
    # handshake (digest mismatch, spec §3); that node sees :pang.
    ping_code =
      "IO.puts(\"result \" <> Atom.to_string(Node.ping(#{inspect(gw)}))); System.halt(0)"

    Check.eq(
      "a node with the wrong cookie gets :pang",
      ["result pang"],
      fn ->
        {port, _os, _name} = Check.start_node("badcookie", ping_code, cookie: "not_the_cookie")
        {_status, lines} = Check.port_output(port, 15_000)
        Enum.filter(lines, &String.starts_with?(&1, "result "))
      end,
      timeout: 30_000
    )

    Check.eq(
      "a fresh hidden node with the right cookie gets :pong",
      ["result pong"],
      fn ->
        {port, _os, _name} = Check.start_node("goodcookie", ping_code, hidden: true)
        {_status, lines} = Check.port_output(port, 15_000)
        Enum.filter(lines, &String.starts_with?(&1, "result "))
      end,
      timeout: 30_000
    )

    Check.eq("ping still :pong after the refused handshake", :pong, fn -> Node.ping(gw) end)

    Check.eq("rpc still works after the refused handshake", {:ok, "after"}, fn ->
      :rpc.call(gw, :pga_node, :echo, [{:ok, "after"}])
    end)

    Check.eq("Node.monitor(gw) sees no nodedown while connected", :none, fn ->
      true = Node.monitor(gw, true)

      receive do
        {:nodedown, ^gw} -> :nodedown
      after
        300 -> :none
      end
    end)

    Check.finish()
  end
end

Scenario.run()
