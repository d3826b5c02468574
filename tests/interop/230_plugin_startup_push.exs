# 230_plugin_startup_push: with config_pusher in its configuration file,
# pga pushes its plugins' PushConfig to every named gateway at start-up,
# as the library's ConfigPusher.push_on_startup does (issue 5), and keeps
# retrying while a gateway's receiver is not up yet.
Code.require_file("lib/check.exs", __DIR__)
Code.require_file("lib/plugin.exs", __DIR__)

defmodule PhoenixGenApi.ConfigReceiver do
  @moduledoc false
  # Stand-in receiver: records pushes; answers :accepted once `ready`.
  def start do
    {:ok, _} = Agent.start(fn -> %{pushes: [], ready: false} end, name: __MODULE__)
    :ok
  end

  def ready, do: Agent.update(__MODULE__, &%{&1 | ready: true})
  def pushes, do: Agent.get(__MODULE__, &Enum.reverse(&1.pushes))

  def push(cfg, opts) do
    Agent.get_and_update(__MODULE__, fn st ->
      if st.ready,
        do: {{:ok, :accepted}, %{st | pushes: [{cfg, opts} | st.pushes]}},
        else: {{:error, :not_ready}, st}
    end)
  end
end

defmodule Scenario do
  require Check
  alias PhoenixGenApi.ConfigReceiver, as: Recv

  def run do
    :ok = Recv.start()
    Recv.ready()
    me = Atom.to_string(node())
    conf = Path.join(Check.run_dir(), "pusher_#{System.unique_integer([:positive])}.json")

    File.write!(conf, """
    {"push_token": "tok", "config_pusher": {"gateways": ["#{me}"],
      "service": "pga_example", "config_version": "v-startup", "force": true,
      "retries": 5, "backoff": 200}}
    """)

    case PgaPlugin.plugin("pga_example") do
      nil ->
        Check.run("example plugin built (skipped)", fn -> :ok end)

      so ->
        pga = PgaPlugin.start("startpush", ["--config", conf, "--plugin", so])

        Check.eq("the gateway receives pga's PushConfig at start-up", {"pga_example", "v-startup", "tok", [force: true]}, fn ->
          Check.wait_until(fn -> Recv.pushes() != [] end, 15_000)
          case Recv.pushes() do
            [{cfg, opts} | _] -> {cfg.service, cfg.config_version, cfg.push_token, opts}
            [] -> :no_push
          end
        end)

        Check.eq("the pushed FunConfigs name pga's node and are complete structs", true, fn ->
          [{cfg, _} | _] = Recv.pushes()
          Enum.all?(cfg.fun_configs, &(&1.nodes == [pga.node] and map_size(&1) == 19))
        end)

        Check.eq("a bad config_pusher key stops pga-node with status 2", 2, fn ->
          bad = conf <> ".bad"
          File.write!(bad, ~s({"config_pusher": {"gateways": ["#{me}"], "retrys": 1}}))
          n = PgaPlugin.start("badpush", ["--config", bad], wait: false)
          {status, _lines} = PgaPlugin.await_exit(n, 10_000)
          status
        end)

        PgaPlugin.stop(pga)
    end
  end
end

Scenario.run()
Check.finish()
