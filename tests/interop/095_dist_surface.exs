# 095_dist_surface: the distribution's network surface as operators set it
# for erl (issue 15): --dist-interface, --dist-port-min/--dist-port-max,
# --dist-port without epmd, the config's "dist" keys, IPv6 with inet6_tcp
# peers, ERL_EPMD_ADDRESS for the epmd pga-node starts, and the pids the
# diagnostics report being processes that can be monitored and linked.
# Private gateways run on 127.0.0.2 (peers on 127.0.0.3/.4) so fixed
# ports never meet the harness's own nodes; listeners are read with ss.
Code.require_file("lib/check.exs", __DIR__)
Code.require_file("lib/config_gw.exs", __DIR__)

defmodule Scenario do
  require Check

  def run do
    if Check.tls_run?() do
      # IP-literal hosts, inet6_tcp and -erl_epmd_port peers: plain TCP
      Check.diag("skipped in a TLS run (PGA_INTEROP_TLS=1): plain-TCP listener cases")
      Check.finish()
    end
    if ConfigGw.binary() do
      refused()
      range()
      range_taken()
      config_keys()
      no_epmd()
      ipv6()
      epmd_address()
    else
      Check.diag("private-gateway cases skipped: no pga-node binary (stand-in gateway)")
    end

    monitors(Check.gw())
    Check.finish()
  end

  # ---- helpers ----

  defp gw_name(tag, host), do: :"#{tag}_#{System.unique_integer([:positive])}@#{host}"

  defp start_gw(name, args, env \\ []) do
    ConfigGw.start(name, args, ConfigGw.path("dist") <> ".err", 20_000, env)
  end

  # Listening sockets as `ss -ltn` shows them: [{addr, port}].
  defp listeners do
    {out, 0} = System.cmd("ss", ["-ltnH"])
    for line <- String.split(out, "\n", trim: true),
        [_, _, _, local | _] = String.split(line),
        [_, addr, port] <- [Regex.run(~r/^(.*):(\d+)$/, local)],
        do: {addr, String.to_integer(port)}
  end

  defp on_port(port), do: for({a, ^port} <- listeners(), do: a)

  # The first of n consecutive ports free on 127.0.0.1 and 127.0.0.2, from
  # a random base below the ephemeral range (an outgoing connection's local
  # port there could take a fixed port from under a test).
  defp free_ports(n) do
    {low, _} = ephemeral()
    base = 10_000 + :rand.uniform(max(low - 10_000 - n, 100))
    if Enum.all?(base..(base + n - 1), &free?/1), do: base, else: free_ports(n)
  end

  defp ephemeral do
    with {:ok, t} <- File.read("/proc/sys/net/ipv4/ip_local_port_range"),
         [a, b] <- String.split(t) do
      {String.to_integer(a), String.to_integer(b)}
    else
      _ -> {32_768, 60_999}
    end
  end

  defp free?(port) do
    Enum.all?([{127, 0, 0, 1}, {127, 0, 0, 2}], fn ip ->
      case :gen_tcp.listen(port, ip: ip) do
        {:ok, s} -> :gen_tcp.close(s); true
        _ -> false
      end
    end)
  end

  # A peer elixir node with extra erl flags running `code` (which prints
  # each result as a `res <inspect>` line); it halts when its stdin closes
  # or its code ends.
  defp peer(name, erl, code) do
    pids = Path.join(Check.run_dir(), "pids")
    boot = """
    File.write!(#{inspect(pids)}, System.pid() <> "\\n", [:append])
    spawn(fn -> IO.read(:stdio, :line); System.halt(0) end)
    IO.puts("peer-ready " <> System.pid())
    """
    args = ["--name", Atom.to_string(name), "--cookie", Check.cookie(), "--erl", erl,
            "-e", boot <> code]
    port = Port.open({:spawn_executable, Check.elixir()},
      [:binary, :exit_status, :stderr_to_stdout, {:line, 4096}, args: args])
    Check.await_node({port, name})
  end

  # The `res ...` lines a peer prints, in order (n of them).
  defp results({port, _, _}, n), do: results(port, n, [])
  defp results(_port, 0, acc), do: Enum.reverse(acc)
  defp results(port, n, acc) do
    receive do
      {^port, {:data, {_, "res " <> r}}} -> results(port, n - 1, [r | acc])
      {^port, {:data, _}} -> results(port, n, acc)
      {^port, {:exit_status, st}} -> Enum.reverse([{:exit, st} | acc])
    after
      Check.tmo(20_000) -> Enum.reverse([:timeout | acc])
    end
  end

  defp stop_peer({port, _, _}) do
    Port.close(port)
  rescue
    ArgumentError -> :gone
  end

  # ---- impossible values: exit 2 naming the option ----

  def refused do
    for {args, named} <- [
          {["--dist-port-min", "0"], "--dist-port-min"},
          {["--dist-port-min", "70000"], "--dist-port-min"},
          {["--dist-port", "x"], "--dist-port"},
          {["--dist-port-min", "9100", "--dist-port-max", "9000"], "--dist-port-max"},
          {["--dist-port-max", "9000"], "--dist-port-max"},
          {["--dist-port", "9200", "--dist-port-min", "9100"], "--dist-port"},
          {["--dist-interface", "eth0"], "--dist-interface"},
          {["--dist-interface", "300.1.1.1"], "--dist-interface"}
        ] do
      Check.match("#{Enum.join(args, " ")}: exit 2 naming #{named}", {2, text} when is_binary(text),
        (fn ->
           {st, text} = ConfigGw.run_to_exit(args)
           if String.contains?(text, named), do: {st, text}, else: {st, {:not_named, text}}
         end).())
    end
  end

  # ---- interface and port range ----

  def range do
    p = free_ports(3)
    name = gw_name("dr", "127.0.0.2")
    case start_gw(name, ["--dist-interface", "127.0.0.2", "--dist-port-min", "#{p}",
                         "--dist-port-max", "#{p + 2}"]) do
      {:ok, g} ->
        Check.eq("--dist-interface/--dist-port-min/max: a node reaches pga", name,
          fn -> :rpc.call(name, :erlang, :node, [], Check.tmo(5_000)) end)
        {:port, port, _} = :erl_epmd.port_please(~c"#{hd(String.split("#{name}", "@"))}", {127, 0, 0, 2})
        Check.run("the port epmd publishes is in #{p}..#{p + 2}", fn -> port in p..(p + 2) end)
        Check.eq("ss -ltn: that port listens on 127.0.0.2 only", ["127.0.0.2"],
          fn -> on_port(port) end)
        Check.run("the log names what was bound", fn ->
          String.contains?(ConfigGw.read_log(g.log), "listening on 127.0.0.2:#{port}")
        end)
        second(p)
        ConfigGw.stop(g)
      other ->
        Check.run("gateway on 127.0.0.2 with a port range starts", fn -> {:fail, "started", other} end)
    end
  end

  # A second gateway on the same range takes the next free port.
  defp second(p) do
    name = gw_name("dr2", "127.0.0.2")
    case start_gw(name, ["--dist-interface", "127.0.0.2", "--dist-port-min", "#{p}",
                         "--dist-port-max", "#{p + 2}"]) do
      {:ok, g} ->
        Check.eq("a second gateway on the range is reached too", name,
          fn -> :rpc.call(name, :erlang, :node, [], Check.tmo(5_000)) end)
        Check.run("it took the next port of the range", fn ->
          {:port, port, _} = :erl_epmd.port_please(~c"#{hd(String.split("#{name}", "@"))}", {127, 0, 0, 2})
          port in (p + 1)..(p + 2)
        end)
        ConfigGw.stop(g)
      other ->
        Check.run("a second gateway on the range starts", fn -> {:fail, "started", other} end)
    end
  end

  def range_taken do
    p = free_ports(2)
    held = for port <- [p, p + 1] do
      {:ok, s} = :gen_tcp.listen(port, ip: {127, 0, 0, 2})
      s
    end
    Check.match("a port range fully taken: pga-node exits with a clear error",
      {1, true},
      (fn ->
         {st, text} = ConfigGw.run_to_exit(["--dist-interface", "127.0.0.2",
           "--dist-port-min", "#{p}", "--dist-port-max", "#{p + 1}"])
         {st, String.contains?(text, "no free distribution port in #{p}..#{p + 1} on 127.0.0.2")}
       end).())
    Enum.each(held, &:gen_tcp.close/1)
  end

  # ---- the same keys in --config ----

  def config_keys do
    p = free_ports(2)
    cfg = ConfigGw.path("distcfg") <> ".json"
    File.write!(cfg, ~s({"dist": {"interface": "127.0.0.2", "port_min": #{p}, "port_max": #{p + 1}}}))
    name = gw_name("dc", "127.0.0.2")
    case start_gw(name, ["--config", cfg]) do
      {:ok, g} ->
        Check.eq("config dist.interface/port_min/port_max: a node reaches pga", name,
          fn -> :rpc.call(name, :erlang, :node, [], Check.tmo(5_000)) end)
        Check.run("ss -ltn: it listens on 127.0.0.2 in #{p}..#{p + 1}", fn ->
          {:port, port, _} = :erl_epmd.port_please(~c"#{hd(String.split("#{name}", "@"))}", {127, 0, 0, 2})
          port in p..(p + 1) and on_port(port) == ["127.0.0.2"]
        end)
        ConfigGw.stop(g)
      other ->
        Check.run("gateway with a \"dist\" config starts", fn -> {:fail, "started", other} end)
    end

    for {json, named} <- [
          {~s({"dist": {"port_min": 9100, "port_max": 9000}}), "dist.port_max"},
          {~s({"dist": {"port": 0}}), "dist.port"},
          {~s({"dist": {"port": 9200, "port_min": 9100}}), "dist.port"},
          {~s({"dist": {"interface": "localhost"}}), "dist.interface"},
          {~s({"dist": {"ports": 1}}), "dist.ports"}
        ] do
      bad = ConfigGw.path("distbad") <> ".json"
      File.write!(bad, json)
      Check.match("config #{json}: exit 2 naming #{named}", {2, true},
        (fn ->
           {st, text} = ConfigGw.run_to_exit(["--config", bad])
           {st, String.contains?(text, named)}
         end).())
    end
  end

  # ---- --dist-port: no epmd, peers with -erl_epmd_port ----

  def no_epmd do
    q = free_ports(1)
    unused_epmd = free_ports(1)
    name = gw_name("dn", "127.0.0.2")
    env = [{"ERL_EPMD_PORT", "#{unused_epmd}"}]
    case start_gw(name, ["--dist-interface", "127.0.0.2", "--dist-port", "#{q}"], env) do
      {:ok, g} ->
        Check.eq("--dist-port: ss -ltn shows #{q} on 127.0.0.2 only", ["127.0.0.2"],
          fn -> on_port(q) end)
        Check.eq("no epmd was started (nothing on the epmd port it was given)", [],
          fn -> on_port(unused_epmd) end)
        Check.run("the log says the port is used without epmd", fn ->
          String.contains?(ConfigGw.read_log(g.log), "listening on 127.0.0.2:#{q}") and
            String.contains?(ConfigGw.read_log(g.log), "without epmd")
        end)
        peers_without_epmd(name, q)
        ConfigGw.stop(g)
      other ->
        Check.run("gateway with --dist-port starts", fn -> {:fail, "started", other} end)
    end
  end

  defp peers_without_epmd(gw, q) do
    flags = fn ip -> "-erl_epmd_port #{q} -start_epmd false -kernel inet_dist_use_interface #{ip}" end
    other = gw_name("other", "127.0.0.4")
    code = """
    gw = #{inspect(gw)}
    IO.puts("res " <> inspect(:rpc.call(gw, :erlang, :node, [], 10_000)))
    IO.puts("res " <> inspect(:erpc.call(gw, :pga_node, :rpc, [#{inspect(other)}, :erlang, :node, []], 10_000)))
    """
    try do
      b = peer(other, flags.("{127,0,0,4}"), "Process.sleep(:infinity)")
      a = peer(gw_name("caller", "127.0.0.3"), flags.("{127,0,0,3}"), code)
      [r1, r2] = results(a, 2)
      Check.eq("a peer started with -erl_epmd_port #{q} reaches pga", inspect(gw), fn -> r1 end)
      Check.eq("pga reaches another such peer on port #{q} (outgoing, no epmd)",
        inspect(other), fn -> r2 end)
      stop_peer(a)
      stop_peer(b)
    rescue
      e -> Check.run("peers without epmd", fn -> {:fail, Exception.message(e)} end)
    end
  end

  # ---- IPv6 ----

  def ipv6 do
    name = gw_name("d6", "::1")
    case start_gw(name, ["--dist-interface", "::1"]) do
      {:ok, g} ->
        {:port, port, _} = :erl_epmd.port_please(~c"#{hd(String.split("#{name}", "@"))}", {127, 0, 0, 1})
        Check.eq("--dist-interface ::1: ss -ltn shows [::1] only", ["[::1]"], fn -> on_port(port) end)
        other = gw_name("o6", "::1")
        code = """
        gw = #{inspect(name)}
        IO.puts("res " <> inspect(:rpc.call(gw, :erlang, :node, [], 10_000)))
        IO.puts("res " <> inspect(:erpc.call(gw, :pga_node, :rpc, [#{inspect(other)}, :erlang, :node, []], 10_000)))
        """
        try do
          b = peer(other, "-proto_dist inet6_tcp", "Process.sleep(:infinity)")
          a = peer(gw_name("c6", "::1"), "-proto_dist inet6_tcp", code)
          [r1, r2] = results(a, 2)
          Check.eq("an inet6_tcp peer reaches pga on ::1", inspect(name), fn -> r1 end)
          Check.eq("pga reaches an inet6_tcp peer over IPv6 (outgoing)", inspect(other), fn -> r2 end)
          stop_peer(a)
          stop_peer(b)
        rescue
          e -> Check.run("inet6_tcp peers", fn -> {:fail, Exception.message(e)} end)
        end
        ConfigGw.stop(g)
      other ->
        Check.run("gateway on ::1 starts", fn -> {:fail, "started", other} end)
    end
  end

  # ---- the epmd pga-node starts honours ERL_EPMD_ADDRESS ----

  def epmd_address do
    e = free_ports(1)
    name = gw_name("de", "127.0.0.1")
    env = [{"ERL_EPMD_PORT", "#{e}"}, {"ERL_EPMD_ADDRESS", "127.0.0.1"}]
    case start_gw(name, [], env) do
      {:ok, g} ->
        Check.run("the epmd pga-node started listens on loopback only (ERL_EPMD_ADDRESS)", fn ->
          addrs = on_port(e)
          addrs != [] and Enum.all?(addrs, &(&1 in ["127.0.0.1", "[::1]"]))
        end)
        ConfigGw.stop(g)
        Check.run("that epmd outlives pga-node, as with erl", fn -> on_port(e) != [] end)
        System.cmd(System.get_env("EPMD") || "epmd", ["-kill"], env: [{"ERL_EPMD_PORT", "#{e}"}])
      other ->
        Check.run("gateway starting its own epmd starts", fn -> {:fail, "started", other} end)
    end
  end

  # ---- every pid the diagnostics report is a process ----

  def monitors(gw) do
    h = :rpc.call(gw, PhoenixGenApi, :health_check, [])
    checks = get_in(h, [:checks, :phoenix_gen_api, :checks]) || %{}
    health = for {k, %{pid: p}} when is_pid(p) <- checks, do: {"health_check #{k}", p}
    debug =
      case :rpc.call(gw, PhoenixGenApi, :debug_report, []) do
        %{} = d -> pids_in(d, "debug_report")
        _ -> []
      end
    all = Enum.uniq_by(health ++ debug, fn {_, p} -> p end)
    Check.run("health_check and debug_report report pids (#{length(all)})", fn -> length(all) >= 12 end)
    for {where, pid} <- all do
      Check.run("#{where}: #{inspect(pid)} can be monitored, linked and sent to", fn ->
        Process.flag(:trap_exit, true)
        ref = Process.monitor(pid)
        true = Process.link(pid)
        send(pid, {:unknown_message, self()})
        receive do
          {:DOWN, ^ref, _, _, why} -> {:fail, "DOWN", why}
          {:EXIT, ^pid, why} -> {:fail, "EXIT", why}
        after
          300 -> Process.unlink(pid); Process.demonitor(ref); :ok
        end
      end)
    end
  end

  # Every pid in a nested term, with where it was found.
  defp pids_in(p, where) when is_pid(p), do: [{where, p}]
  defp pids_in(m, where) when is_map(m),
    do: Enum.flat_map(m, fn {k, v} -> pids_in(v, "#{where}.#{inspect(k)}") end)
  defp pids_in(l, where) when is_list(l), do: Enum.flat_map(l, &pids_in(&1, where))
  defp pids_in(t, where) when is_tuple(t), do: pids_in(Tuple.to_list(t), where)
  defp pids_in(_, _), do: []
end

Scenario.run()
