# 500_channels: Phoenix Channels clients connect to pga directly (issue
# 10). Two private gateways with an "endpoint": one verifying Phoenix.Token
# (check_origin, a 1.5 s heartbeat timeout), one public ("auth": "none").
# A real Elixir service node serves sync, async, none and stream functions;
# the real `phoenix` npm client (tests/clients, with `ws`) runs
# tests/clients/channels.test.js against them and its check lines count
# here. Tokens are minted by Token.sign/5 below, following Plug.Crypto's
# rules (Debian has no plug_crypto). Afterwards: the streams of a client
# that left or disconnected were stopped, and wrong endpoint settings stop
# pga-node with exit status 2 naming the key.
Code.require_file("lib/check.exs", __DIR__)
Code.require_file("lib/config_structs.exs", __DIR__)
Code.require_file("lib/config_gw.exs", __DIR__)
Code.require_file("lib/plugin.exs", __DIR__)

# Phoenix.Token.sign/4 by Plug.Crypto's rules: PBKDF2-HMAC-SHA256 key
# (1000 iterations, 32 bytes), HS256 over "SFMyNTY.<payload>", payload the
# ETF of {data, signed_at_ms, max_age_s} (or, older, a map).
defmodule Token do
  def sign(secret, salt, data, signed_ms, max_age, form \\ :tuple) do
    key = :crypto.pbkdf2_hmac(:sha256, secret, salt, 1000, 32)
    term = if form == :map, do: %{data: data, signed: signed_ms}, else: {data, signed_ms, max_age}
    payload = Base.url_encode64(:erlang.term_to_binary(term), padding: false)
    plain = "SFMyNTY." <> payload
    plain <> "." <> Base.url_encode64(:crypto.mac(:hmac, :sha256, key, plain), padding: false)
  end
end

defmodule Scenario do
  require Check
  alias PhoenixGenApi.Structs.PushConfig

  @secret "pga-test-secret-key-base-0123456789abcdefghijklmnopqrstuvwxyz0123"
  @salt "user socket"

  @service """
  defmodule Svc do
    def echo(msg), do: {:ok, msg}
    def double(n), do: {:ok, n * 2}
    def slow(ms), do: (Process.sleep(ms); {:ok, "done \#{ms}"})
    def fire(_msg), do: :ok
    def whoami(%{user_id: u}), do: {:ok, u}
    def stream(n, %{stream_pid: pid}) do
      spawn(fn ->
        for i <- 1..n, do: send(pid, {:result, %{i: i}})
        send(pid, {:last_result, "end"})
      end)
      {:ok, "started"}
    end
    # chunks every 50 ms until the relay goes; its request_id is recorded
    def endless(%{stream_pid: pid, request_id: rid}) do
      spawn(fn ->
        ref = Process.monitor(pid)
        loop(pid, ref, rid, 1)
      end)
      {:ok, "started"}
    end
    defp loop(pid, ref, rid, i) do
      receive do
        {:DOWN, ^ref, _, _, _} -> Agent.update(:stopped, &[rid | &1])
      after 50 ->
        send(pid, {:result, %{i: i}})
        loop(pid, ref, rid, i + 1)
      end
    end
    def stopped, do: Agent.get(:stopped, & &1)
  end
  # rpc auth: connect(params, connect_info) -> {:ok, user_id} | :error
  defmodule Auth do
    def connect(%{"user" => u, "pass" => "secret"},
                %{peer_data: %{address: {127, 0, 0, 1}, port: p}, headers: h})
        when is_integer(p),
        do: {:ok, u <> "/" <> Map.get(h, "x-tenant", "-")}
    def connect(_params, _info), do: :error
  end
  {:ok, _} = Agent.start(fn -> [] end, name: :stopped)
  """

  def fun_configs(svc) do
    base = [service: "svc", choose_node_mode: :random, timeout: 10_000, version: nil]
    f = fn over -> ConfigFixtures.f(svc, Keyword.merge(base, over)) end
    [
      f.(request_type: "echo", mfa: {Svc, :echo, []}, arg_types: %{"msg" => :string},
        arg_orders: ["msg"]),
      f.(request_type: "double", mfa: {Svc, :double, []}, arg_types: %{"n" => :num},
        arg_orders: ["n"]),
      f.(request_type: "slow", mfa: {Svc, :slow, []}, arg_types: %{"ms" => :num},
        arg_orders: ["ms"], response_type: :async),
      f.(request_type: "fire", mfa: {Svc, :fire, []}, arg_types: %{"msg" => :string},
        arg_orders: ["msg"], response_type: :none),
      f.(request_type: "whoami", mfa: {Svc, :whoami, []}, request_info: true),
      f.(request_type: "stream", mfa: {Svc, :stream, []}, arg_types: %{"n" => :num},
        arg_orders: ["n"], response_type: :stream, request_info: true),
      f.(request_type: "endless", mfa: {Svc, :endless, []}, response_type: :stream,
        request_info: true)
    ]
  end

  def token_json do
    """
    {"endpoint": {"listen": "127.0.0.1:0", "path": "/socket",
      "topics": ["gen_api:*", "room:lobby"], "event": "phoenix_gen_api",
      "auth": {"phoenix_token": {"secret_key_base": "#{@secret}",
               "salt": "#{@salt}", "max_age": 86400}},
      "check_origin": ["https://app.example.com"],
      "certfile": null, "keyfile": null,
      "max_frame_bytes": 1048576, "heartbeat_timeout_ms": 1500}}
    """
  end

  def rpc_json(svc) do
    """
    {"endpoint": {"listen": "127.0.0.1:0", "topics": ["gen_api:*"],
      "auth": {"rpc": {"node": "#{svc}", "module": "Elixir.Auth",
                       "function": "connect", "headers": ["x-tenant"],
                       "timeout": 5000}}}}
    """
  end

  # wss: a self-signed certificate for 127.0.0.1 made with the openssl CLI
  def tls_files do
    dir = ConfigGw.path("tls")
    File.mkdir_p!(dir)
    {_, 0} = System.cmd("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes",
      "-keyout", Path.join(dir, "key.pem"), "-out", Path.join(dir, "cert.pem"), "-days", "2",
      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], stderr_to_stdout: true)
    {Path.join(dir, "cert.pem"), Path.join(dir, "key.pem")}
  end

  def tls_json({cert, key}) do
    """
    {"endpoint": {"listen": "127.0.0.1:0", "topics": ["gen_api:*"], "auth": "none",
      "require_verified_user_id": false, "certfile": "#{cert}", "keyfile": "#{key}"}}
    """
  end

  def open_json do
    """
    {"endpoint": {"listen": "127.0.0.1:0", "topics": ["room:lobby"],
      "auth": "none", "check_origin": false}}
    """
  end

  # The endpoint's URL from the "listening on" log line.
  def ws_url(gw) do
    Check.wait_until(fn -> find_url(gw) end, 10_000)
    find_url(gw)
  end

  def wss_url(gw) do
    Check.wait_until(fn -> find_url(gw, "wss") end, 10_000)
    find_url(gw, "wss")
  end

  defp find_url(gw, scheme \\ "ws") do
    case Regex.run(~r{endpoint: listening on (#{scheme}://\S+)/websocket}, ConfigGw.read_log(gw.log)) do
      [_, url] -> url
      _ -> nil
    end
  end

  def push(gw, svc) do
    push = %PushConfig{service: "svc", nodes: [svc], config_version: "1",
      fun_configs: fun_configs(svc)}
    :rpc.call(gw.node, PhoenixGenApi.ConfigReceiver, :push, [push, [force: true]], 5000)
  end

  # Runs the JS tests; their "ok"/"not ok" lines count as this scenario's
  # checks. "@stop RID" lines ask for PhoenixGenApi.stop_stream(RID).
  def run_js(env, gw) do
    js = Path.join([__DIR__, "..", "clients", "channels.test.js"])
    node = System.find_executable("node")
    port = Port.open({:spawn_executable, node}, [:binary, :exit_status, :stderr_to_stdout,
      {:line, 8192}, args: [js], env: Enum.map(env, fn {k, v} -> {~c"#{k}", ~c"#{v}"} end)])
    js_lines(port, gw, 0, nil)
  end

  defp js_lines(port, gw, seen, done) do
    receive do
      {^port, {:data, {_, "@done " <> n}}} ->
        js_lines(port, gw, seen, String.to_integer(n))
      {^port, {:data, {_, "@stop " <> rid}}} ->
        r = :rpc.call(gw.node, PhoenixGenApi, :stop_stream, [rid], 5000)
        if r != :ok, do: Check.diag("stop_stream(#{rid}) -> #{inspect(r)}")
        js_lines(port, gw, seen, done)
      {^port, {:data, {_, line}}} ->
        check = String.starts_with?(line, "ok - ") or String.starts_with?(line, "not ok - ")
        cond do
          check ->
            Process.put(:check_count, Process.get(:check_count, 0) + 1)
            if String.starts_with?(line, "not"),
              do: Process.put(:check_failed, Process.get(:check_failed, 0) + 1)
            IO.puts(line)
          String.starts_with?(line, "#") -> IO.puts(line)
          true -> IO.puts("#   | " <> line)
        end
        js_lines(port, gw, if(check, do: seen + 1, else: seen), done)
      {^port, {:exit_status, st}} -> {st, seen, done}
    after
      Check.tmo(300_000) -> {:timeout, seen, done}
    end
  end

  def exits_naming(name, endpoint, key) do
    Check.run("wrong endpoint setting stops pga-node with status 2 naming #{key} (#{name})", fn ->
      cfg = ConfigGw.path("bad") <> ".json"
      File.write!(cfg, ~s({"endpoint": #{endpoint}}))
      case ConfigGw.run_to_exit(["--config", cfg]) do
        {2, text} -> if String.contains?(text, key), do: :ok, else: {:fail, "no #{key}", text}
        other -> {:fail, "exit", other}
      end
    end, timeout: 30_000)
  end

  def run do
    ConfigGw.require_binary!()
    node_js = System.find_executable("node")
    mods = Path.join([__DIR__, "..", "clients", "node_modules", "phoenix"])
    Check.eq("Node.js and the phoenix npm client are installed (.ci/install-deps)", true,
      fn -> node_js != nil and File.dir?(mods) end)
    if node_js == nil or not File.dir?(mods), do: Check.finish()

    {_port, _ospid, svc} = Check.start_node("svc", "Process.sleep(:infinity)", setup: @service)
    tgw = ConfigGw.start_with_config("wstok", token_json())
    ogw = ConfigGw.start_with_config("wsopen", open_json())
    rgw = ConfigGw.start_with_config("wsrpc", rpc_json(svc))
    tls = tls_files()
    sgw = ConfigGw.start_with_config("wss", tls_json(tls))
    Check.eq("the service pushes its FunConfigs to the gateways", List.duplicate({:ok, :accepted}, 4),
      fn -> [push(tgw, svc), push(ogw, svc), push(rgw, svc), push(sgw, svc)] end)
    surl = wss_url(sgw)
    turl = ws_url(tgw)
    ourl = ws_url(ogw)
    rurl = ws_url(rgw)
    Check.eq("pga-node logs the endpoint URL once listening", true,
      fn -> is_binary(turl) and is_binary(ourl) and is_binary(rurl) end)

    now = System.os_time(:millisecond)
    env = [
      {"PGA_WS_TOKEN_URL", turl}, {"PGA_WS_OPEN_URL", ourl}, {"PGA_WS_RPC_URL", rurl},
      {"PGA_WSS_URL", surl || ""}, {"PGA_WSS_CA", elem(tls, 0)},
      {"PGA_TOKEN_U1", Token.sign(@secret, @salt, "u1", now, 86400)},
      {"PGA_TOKEN_MAP", Token.sign(@secret, @salt, "u1", now, 86400, :map)},
      {"PGA_TOKEN_EXPIRED", Token.sign(@secret, @salt, "u1", now - 100_000_000, 86400)},
      {"PGA_TOKEN_WRONG_SALT", Token.sign(@secret, "other salt", "u1", now, 86400)},
      {"PGA_TMO_SCALE", to_string(Check.scale())}
    ] ++ if(o = System.get_env("PGA_CHANNELS_ONLY"), do: [{"PGA_ONLY", o}], else: [])
    {st, seen, done} = run_js(env, tgw)
    Check.eq("channels.test.js ran to completion (status 0 or 1, every test reported)",
      {true, seen}, fn -> {st in [0, 1], done} end)

    Check.run("health_check, statistics and debug_report carry the endpoint's figures", fn ->
      st = :rpc.call(tgw.node, PhoenixGenApi, :statistics, [], 5000).phoenix_gen_api.endpoint
      h = :rpc.call(tgw.node, PhoenixGenApi, :health_check, [], 5000).checks.phoenix_gen_api.checks.endpoint
      d = :rpc.call(tgw.node, PhoenixGenApi, :debug_report, [], 5000).endpoint
      keys = [:accepted, :bytes_in, :bytes_out, :connections, :joins, :refused, :requests, :status, :url]
      cond do
        Enum.sort(Map.keys(st)) != keys -> {:fail, "keys", st}
        st.url != turl <> "/websocket" -> {:fail, "url", st}
        System.get_env("PGA_CHANNELS_ONLY") == nil and
            (st.accepted < 1 or st.requests < 1 or st.bytes_in == 0 or st.bytes_out == 0) -> {:fail, "figures", st}
        h.status != :ok or d.status != :ok -> {:fail, "health/debug", {h, d}}
        true -> :ok
      end
    end)

    if System.get_env("PGA_CHANNELS_ONLY") == nil do
      Check.run("a client that leaves or disconnects stops its streams (the relays are gone)", fn ->
        got = Check.wait_until(fn ->
          s = :rpc.call(svc, Svc, :stopped, [])
          is_list(s) and "leave1" in s and "disc1" in s
        end, 5000)
        if got, do: :ok, else: {:fail, "streams still running", :rpc.call(svc, Svc, :stopped, [])}
      end, timeout: 10_000)
    end

    Check.eq("the gateways still answer", [:pong, :pong, :pong, :pong],
      fn -> [Node.ping(tgw.node), Node.ping(ogw.node), Node.ping(rgw.node), Node.ping(sgw.node)] end)

    exits_naming("a string", ~s({"topics": ["a"], "max_frame_bytes": "big"}), "endpoint.max_frame_bytes")
    exits_naming("no topics", ~s({"topics": []}), "endpoint.topics")
    exits_naming("bad listen", ~s({"listen": "nowhere", "topics": ["a"]}), "endpoint.listen")
    exits_naming("unknown key", ~s({"topics": ["a"], "colour": 1}), "endpoint.colour")
    exits_naming("bad topic pattern", ~s({"topics": ["a*b"]}), "endpoint.topics[0]")
    exits_naming("rpc auth without a node", ~s({"topics": ["a"], "auth": {"rpc": {"module": "M", "function": "f"}}}),
      "endpoint.auth.rpc.node")
    exits_naming("certfile without keyfile", ~s({"topics": ["a"], "certfile": "#{elem(tls, 0)}"}),
      "endpoint.keyfile")
    exits_naming("a certfile that is no certificate", ~s({"topics": ["a"], "certfile": "#{elem(tls, 1)}", "keyfile": "#{elem(tls, 1)}"}),
      "endpoint.certfile")
    exits_naming("bad auth", ~s({"topics": ["a"], "auth": {"phoenix_token": {"salt": "s"}}}),
      "endpoint.auth.phoenix_token.secret_key_base")

    # (under ASan a leak or error makes the exit status non-zero)
    # (stopped here: the ports belong to this process)
    stops = [ConfigGw.stop(tgw), ConfigGw.stop(ogw), ConfigGw.stop(rgw), ConfigGw.stop(sgw)]
    Check.eq("the four endpoint gateways exit with status 0 on SIGTERM", [0, 0, 0, 0], fn -> stops end)
    readme_demo()
    Check.finish()
  end

  # The README's demo: pga-node with the example plugin (its FunConfigs
  # stored as :local, local_services) and an endpoint;
  # tests/clients/demo.js runs a request and a stream.
  def readme_demo do
    Check.run("README demo: the example plugin through the endpoint (demo.js: add, ticks)", fn ->
      so = PgaPlugin.plugin("pga_example")
      name = Check.node_name("wsdemo")
      cfg = ConfigGw.path("demo") <> ".json"
      File.write!(cfg, """
      {"endpoint": {"listen": "127.0.0.1:0", "path": "/socket",
                    "topics": ["gen_api:*"], "auth": "none",
                    "require_verified_user_id": false}}
      """)
      log = ConfigGw.path("demo") <> ".err"
      {:ok, gw} = ConfigGw.start(name, ["--plugin", so, "--config", cfg], log)
      url = ws_url(gw)
      js = Path.join([__DIR__, "..", "clients", "demo.js"])
      {out, st} = System.cmd(System.find_executable("node"), [js, url], stderr_to_stdout: true)
      st_gw = ConfigGw.stop(gw)
      want = ~s(a1 3 end\nt1 "init" ...\n) <>
        ~s(t1 {"async":false,"can_retry":false,"error":null,"has_more":false,"request_id":"t1","result":"started","success":true} ...\n) <>
        ~s(t1 {"tick":1} ...\nt1 {"tick":2} ...\nt1 {"tick":3} ...\nt1 null end\n)
      if {st, out, st_gw} == {0, want, 0}, do: :ok, else: {:fail, "demo output, gateway exit", {st, out, st_gw}}
    end, timeout: 40_000)
  end
end

Scenario.run()
