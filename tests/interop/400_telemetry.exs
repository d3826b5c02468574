# 400_telemetry: PhoenixGenApi.Telemetry and the attach_telemetry functions on
# the gateway (ops-plane.md §3, §6; acceptance cases 38, 39, 40 of §10):
# the catalogue, guards, handler ids (duplicates, detach), and delivery of
# config events to pid handlers, to funs (run on this node through rex) and
# to {m, f} handlers; a dead pid handler is detached by its monitor.
Code.require_file("lib/check.exs", __DIR__)
Code.require_file("lib/config_structs.exs", __DIR__)

defmodule TelSink do
  # The {m, f} handler: runs here through the gateway's rpc cast.
  def handle(event, meas, meta, config), do: send(:tel_sink, {:mf_got, event, meas, meta, config})
end

defmodule TelPull do
  # What the gateway's puller calls on this node.
  def get_config, do: {:ok, [ConfigFixtures.f(node(), service: "tel_pull", request_type: "p1")]}
end

defmodule Wait do
  # The next message matching pattern within ms (scaled), else :none.
  defmacro next(pattern, ms \\ 2_000) do
    quote do
      receive do
        unquote(pattern) = m -> m
      after
        Check.tmo(unquote(ms)) -> :none
      end
    end
  end
end

defmodule Scenario do
  require Check
  import Wait
  alias PhoenixGenApi.{ConfigDb, ConfigReceiver, Telemetry}

  @svc "tel_service"

  def fc(rt, over \\ []), do: ConfigFixtures.f(node(), [service: @svc, request_type: rt] ++ over)

  def rpc(gw, f, a), do: :rpc.call(gw, PhoenixGenApi, f, a, Check.tmo(5_000))
  def tel(gw, f, a), do: :rpc.call(gw, Telemetry, f, a, Check.tmo(5_000))
  def db(gw, f, a), do: :rpc.call(gw, ConfigDb, f, a, Check.tmo(5_000))

  # A registered sink on this node that forwards what it gets to `to`.
  def sink(to) do
    if pid = Process.whereis(:tel_sink), do: Process.exit(pid, :kill)
    Process.sleep(20)
    pid = spawn(fn -> sink_loop(to) end)
    Process.register(pid, :tel_sink)
    pid
  end

  defp sink_loop(to) do
    receive do
      m -> send(to, m); sink_loop(to)
    end
  end

  def run do
    gw = Check.gw()
    true = Node.connect(gw)

    # ---- catalogue (case 38) ----
    Check.run("list_events: 30 lists, first and last (case 38)", fn ->
      evs = tel(gw, :list_events, [])
      (length(evs) == 30 and hd(evs) == [:phoenix_gen_api, :executor, :request, :start] and
         List.last(evs) == [:phoenix_gen_api, :config, :enable] and
         Enum.all?(evs, &match?([:phoenix_gen_api | _], &1))) || {:fail, "catalogue", evs}
    end)
    Check.eq("list_events order of the config family",
      [[:config, :pull, :start], [:config, :pull, :stop], [:config, :push], [:config, :add],
       [:config, :batch_add], [:config, :delete], [:config, :clear], [:config, :disable],
       [:config, :enable]],
      fn -> tel(gw, :list_events, []) |> Enum.drop(21) |> Enum.map(&tl/1) end)

    # ---- guards and ids (case 39) ----
    Check.eq("attach_telemetry with a 4-ary fun -> :ok (case 39)", :ok,
      fn -> rpc(gw, :attach_telemetry, ["ops", fn _e, _m, _md, _c -> :ok end]) end)
    Check.match("attach_telemetry with a 1-ary fun -> function_clause",
      {:badrpc, {:EXIT, {:function_clause, _}}},
      rpc(gw, :attach_telemetry, ["ops1", fn _ -> :ok end]))
    Check.match("attach_telemetry with an atom id -> function_clause",
      {:badrpc, {:EXIT, {:function_clause, _}}},
      rpc(gw, :attach_telemetry, [:ops, fn _e, _m, _md, _c -> :ok end]))
    Check.eq("detach_telemetry(\"ops\") -> :ok", :ok, fn -> rpc(gw, :detach_telemetry, ["ops"]) end)
    Check.eq("detach_telemetry(\"never\") -> :ok", :ok, fn -> rpc(gw, :detach_telemetry, ["never"]) end)
    Check.match("detach_telemetry(:atom) -> function_clause",
      {:badrpc, {:EXIT, {:function_clause, _}}}, rpc(gw, :detach_telemetry, [:ops]))
    Check.eq("export fun &Mod.f/4 accepted", :ok,
      fn -> tel(gw, :attach_config, ["exp", &TelSink.handle/4, %{}]) end)
    Check.eq("... and detached", :ok, fn -> tel(gw, :detach_all, ["exp"]) end)
    Check.match("attach_many with a non-list -> function_clause",
      {:badrpc, {:EXIT, {:function_clause, _}}},
      tel(gw, :attach_many, ["m", :nope, fn _e, _m, _md, _c -> :ok end]))
    Check.match("attach_many with a non-atom event -> badarg",
      {:badrpc, {:EXIT, {:badarg, _}}},
      tel(gw, :attach_many, ["m", [["x"]], fn _e, _m, _md, _c -> :ok end]))
    Check.match("span/3 is not served (undef)",
      {:badrpc, {:EXIT, {:undef, _}}}, tel(gw, :span, [[:x], %{}, fn -> :ok end]))
    Check.eq("default logger attach/detach", {:ok, :ok, :ok},
      fn ->
        {tel(gw, :attach_default_logger, []), tel(gw, :attach_default_logger, ["lg"]),
         tel(gw, :detach_default_logger, []) && tel(gw, :detach_default_logger, ["lg"])}
      end)

    # ---- pid handler gets a real ConfigDb.add (case 40) ----
    Check.run("pid handler receives [:config, :add] (case 40)", fn ->
      :ok = tel(gw, :attach_config, ["t", self()])
      :ok = db(gw, :add, [fc("tel_add")])
      got = next({:telemetry_event, [:phoenix_gen_api, :config, :add], _, _, _})
      :ok = tel(gw, :detach_all, ["t"])
      want = {:telemetry_event, [:phoenix_gen_api, :config, :add], %{},
              %{service: @svc, request_type: "tel_add", version: "1.0.0"}, %{}}
      got == want || {:fail, "event", got}
    end)

    Check.run("config events: update, disable, enable, delete, batch_add, push", fn ->
      :ok = tel(gw, :attach_config, ["t2", self(), %{who: :me}])
      :ok = db(gw, :update, [fc("tel_upd", version: "2.0.0")])
      upd = next({:telemetry_event, [_, :config, :add], _, _, _})
      :ok = db(gw, :disable, [@svc, "tel_upd", "2.0.0"])
      dis = next({:telemetry_event, [_, :config, :disable], _, _, _})
      {:error, :not_found} = db(gw, :enable, [@svc, "no_such"])
      :ok = db(gw, :enable, [@svc, "tel_upd", "2.0.0"])
      en = next({:telemetry_event, [_, :config, :enable], _, _, _})
      :ok = db(gw, :delete, [@svc, "never_stored"])
      del = next({:telemetry_event, [_, :config, :delete], _, _, _})
      {:ok, 2} = db(gw, :batch_add, [[fc("tel_b1"), fc("tel_b2")]])
      ba = next({:telemetry_event, [_, :config, :batch_add], _, _, _})
      push = ConfigFixtures.p(node(), service: "tel_push", config_version: "9.9.9",
        fun_configs: [ConfigFixtures.f(node(), service: "tel_push", request_type: "p1")])
      {:ok, :accepted} = :rpc.call(gw, ConfigReceiver, :push, [push, [force: true]])
      pba = next({:telemetry_event, [_, :config, :batch_add], _, _, _})
      pu = next({:telemetry_event, [_, :config, :push], _, _, _})
      stray = next({:telemetry_event, [_, :config, :enable], _, _, _}, 300)
      :ok = tel(gw, :detach_all, ["t2"])
      cfg = %{who: :me}
      checks = [
        {upd, {:telemetry_event, [:phoenix_gen_api, :config, :add], %{},
               %{service: @svc, request_type: "tel_upd", version: "2.0.0"}, cfg}},
        {dis, {:telemetry_event, [:phoenix_gen_api, :config, :disable], %{},
               %{service: @svc, request_type: "tel_upd", version: "2.0.0"}, cfg}},
        {en, {:telemetry_event, [:phoenix_gen_api, :config, :enable], %{},
              %{service: @svc, request_type: "tel_upd", version: "2.0.0"}, cfg}},
        {del, {:telemetry_event, [:phoenix_gen_api, :config, :delete], %{},
               %{service: @svc, request_type: "never_stored", version: nil}, cfg}},
        {ba, {:telemetry_event, [:phoenix_gen_api, :config, :batch_add], %{count: 2},
              %{service: @svc}, cfg}},
        {pba, {:telemetry_event, [:phoenix_gen_api, :config, :batch_add], %{count: 1},
               %{service: "tel_push"}, cfg}},
        {pu, {:telemetry_event, [:phoenix_gen_api, :config, :push], %{count: 1},
              %{service: "tel_push", version: "9.9.9"}, cfg}},
        {stray, :none}
      ]
      case Enum.reject(checks, fn {got, want} -> got == want end) do
        [] -> :ok
        bad -> {:fail, "mismatches (got, want)", bad}
      end
    end)

    # ---- fun handler runs on this node ----
    Check.run("fun handler runs on its home node with its config", fn ->
      sink(self())
      f = fn e, m, md, c -> send(:tel_sink, {:fun_got, e, m, md, c, node()}) end
      :ok = tel(gw, :attach_config, ["fun-sub", f, %{tag: 1}])
      :ok = db(gw, :delete, [@svc, "tel_add", "1.0.0"])
      got = next({:fun_got, _, _, _, _, _})
      want = {:fun_got, [:phoenix_gen_api, :config, :delete], %{},
              %{service: @svc, request_type: "tel_add", version: "1.0.0"}, %{tag: 1}, node()}
      got == want || {:fail, "fun delivery", got}
    end)
    Check.run("detach_all stops delivery to the fun", fn ->
      sink(self())
      :ok = tel(gw, :detach_all, ["fun-sub"])
      :ok = db(gw, :delete, [@svc, "tel_add", "1.0.0"])
      next({:fun_got, _, _, _, _, _}, 500) == :none || {:fail, "delivered after detach"}
    end)
    Check.run("{m, f} handler is applied on the attaching node", fn ->
      sink(self())
      :ok = tel(gw, :attach_many, ["mf", [[:phoenix_gen_api, :config, :delete]], {TelSink, :handle}])
      :ok = db(gw, :delete, [@svc, "x"])
      got = next({:mf_got, _, _, _, _})
      :ok = tel(gw, :detach_all, ["mf"])
      got == {:mf_got, [:phoenix_gen_api, :config, :delete], %{},
              %{service: @svc, request_type: "x", version: nil}, %{}} || {:fail, "mf", got}
    end)

    Check.run("export fun &Mod.f/4 runs on the attaching node", fn ->
      sink(self())
      :ok = tel(gw, :attach_config, ["exp2", &TelSink.handle/4, %{e: 1}])
      :ok = db(gw, :delete, [@svc, "y"])
      got = next({:mf_got, _, _, _, _})
      :ok = tel(gw, :detach_all, ["exp2"])
      got == {:mf_got, [:phoenix_gen_api, :config, :delete], %{},
              %{service: @svc, request_type: "y", version: nil}, %{e: 1}} || {:fail, "export", got}
    end)

    # ---- ids: duplicates, suffix sets, execute/3 ----
    Check.run("a duplicate id keeps the first handler", fn ->
      me = self()
      other = spawn(fn -> receive do m -> send(me, {:other_got, m}) end end)
      :ok = tel(gw, :attach_config, ["dup", self(), %{first: true}])
      :ok = tel(gw, :attach_config, ["dup", other, %{first: false}])
      :ok = db(gw, :delete, [@svc, "dup"])
      mine = next({:telemetry_event, [_, :config, :delete], _, _, _})
      theirs = next({:other_got, _}, 300)
      :ok = tel(gw, :detach_all, ["dup"])
      (match?({:telemetry_event, _, _, _, %{first: true}}, mine) and theirs == :none) ||
        {:fail, "dup", {mine, theirs}}
    end)
    Check.run("Executor ids: -start/-stop/-exception, detach removes them", fn ->
      ev = [:phoenix_gen_api, :executor, :request, :start]
      :ok = :rpc.call(gw, PhoenixGenApi.Executor, :attach_telemetry, ["ex", self()])
      :ok = tel(gw, :execute, [ev, %{system_time: 1}, %{request_id: "r"}])
      got = next({:telemetry_event, ^ev, _, _, _})
      # the same id through Telemetry.attach_* is a different id scheme
      :ok = tel(gw, :attach_executor, ["ex", self()])
      :ok = tel(gw, :execute, [ev, %{system_time: 2}, %{}])
      two = [next({:telemetry_event, ^ev, _, _, _}), next({:telemetry_event, ^ev, _, _, _})]
      :ok = :rpc.call(gw, PhoenixGenApi.Executor, :detach_telemetry, ["ex"])
      :ok = tel(gw, :detach_all, ["ex"])
      :ok = tel(gw, :execute, [ev, %{system_time: 3}, %{}])
      after_detach = next({:telemetry_event, ^ev, _, _, _}, 300)
      (got == {:telemetry_event, ev, %{system_time: 1}, %{request_id: "r"}, %{}} and
         Enum.all?(two, &match?({:telemetry_event, _, %{system_time: 2}, _, _}, &1)) and
         after_detach == :none) || {:fail, "ids", {got, two, after_detach}}
    end)
    Check.run("PhoenixGenApi.attach_telemetry covers rate limiter events", fn ->
      ev = [:phoenix_gen_api, :rate_limiter, :reset]
      :ok = rpc(gw, :attach_telemetry, ["both", self()])
      :ok = tel(gw, :execute, [ev, %{}, %{key: "k"}])
      got = next({:telemetry_event, ^ev, _, _, _})
      :ok = :rpc.call(gw, PhoenixGenApi.RateLimiter, :detach_telemetry, ["both"])
      :ok = tel(gw, :execute, [ev, %{}, %{}])
      gone = next({:telemetry_event, ^ev, _, _, _}, 300)
      :ok = rpc(gw, :detach_telemetry, ["both"])
      (got == {:telemetry_event, ev, %{}, %{key: "k"}, %{}} and gone == :none) ||
        {:fail, "rl", {got, gone}}
    end)
    Check.run("execute/3 reaches custom-event handlers", fn ->
      :ok = tel(gw, :attach_many, ["cu", [[:my_app, :thing]], self(), %{c: 1}])
      :ok = tel(gw, :execute, [[:my_app, :thing], 5, %{x: 1}])
      got = next({:telemetry_event, [:my_app, :thing], _, _, _})
      :ok = tel(gw, :detach_all, ["cu"])
      :ok = tel(gw, :attach_many, ["cu", [[:my_app, :thing]], self()]) # id "cu-my_app-thing"
      :ok = tel(gw, :execute, [[:my_app, :thing], %{}, %{}])
      again = next({:telemetry_event, [:my_app, :thing], _, _, _})
      :ok = tel(gw, :detach_all, ["cu"])
      # detach_all only knows the 30 library events: the custom id stays
      still = tel(gw, :execute, [[:my_app, :thing], %{}, %{}]) &&
        next({:telemetry_event, [:my_app, :thing], _, _, _})
      (got == {:telemetry_event, [:my_app, :thing], %{value: 5}, %{x: 1}, %{c: 1}} and
         match?({:telemetry_event, _, _, _, _}, again) and
         match?({:telemetry_event, _, _, _, _}, still)) || {:fail, "custom", {got, again, still}}
    end)

    # ---- a dead pid handler is dropped ----
    Check.run("dead subscriber pid is detached; the id can be reused", fn ->
      victim = spawn(fn -> receive do :never -> :ok end end)
      :ok = tel(gw, :attach_config, ["dead", victim])
      Process.exit(victim, :kill)
      Process.sleep(Check.tmo(300))
      :ok = tel(gw, :attach_config, ["dead", self()])
      :ok = db(gw, :delete, [@svc, "dead"])
      got = next({:telemetry_event, [_, :config, :delete], _, _, _})
      :ok = tel(gw, :detach_all, ["dead"])
      match?({:telemetry_event, _, %{}, %{request_type: "dead"}, %{}}, got) ||
        {:fail, "re-attach after death", got}
    end)
    Check.run("a check process that ended is detached too (monitor)", fn ->
      parent = self()
      spawn(fn ->
        :ok = tel(gw, :attach_config, ["short", self()])
        send(parent, :attached)
      end)
      receive do :attached -> :ok after 2000 -> :ok end
      Process.sleep(Check.tmo(300))
      :ok = tel(gw, :attach_config, ["short", self()])
      :ok = db(gw, :delete, [@svc, "short"])
      got = next({:telemetry_event, [_, :config, :delete], _, _, _})
      :ok = tel(gw, :detach_all, ["short"])
      got != :none || {:fail, "id still held by a dead pid"}
    end)

    Check.run("a forced pull emits pull :start then :stop with its count (events 22, 23)", fn ->
      :ok = tel(gw, :attach_config, ["pull", self()])
      sc = %PhoenixGenApi.Structs.ServiceConfig{service: "tel_pull", nodes: [node()],
        module: TelPull, function: :get_config, args: []}
      :ok = :rpc.call(gw, PhoenixGenApi.ConfigPuller, :add, [[sc]], Check.tmo(5_000))
      :rpc.call(gw, PhoenixGenApi.ConfigPuller, :force_pull, [], Check.tmo(10_000))
      start = next({:telemetry_event, [_, :config, :pull, :start], _, %{service: "tel_pull"}, _}, 5_000)
      stop = next({:telemetry_event, [_, :config, :pull, :stop], _, %{service: "tel_pull"}, _}, 5_000)
      svcs = :rpc.call(gw, PhoenixGenApi.ConfigPuller, :get_services, [])
      :rpc.call(gw, PhoenixGenApi.ConfigPuller, :delete, [Map.values(svcs)])
      :ok = db(gw, :delete, ["tel_pull", "p1"])
      :ok = tel(gw, :detach_all, ["pull"])
      case {start, stop} do
        {{_, _, %{system_time: t}, _, _}, {_, _, %{duration_us: d, count: 1}, %{version: _}, _}}
        when is_integer(t) and is_integer(d) -> :ok
        other -> {:fail, "events", other}
      end
    end, timeout: 20_000)

    Check.eq("gateway still answers", :ok, fn -> tel(gw, :detach_all, ["nothing"]) end)
    Check.finish()
  end
end

Scenario.run()
