# 210_plugin_push: pga pushes its plugins' config to a gateway the way the
# library's ConfigPusher does (config-plane.md §4.1, §9): this node serves a
# stand-in PhoenixGenApi.ConfigReceiver.push/2 and verify/2 that records the
# calls and answers as told; pga_node:push_config/2 and verify_config/2
# return the pusher's interpreted reply, and retry while a gateway is down.
Code.require_file("lib/check.exs", __DIR__)
Code.require_file("lib/plugin.exs", __DIR__)

defmodule PhoenixGenApi.ConfigReceiver do
  @moduledoc false
  # Stand-in: :real answers like the library's receiver (version skip unless
  # forced; verify matched/mismatch/not_found); {:fixed, r} answers r;
  # :raise raises.
  def start do
    {:ok, _} = Agent.start(fn -> %{mode: :real, calls: [], versions: %{}} end, name: __MODULE__)
    :ok
  end

  def mode(m), do: Agent.update(__MODULE__, &%{&1 | mode: m})
  def calls, do: Agent.get(__MODULE__, &Enum.reverse(&1.calls))
  def clear, do: Agent.update(__MODULE__, &%{&1 | calls: [], versions: %{}})

  def push(cfg), do: push(cfg, [])
  def push(cfg, opts), do: handle({:push, cfg, opts})
  def verify(service, version), do: handle({:verify, service, version})

  defp handle(call) do
    {mode, reply} =
      Agent.get_and_update(__MODULE__, fn st ->
        {r, versions} = answer(st.mode, call, st.versions)
        {{st.mode, r}, %{st | calls: [call | st.calls], versions: versions}}
      end)

    if mode == :raise, do: raise(ArgumentError, "receiver down"), else: reply
  end

  defp answer({:fixed, r}, _, v), do: {r, v}
  defp answer(:raise, _, v), do: {nil, v}

  defp answer(:real, {:push, cfg, opts}, v) do
    if Map.get(v, cfg.service) == cfg.config_version and opts[:force] != true,
      do: {{:ok, :skipped, :version_matches}, v},
      else: {{:ok, :accepted}, Map.put(v, cfg.service, cfg.config_version)}
  end

  defp answer(:real, {:verify, s, version}, v) do
    case Map.fetch(v, s) do
      :error -> {{:error, :not_found}, v}
      {:ok, ^version} -> {{:ok, :matched}, v}
      {:ok, other} -> {{:ok, :mismatch, other}, v}
    end
  end
end

defmodule Scenario do
  require Check
  alias PhoenixGenApi.ConfigReceiver, as: Recv
  alias PhoenixGenApi.Structs.{FunConfig, PushConfig}

  def push(pga, gw, opts), do: :rpc.call(pga, :pga_node, :push_config, [gw, opts], Check.tmo(60_000))
  def verify(pga, gw, opts), do: :rpc.call(pga, :pga_node, :verify_config, [gw, opts], Check.tmo(60_000))

  def run do
    :ok = Recv.start()

    case PgaPlugin.serving() do
      {:skip, why} ->
        Check.diag("skipped: " <> why)
        Check.run("plugins served (skipped: #{why |> String.split("\n") |> hd()})", fn -> :ok end)
        Check.finish()

      serving ->
        run(serving, PgaPlugin.node_of(serving))
    end
  end

  def run(serving, pga) do
    me = node()
    ex = [service: "pga_example"]

    Check.eq("push_config/1 with two services loaded -> {:error, :service_required}",
      {:error, :service_required}, fn -> :rpc.call(pga, :pga_node, :push_config, [me]) end)

    Recv.clear()
    Check.eq("push_config(gw, service: \"pga_example\") -> {:ok, :accepted}", {:ok, :accepted},
      fn -> push(pga, me, ex) end)
    [call | _] = Recv.calls() ++ [nil]

    Check.match("the receiver got push(%PushConfig{}, [force: false]), once",
      [{:push, %PushConfig{}, [force: false]}], Recv.calls())
    Check.eq("the PushConfig is complete (12 keys) and names the pull supporter", [], fn ->
      {:push, pc, _} = call
      version = :rpc.call(pga, :pga_node, :get_config_version, ["pga_example"])
      want = %{service: "pga_example", nodes: [pga], config_version: version,
               module: :pga_node, function: :get_config, version_module: :pga_node,
               version_function: :get_config_version, args: ["pga_example"],
               version_args: ["pga_example"], push_token: nil}
      bad = for {k, v} <- want, Map.get(pc, k) !== v, do: {k, Map.get(pc, k)}
      if map_size(pc) == 12, do: bad, else: [{:size, map_size(pc)} | bad]
    end)
    Check.eq("its fun_configs are what get_config returns, and a gateway accepts them", {true, []},
      fn ->
        {:push, pc, _} = call
        {:ok, pulled} = :rpc.call(pga, :pga_node, :get_config, ["pga_example"])
        {pc.fun_configs == pulled,
         for(%FunConfig{} = fc <- pc.fun_configs, GwStandin.validate(fc) != [], do: fc.request_type)}
      end)
    Check.eq("auto-pull with the pushed module/function/args and version probe agrees", true, fn ->
      {:push, pc, _} = call
      {:ok, pc.fun_configs} == :rpc.call(pga, pc.module, pc.function, pc.args) and
        pc.config_version == :rpc.call(pga, pc.version_module, pc.version_function, pc.version_args)
    end)

    Check.eq("same push again -> the receiver's {:ok, :skipped, :version_matches} passes through",
      {:ok, :skipped, :version_matches}, fn -> push(pga, me, ex) end)
    Check.eq("force: true reaches the receiver and is accepted", {{:ok, :accepted}, [force: true]},
      fn ->
        r = push(pga, me, ex ++ [force: true])
        {:push, _, opts} = List.last(Recv.calls())
        {r, opts}
      end)
    Check.eq("config_version and push_token options are sent", {"v7", "tok"}, fn ->
      push(pga, me, ex ++ [config_version: "v7", push_token: "tok"])
      {:push, pc, _} = List.last(Recv.calls())
      {pc.config_version, pc.push_token}
    end)

    Check.eq("verify_config -> receiver.verify(service, version): {:ok, :mismatch, \"v7\"}",
      {{:ok, :mismatch, "v7"}, {:verify, "pga_example",
                                :rpc.call(pga, :pga_node, :get_config_version, ["pga_example"])}},
      fn ->
        r = verify(pga, me, ex)
        {r, List.last(Recv.calls())}
      end)
    Check.eq("verify_config with the pushed version -> {:ok, :matched}", {:ok, :matched},
      fn -> verify(pga, me, ex ++ [config_version: "v7"]) end)
    Check.eq("verify_config of a service the gateway lacks -> {:error, :not_found}",
      {:error, :not_found}, fn -> verify(pga, me, service: "pga_test") end)

    Recv.mode({:fixed, {:error, :invalid_push_token}})
    Check.eq("the receiver's {:error, r} passes through", {:error, :invalid_push_token},
      fn -> push(pga, me, ex) end)
    Recv.mode({:fixed, :ok})
    Check.eq("an unexpected reply -> {:error, {:unexpected_reply, r}}",
      {:error, {:unexpected_reply, :ok}}, fn -> push(pga, me, ex) end)
    Recv.mode(:raise)
    Check.match("a receiver that raises -> {:error, {:badrpc, {:EXIT, _}}}",
      {:error, {:badrpc, {:EXIT, {%ArgumentError{}, _}}}}, push(pga, me, ex))
    Recv.mode(:real)

    # ---- a gateway that is down ----
    nobody = Check.node_name("nobody")
    Check.match("gateway down: retries with backoff, then {:error, {:badrpc, :nodedown}}",
      {ms, {:error, {:badrpc, :nodedown}}} when ms >= 280,
      Check.timed(fn -> push(pga, nobody, ex ++ [retries: 2, backoff: 100]) end),
      timeout: 30_000)
    Check.match("retries: 0 gives up at once",
      {ms, {:error, {:badrpc, :nodedown}}} when ms < 2_000,
      Check.timed(fn -> push(pga, nobody, ex ++ [retries: 0]) end), timeout: 10_000)

    late_setup = """
    defmodule PhoenixGenApi.ConfigReceiver do
      def push(cfg, [force: false]), do: if(cfg.service == "pga_example", do: {:ok, :accepted}, else: :bad)
    end
    """
    Check.match("a gateway that comes up during the retries gets the push",
      {ms, {:ok, :accepted}} when ms >= 100,
      (
        {_, late} = opening = Check.open_node("late", "Process.sleep(:infinity)", setup: late_setup)
        t = Task.async(fn ->
          Check.timed(fn -> push(pga, late, ex ++ [retries: 40, backoff: 100, max_backoff: 400]) end)
        end)
        Check.await_node(opening)
        Task.await(t, Check.tmo(60_000))
      ), timeout: 60_000)

    # ---- bad calls ----
    Check.eq("bad options -> {:error, {:badarg, :opts}}",
      [{:error, {:badarg, :opts}}, {:error, {:badarg, :opts}}, {:error, {:badarg, :opts}}],
      fn ->
        [push(pga, me, :force), push(pga, me, [config_version: ""] ++ ex),
         push(pga, me, [timeout: -1] ++ ex)]
      end)
    Check.eq("a gateway that is not an atom -> {:error, {:badarg, :gateway}}",
      {:error, {:badarg, :gateway}}, fn -> push(pga, "gw@host", ex) end)
    Check.eq("an unknown service -> {:error, {:unknown_service, \"nope\"}}",
      {:error, {:unknown_service, "nope"}}, fn -> push(pga, me, service: "nope") end)

    PgaPlugin.finish(serving)
    Check.finish()
  end
end

Scenario.run()
