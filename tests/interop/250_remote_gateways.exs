# 250_remote_gateways: the Elixir adapter (erl/) against two real pga
# gateways, each serving the example plugin by itself (local_services).
# A channel using `use PhoenixGenApi.Remote` with its gateways from the
# application environment spreads users by rendezvous hashing; the same
# user stays on the same gateway; when one gateway is stopped mid-run its
# users move to the other (the noconnection is retried there) and the
# others do not move. Then the :telemetry bridge re-emits a gateway's
# events in this VM (skipped, visibly, when :telemetry is not on the code
# path: it is an optional dependency Debian does not package).
Code.require_file("lib/check.exs", __DIR__)
Code.require_file("lib/plugin.exs", __DIR__)

erl = Path.join(__DIR__, "../../erl/lib/phoenix_gen_api")

for f <- ["remote/gateways.ex", "remote.ex", "remote/telemetry.ex", "remote/application.ex"],
    do: Code.require_file(Path.join(erl, f))

defmodule Pusher do
  @moduledoc false
  def push(%{test: pid}, event, payload), do: send(pid, {:pushed, event, payload})
end

defmodule DemoChannel do
  @moduledoc false
  use PhoenixGenApi.Remote, pusher: {Pusher, :push}
end

defmodule Scenario do
  require Check
  alias PhoenixGenApi.Remote.Gateways

  @users for i <- 1..40, do: "user-#{i}"
  @start [:phoenix_gen_api, :executor, :request, :start]

  def socket(user), do: %{assigns: %{user_id: user}, test: self()}

  # One "add" per user through the channel; {user => {pushed, served_by}}.
  # The gateway that ran it is told by its telemetry (config names it).
  def run_round(tag, users \\ @users) do
    for user <- users, into: %{} do
      payload = %{"request_id" => "#{tag}-#{user}", "service" => "pga_example",
                  "request_type" => "add", "args" => %{"a" => 1, "b" => 2}}
      reply = DemoChannel.handle_in("phoenix_gen_api", payload, socket(user))

      pushed =
        receive do
          {:pushed, _, p} -> p
        after
          Check.tmo(5_000) -> :no_push
        end

      served =
        receive do
          {:telemetry_event, @start, _, %{user_id: ^user}, %{gw: gw}} -> gw
        after
          Check.tmo(2_000) -> :unknown
        end

      {user, {reply, pushed, served}}
    end
  end

  def all_ok?(results) do
    Enum.all?(results, fn {_, {reply, pushed, _}} ->
      match?({:reply, {:ok, "add"}, _}, reply) and match?(%{success: true, result: 3}, pushed)
    end)
  end

  def served(results), do: Map.new(results, fn {u, {_, _, gw}} -> {u, gw} end)

  def run do
    so = PgaPlugin.plugin("pga_example")

    if so == nil or PgaPlugin.binary() == nil do
      Check.run("two gateways (skipped: pga-node or the example plugin not built)", fn -> :ok end)
      Check.finish()
    end

    {:ok, _} = PhoenixGenApi.Remote.Application.start(:normal, [])
    a = PgaPlugin.start("remote_a", ["--plugin", so])
    b = PgaPlugin.start("remote_b", ["--plugin", so])
    gws = [a.node, b.node]
    Application.put_env(:pga_remote, :gateway, gws)

    for gw <- gws do
      :ok = :rpc.call(gw, PhoenixGenApi.Telemetry, :attach_many, ["who", [@start], self(), %{gw: gw}])
    end

    want = Map.new(@users, &{&1, hd(Gateways.order(gws, &1))})
    first = run_round("r1")

    Check.eq("both gateways up: every request answered", true, fn -> all_ok?(first) end)
    Check.eq("each user on its rendezvous gateway (user_id)", want, fn -> served(first) end)
    Check.eq("users are spread over both gateways", 2, fn ->
      first |> served() |> Map.values() |> Enum.uniq() |> length()
    end)

    again = run_round("r2")
    Check.eq("the same user goes to the same gateway", served(first), fn -> served(again) end)

    # Gateway A stops mid-run (after half the users of a round): from then
    # on its users move to B, B's users stay.
    {early, late} = Enum.split(@users, 20)
    r3 = run_round("r3", early)
    st = PgaPlugin.stop(a)
    Check.wait_until(fn -> a.node not in Node.list(:connected) end, 5_000)
    r3_late = run_round("r3", late)
    Check.eq("gateway A stopped mid-run (SIGTERM, exit 0)", 0, fn -> st end)
    Check.eq("every request of that round answered", true, fn -> all_ok?(Map.merge(r3, r3_late)) end)
    Check.eq("before the stop: as before", Map.take(want, early), fn -> served(r3) end)
    Check.eq("after it: A's users on B, B's users unmoved", Map.new(late, &{&1, b.node}),
      fn -> served(r3_late) end)
    Check.eq("some of them were A's (the retry ran)", true,
      fn -> Enum.any?(late, &(want[&1] == a.node)) end)
    after_stop = run_round("r4")
    Check.eq("the next round: every request answered on B", Map.new(@users, &{&1, b.node}),
      fn -> if all_ok?(after_stop), do: served(after_stop), else: after_stop end)

    Check.eq("the stopped gateway is marked down", true, fn -> Gateways.down?(a.node) end)

    telemetry_bridge(b.node)
    PgaPlugin.finish({:private, b})
    Check.finish()
  end

  def telemetry_bridge(gw) do
    if PhoenixGenApi.Remote.Telemetry.available?() do
      {:ok, _} = Application.ensure_all_started(:telemetry)
      me = self()
      event = [:phoenix_gen_api, :executor, :request, :stop]
      :ok = apply(:telemetry, :attach, ["local", event, fn e, m, md, _ -> send(me, {:local, e, m, md}) end, nil])
      {:ok, bridge} = PhoenixGenApi.Remote.Telemetry.attach(gw, id: "bridge")
      Check.wait_until(fn -> :sys.get_state(bridge).subscribed end, 5_000)
      payload = %{"request_id" => "tel-1", "service" => "pga_example",
                  "request_type" => "add", "args" => %{"a" => 2, "b" => 2}}
      DemoChannel.handle_in("phoenix_gen_api", payload, socket("tel-user"))

      got =
        receive do
          {:local, ^event, m, %{request_id: "tel-1"} = md} -> {Map.has_key?(m, :duration_us), md.success}
        after
          Check.tmo(5_000) -> :nothing
        end

      Check.eq(":telemetry bridge: pga's request :stop re-emitted locally", {true, true}, fn -> got end)
      :ok = PhoenixGenApi.Remote.Telemetry.detach(bridge)
    else
      Check.diag("skipped: :telemetry is not on the code path (optional dependency)")
      Check.run(":telemetry bridge (skipped: :telemetry not on the code path)", fn -> :ok end)
    end
  end
end

Scenario.run()
