# 480_dist_tls: distribution over TLS (pga-node --proto-dist inet_tls
# --ssl-dist-optfile FILE, or the --config "dist" section; docs/compat.md
# D30-D33). A private TLS gateway is started with certificates made here
# by openssl, and real OTP nodes started with -proto_dist inet_tls
# -ssl_dist_optfile FILE (short names on this host: OTP 25 checks the host
# part of the node name against the certificate) talk to it: rpc and erpc
# both ways; a peer with another CA's certificate, a plain-TCP peer and a
# peer without a client certificate are refused; the gateway refuses to
# connect out to a node whose certificate it cannot verify. Bad settings stop
# pga-node with exit status 2 naming the option. Runs in plain and TLS runs
# alike (the nodes here choose their protocol themselves).
Code.require_file("lib/check.exs", __DIR__)
Code.require_file("lib/config_gw.exs", __DIR__)

defmodule TlsNodes do
  @moduledoc false

  def host, do: System.cmd("hostname", ["-s"]) |> elem(0) |> String.trim()

  def name(tag) do
    prefix = System.get_env("PGA_NAME_PREFIX") || "pgat"
    :"#{prefix}_#{tag}_#{:erlang.unique_integer([:positive])}@#{host()}"
  end

  # erl flags for a node speaking TLS with conf, or plain TCP (nil).
  def aflags(nil), do: false
  def aflags(conf), do: String.to_charlist("-proto_dist inet_tls -ssl_dist_optfile #{conf}")

  @doc "Starts an elixir node (short name) with conf; {port, name}."
  def open(tag, conf, code) do
    name = name(tag)
    pids = Path.join(Check.run_dir(), "pids")

    boot = """
    File.write!(#{inspect(pids)}, System.pid() <> "\\n", [:append])
    spawn(fn -> IO.read(:stdio, :line); System.halt(0) end)
    IO.puts("peer-ready " <> System.pid())
    """

    sname = name |> Atom.to_string() |> String.split("@") |> hd()

    port =
      Port.open({:spawn_executable, Check.elixir()}, [
        :binary,
        :exit_status,
        :stderr_to_stdout,
        {:line, 4096},
        args: ["--sname", sname, "--cookie", Check.cookie(), "-e", boot <> code],
        env: [{~c"ERL_AFLAGS", aflags(conf)}]
      ])

    {port, name}
  end

  @doc "Runs code on a fresh node until it halts; its 'result ' lines."
  def results(tag, conf, code, ms \\ 30_000) do
    {port, _} = open(tag, conf, code <> "\nSystem.halt(0)")
    {_st, lines} = Check.port_output(port, ms)

    for "result " <> r <- lines, into: %{} do
      [k, v] = String.split(r, " ", parts: 2)
      {k, v}
    end
  end

  @doc "Starts a node that stays up; waits for it."
  def serve(tag, conf) do
    {port, _ospid, name} = Check.await_node(open(tag, conf, "Process.sleep(:infinity)"))
    {port, name}
  end
end

defmodule Scenario do
  require Check

  def make_certs do
    dir = Path.join(Check.run_dir(), "tls480")
    script = Path.join(__DIR__, "tls/make-certs.sh")
    {out, st} = System.cmd(script, [dir, TlsNodes.host()], stderr_to_stdout: true)
    if st != 0, do: raise("make-certs.sh failed: #{out}")
    other = Path.join(dir, "other-noverify.conf")

    # The other CA's node, accepting anyone: only the gateway's own check
    # can refuse it.
    File.write!(other, """
    [{server, [{certfile, "#{dir}/other.pem"}, {keyfile, "#{dir}/other.key"},
               {verify, verify_none}]},
     {client, [{verify, verify_none}]}].
    """)

    dir
  end

  def ping_code(gw), do: ~s|IO.puts("result ping " <> inspect(Node.ping(#{inspect(gw)})))|

  def run do
    ConfigGw.require_binary!()
    # Private gateways here choose their protocol themselves, also in a TLS
    # run (PGA_INTEROP_TLS=1) whose certificates are not these.
    System.delete_env("PGA_GW_TLS_ARGS")
    dir = make_certs()
    conf = Path.join(dir, "dist.conf")
    gw_name = TlsNodes.name("tlsgw")
    log = ConfigGw.path("tlsgw") <> ".err"

    started =
      ConfigGw.start(gw_name, ["--proto-dist", "inet_tls", "--ssl-dist-optfile", conf,
                               "--log-level", "debug"], log)

    Check.match("pga-node starts with --proto-dist inet_tls --ssl-dist-optfile", {:ok, _}, started)
    {:ok, gw} = started
    g = inspect(gw_name)

    srv = TlsNodes.serve("tlssrv", conf)
    {_, srv_name} = srv
    stranger = TlsNodes.serve("tlsother", Path.join(dir, "other-noverify.conf"))
    {_, stranger_name} = stranger
    big = "Enum.to_list(1..50_000) ++ [String.duplicate(\"x\", 200_000)]"

    r =
      TlsNodes.results("tlscl", conf, """
      big = #{big}
      IO.puts("result ping " <> inspect(Node.ping(#{g})))
      IO.puts("result rpc " <> inspect(:rpc.call(#{g}, :erlang, :node, [])))
      IO.puts("result erpc_echo " <> inspect(:erpc.call(#{g}, :pga_node, :echo, [big]) == big))
      IO.puts("result back " <> inspect(:erpc.call(#{g}, :pga_node, :rpc, [node(), :lists, :reverse, [[1, 2, 3]]])))
      IO.puts("result out " <> inspect(:erpc.call(#{g}, :pga_node, :rpc, [#{inspect(srv_name)}, :erlang, :node, []])))
      IO.puts("result out_big " <> inspect(:erpc.call(#{g}, :pga_node, :rpc, [#{inspect(srv_name)}, :erlang, :length, [big]])))
      IO.puts("result refused_out " <> inspect(:erpc.call(#{g}, :pga_node, :rpc, [#{inspect(stranger_name)}, :erlang, :node, []])))
      IO.puts("result still " <> inspect(Node.ping(#{g})))
      """, 60_000)

    Check.eq("a TLS node pings the TLS gateway: :pong", ":pong", fn -> r["ping"] end)
    Check.eq(":rpc.call over TLS: :erlang.node/0", g, fn -> r["rpc"] end)
    Check.eq(":erpc.call over TLS: echo of a 50,000-element list with a 200 kB binary",
      "true", fn -> r["erpc_echo"] end)
    Check.eq("the gateway calls back over the same TLS connection", "[3, 2, 1]", fn -> r["back"] end)
    Check.eq("the gateway connects out over TLS (verify_peer, host name checked)",
      inspect(srv_name), fn -> r["out"] end)
    Check.eq("a large call result comes back over the outgoing TLS connection", "50001",
      fn -> r["out_big"] end)
    Check.eq("the gateway refuses to connect out to another CA's node", "{:badrpc, :nodedown}",
      fn -> r["refused_out"] end)
    Check.eq("the gateway still answers after the refusal", ":pong", fn -> r["still"] end)

    for {label, conf2} <- [
          {"a node with another CA's certificate", Path.join(dir, "other.conf")},
          {"a plain-TCP node", nil},
          {"a node without a client certificate (mutual TLS required)",
           Path.join(dir, "server-only.conf")}
        ] do
      Check.eq("#{label} is refused: :pang", ":pang", fn ->
        TlsNodes.results("tlsbad", conf2, ping_code(gw_name))["ping"]
      end, timeout: 40_000)
    end

    Check.eq("the gateway logs why a TLS handshake failed", true, fn ->
      ConfigGw.read_log(log) =~ "TLS handshake"
    end)

    for {port, _} <- [srv, stranger], do: Port.close(port)
    st = ConfigGw.stop(gw)
    Check.eq("the TLS gateway exits 0 on SIGTERM", 0, fn -> st end)

    # ---- the same settings from --config JSON ----
    json = """
    {"dist": {"proto": "inet_tls",
      "ssl": {"server": {"certfile": "#{dir}/node.pem", "keyfile": "#{dir}/node.key",
                         "cacertfile": "#{dir}/ca.pem", "verify": "verify_peer",
                         "fail_if_no_peer_cert": true, "versions": ["tlsv1.2", "tlsv1.3"]},
              "client": {"certfile": "#{dir}/node.pem", "keyfile": "#{dir}/node.key",
                         "cacertfile": "#{dir}/ca.pem", "verify": "verify_peer"}}}}
    """

    cfg = ConfigGw.path("tlsjson") <> ".json"
    File.write!(cfg, json)
    jname = TlsNodes.name("tlsjson")
    jstarted = ConfigGw.start(jname, ["--config", cfg], ConfigGw.path("tlsjson") <> ".err")
    Check.match("pga-node starts with the config's dist section", {:ok, _}, jstarted)

    with {:ok, jgw} <- jstarted do
      Check.eq("a TLS node pings the gateway configured from JSON: :pong", ":pong", fn ->
        TlsNodes.results("tlsjcl", conf, ping_code(jname))["ping"]
      end, timeout: 40_000)
      Check.eq("... and a plain-TCP node gets :pang", ":pang", fn ->
        TlsNodes.results("tlsjplain", nil, ping_code(jname))["ping"]
      end, timeout: 40_000)
      ConfigGw.stop(jgw)
    end

    # ---- settings refused at start-up: exit status 2 naming the option ----
    bad = Path.join(dir, "bad.conf")
    File.write!(bad, "[{server, [{certfile, \"#{dir}/node.pem\"}, {verfy, verify_peer}]}].\n")

    Check.match("an unknown optfile option: exit 2 naming it",
      {2, text} when is_binary(text),
      ConfigGw.run_to_exit(["--proto-dist", "inet_tls", "--ssl-dist-optfile", bad]))
    Check.eq("... the message names the option", true, fn ->
      {_, text} = ConfigGw.run_to_exit(["--proto-dist", "inet_tls", "--ssl-dist-optfile", bad])
      text =~ "server: unknown option 'verfy'"
    end, timeout: 30_000)

    bad_json = ConfigGw.path("tlsbad") <> ".json"
    File.write!(bad_json, ~s|{"dist": {"proto": "inet_tls", "ssl": {"server": {"certfile": "#{dir}/node.pem", "verfy": "verify_peer"}}}}|)

    Check.eq("an unknown key in the config's dist.ssl: exit 2 naming its path", {2, true}, fn ->
      {st, text} = ConfigGw.run_to_exit(["--config", bad_json])
      {st, text =~ "dist.ssl.server.verfy: unknown option"}
    end, timeout: 30_000)

    Check.eq("a missing certificate file: exit 2 naming it", {2, true}, fn ->
      missing = Path.join(dir, "missing.conf")
      File.write!(missing, "[{server, [{certfile, \"#{dir}/nope.pem\"}]}].\n")
      {st, text} = ConfigGw.run_to_exit(["--proto-dist", "inet_tls", "--ssl-dist-optfile", missing])
      {st, text =~ "nope.pem"}
    end, timeout: 30_000)

    Check.eq("--ssl-dist-optfile without inet_tls: exit 2", 2, fn ->
      {st, _} = ConfigGw.run_to_exit(["--ssl-dist-optfile", conf])
      st
    end, timeout: 30_000)

    Check.finish()
  end
end

Scenario.run()
