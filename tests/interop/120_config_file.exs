# 120_config_file: pga-node --config FILE (README "Configuration file"):
# a private gateway started with a push token, an MFA allowlist and a
# service to pull (this node serves it) enforces all three; a file with an
# unknown key or a wrong type stops pga-node with exit status 2 and a
# message naming the key.
Code.require_file("lib/check.exs", __DIR__)
Code.require_file("lib/config_structs.exs", __DIR__)
Code.require_file("lib/config_gw.exs", __DIR__)

# What this node serves to the private gateway's puller.
defmodule MyApp.Order do
  def create, do: :ok
end

defmodule Sup do
  def get_config do
    {:ok, [ConfigFixtures.f(node(), request_type: "order", mfa: {MyApp.Order, :create, []}),
           ConfigFixtures.f(node(), request_type: "upcase")]}
  end
end

defmodule Scenario do
  require Check
  alias PhoenixGenApi.{ConfigDb, ConfigFailed, ConfigPuller, ConfigReceiver}
  import ConfigFixtures

  def config_json(me) do
    """
    {"push_token": "secret123",
     "mfa_allowlist": ["Elixir.MyApp.Order", ["Elixir.MyApp.Api", "create"], "os"],
     "detail_error": true,
     "gen_api": {"pull_interval": 500, "pull_timeout": 3000,
       "service_configs": [{"service": "file_svc", "nodes": [{"atom": "#{me}"}],
         "module": {"atom": "Elixir.Sup"}, "function": {"atom": "get_config"},
         "args": []}]}}
    """
  end

  def push(gw, pc), do: :rpc.call(gw, ConfigReceiver, :push, [pc, [force: false]], Check.tmo(5_000))
  def call(gw, m, f, a), do: :rpc.call(gw, m, f, a, Check.tmo(5_000))

  def run do
    ConfigGw.require_binary!()

    cfg = ConfigGw.path("config") <> ".json"
    File.write!(cfg, config_json(node()))
    name = Check.node_name("cfggw")
    log = ConfigGw.path("cfggw") <> ".err"
    started = ConfigGw.start(name, ["--config", cfg, "--log-level", "debug"], log)

    Check.match("pga-node starts with the configuration file", {:ok, _}, started)
    gw = name
    me = node()

    Check.run("one start-up summary at info level says what the file turns on", fn ->
      lines = log |> ConfigGw.read_log() |> String.split("\n") |> Enum.filter(&(&1 =~ " started; "))
      want = ["INFO pga-node #{name} started", "cookie from --cookie", "config #{cfg}: push token set",
              "mfa allowlist of 3", "detail_error", "pulls file_svc", "plugins: none",
              "listening on "]
      case lines do
        [line] -> Enum.all?(want, &String.contains?(line, &1)) || {:fail, "summary", line}
        other -> {:fail, "expected exactly one summary line", other}
      end
    end)

    Check.eq("service_configs: the file's service is registered (atom node)",
      {[me], Sup, :get_config, []}, fn ->
        %{"file_svc" => sc} = call(gw, ConfigPuller, :get_services, [])
        {sc.nodes, sc.module, sc.function, sc.args}
      end)

    # ---- push_token (§7) ----
    ok_fc = f(me, mfa: {MyApp.Order, :create, []})
    Check.eq("push_token: no token -> {:error, :invalid_push_token}",
      {:error, :invalid_push_token}, fn -> push(gw, p(me, fun_configs: [ok_fc])) end)
    Check.eq("push_token: wrong token -> {:error, :invalid_push_token}",
      {:error, :invalid_push_token},
      fn -> push(gw, p(me, fun_configs: [ok_fc], push_token: "secret123_extra")) end)
    Check.eq("push_token: the configured token -> {:ok, :accepted}", {:ok, :accepted},
      fn -> push(gw, p(me, fun_configs: [ok_fc], push_token: "secret123")) end)

    # ---- mfa_allowlist (§2.3) ----
    tok = [push_token: "secret123"]
    Check.eq("mfa_allowlist: a listed module allows any of its functions", {:ok, :accepted},
      fn -> push(gw, p(me, [config_version: "2",
        fun_configs: [f(me, mfa: {MyApp.Order, :delete, []})]] ++ tok)) end)
    Check.eq("mfa_allowlist: [module, function] allows exactly that function",
      [{:ok, :accepted}, {:error, :batch_add_failed}], fn ->
        [push(gw, p(me, [config_version: "3",
           fun_configs: [f(me, mfa: {MyApp.Api, :create, [1]})]] ++ tok)),
         push(gw, p(me, [config_version: "4",
           fun_configs: [f(me, mfa: {MyApp.Api, :delete, []})]] ++ tok))]
      end)
    Check.eq("mfa_allowlist: listing :os does not lift the denylist",
      {:error, :batch_add_failed}, fn ->
        push(gw, p(me, [config_version: "5", fun_configs: [f(me, mfa: {:os, :cmd, []})]] ++ tok))
      end)
    Check.eq("mfa_allowlist: ConfigDb.add of an unlisted module is refused",
      {:error, {:mfa_not_allowed, {String, :upcase, []}}},
      fn -> call(gw, ConfigDb, :add, [f(me, service: "Test", version: nil)]) end)

    # ---- the pull of the file's service (pull_interval 500) ----
    Check.eq("the file's service is pulled: allowed config stored, unlisted one refused",
      {["order", "upcase"], :ok, {:error, :not_found}, true}, fn ->
        true = Check.wait_until(fn -> call(gw, ConfigPuller, :get_api_list, ["file_svc"]) != nil end,
          10_000)
        {ok, _} = call(gw, ConfigDb, :get, ["file_svc", "order", "1.0.0"])
        failed = call(gw, ConfigFailed, :list, [[service: "file_svc"]])
        {call(gw, ConfigPuller, :get_api_list, ["file_svc"]), ok,
         call(gw, ConfigDb, :get, ["file_svc", "upcase", "1.0.0"]),
         Enum.any?(failed, &(&1.reason == ["MFA not allowed: {String, :upcase, []}"] and
           &1.node == nil))}
      end, timeout: 20_000)

    # (Port messages go to the port's owner: stop it from here.)
    st = case started do
      {:ok, g} -> ConfigGw.stop(g)
      other -> other
    end
    Check.eq("the gateway with a configuration file exits 0 on SIGTERM", 0, fn -> st end)

    # ---- errors: exit status 2, the key named ----
    bad = fn json ->
      file = ConfigGw.path("bad") <> ".json"
      File.write!(file, json)
      ConfigGw.run_to_exit(["--config", file])
    end
    Check.eq("an unknown key: exit 2 naming gen_api.pull_timout", {2, true}, fn ->
      {st, text} = bad.(~s({"gen_api": {"pull_timout": 5}}))
      {st, String.contains?(text, "gen_api.pull_timout: unknown key")}
    end, timeout: 40_000)
    Check.eq("a wrong type: exit 2 naming push_token", {2, true}, fn ->
      {st, text} = bad.(~s({"push_token": 123}))
      {st, String.contains?(text, "push_token: expected a string or null, got an integer")}
    end, timeout: 40_000)
    Check.eq("a file that is not JSON: exit 2 with the line and column", {2, true}, fn ->
      {st, text} = bad.("{\n  \"push_token\": \"x\",\n")
      {st, String.contains?(text, "line 3")}
    end, timeout: 40_000)
    Check.finish()
  end
end

Scenario.run()
