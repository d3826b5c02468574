# 350_request_ops: the request plane's ops-facing parts on a gateway with
# its own --config: {m, f, a} node resolvers called by RPC on the service's
# own nodes, the async pool's circuit breaker (opens after the threshold of
# failed tasks, refuses with E9, closes after its cooldown), rate-limit
# logs kept apart per key type, and telemetry events of a real request
# (request-plane.md §7.3, §8.1, §9.4; ops-plane.md §4.7, §6.1; docs/compat.md
# R6, R15, R24, R25).
Code.require_file("lib/check.exs", __DIR__)
Code.require_file("lib/config_structs.exs", __DIR__)
Code.require_file("lib/config_gw.exs", __DIR__)

defmodule Scenario do
  require Check
  alias PhoenixGenApi.Structs.PushConfig

  @exec PhoenixGenApi.Executor

  @service """
  defmodule Svc do
    def nodes(tag), do: [tag, node()]
    def not_a_list, do: "not_a_list"
    def boom, do: raise("no nodes today")
    def hello(name), do: {:ok, "hi " <> name}
    def fail(_), do: {:error, :down}
  end
  """

  @config ~S({"detail_error": true,
    "rate_limiter": {"global_limits": [
      {"key": "user_id", "max_requests": 2, "window_ms": 60000},
      {"key": "device_id", "max_requests": 2, "window_ms": 60000}]},
    "worker_pool": {"circuit_breaker_threshold": 3,
                    "circuit_breaker_cooldown": 1500}})

  def resp(id, over) do
    Map.merge(%{__struct__: PhoenixGenApi.Structs.Response, request_id: id, result: nil,
      success: false, error: nil, async: false, has_more: false, can_retry: false},
      Map.new(over))
  end

  def fc(nodes, rt, over) do
    ConfigFixtures.f(nodes, Keyword.merge([request_type: rt, service: "svc",
      timeout: 5000, version: nil, mfa: {Svc, :hello, []},
      arg_types: %{"name" => :string}, arg_orders: ["name"]], over))
    |> Map.put(:nodes, nodes)
  end

  def params(rt, args, over \\ %{}) do
    Map.merge(%{"request_id" => "id-" <> rt, "request_type" => rt,
      "service" => "svc", "args" => args}, over)
  end

  def xp(gw, p), do: :erpc.call(gw, @exec, :execute_params!, [p], Check.tmo(20_000))

  def async_result do
    receive do
      {:async_call, r} -> r
    after
      Check.tmo(5000) -> :none
    end
  end

  def run do
    ConfigGw.require_binary!()

    cfg = ConfigGw.path("config") <> ".json"
    File.write!(cfg, @config)
    gw = Check.node_name("opsgw")
    log = ConfigGw.path("opsgw") <> ".err"
    started = ConfigGw.start(gw, ["--config", cfg], log)
    Check.match("pga-node starts", {:ok, _}, started)
    {_port, _ospid, svc} = Check.start_node("svc", "Process.sleep(:infinity)", setup: @service)

    fcs = [fc({Svc, :nodes, [:"nobody@nowhere"]}, "resolved", []),
           fc({Svc, :not_a_list, []}, "badlist", []),
           fc({Svc, :boom, []}, "boom", []),
           fc({NoSuch, :nodes, []}, "undef", []),
           fc([svc], "hello", []),
           fc([svc], "fail", mfa: {Svc, :fail, []}, response_type: :async)]
    push = %PushConfig{service: "svc", nodes: [svc], config_version: "1", fun_configs: fcs}
    Check.eq("push", {:ok, :accepted},
      fn -> :rpc.call(gw, PhoenixGenApi.ConfigReceiver, :push, [push, [force: true]], 5000) end)

    # ---- resolvers by RPC on the service's own nodes (R15) ----
    Check.eq("resolver: called on the service's node; its list is used (down node skipped)",
      resp("id-resolved", result: "hi A", success: true),
      fn -> xp(gw, params("resolved", %{"name" => "A"})) end)
    # detail_error is on: E7d shows {:error, "node selection failed: ..."}
    e7d = fn why -> "Internal Server Error: {:error, " <>
      inspect("node selection failed: {:dynamic_node_resolution_failed, " <> why <> "}") <> "}" end
    Check.eq("resolver returning a non-list: invalid_return_type (§13 case 83)",
      resp("id-badlist", error: e7d.("{:invalid_return_type, \"not_a_list\"}")),
      fn -> xp(gw, params("badlist", %{"name" => "A"})) end)
    Check.eq("resolver raising: {:exception, message}",
      resp("id-boom", error: e7d.("{:exception, \"no nodes today\"}")),
      fn -> xp(gw, params("boom", %{"name" => "A"})) end)
    Check.eq("resolver undefined on the service node: {:exception, inspect(:undef)}",
      resp("id-undef", error: e7d.("{:exception, \":undef\"}")),
      fn -> xp(gw, params("undef", %{"name" => "A"})) end)

    # ---- rate-limit logs per key type (R6) ----
    Check.eq("rate limit: a :user_id and a :device_id limit with equal values keep apart",
      [true, true, true, false],
      fn ->
        u = %{"user_id" => "same", "device_id" => "d-1"}
        d = %{"user_id" => "other", "device_id" => "same"}
        for over <- [u, u, d, u] do
          xp(gw, params("hello", %{"name" => "A"}, over)).success
        end
      end)

    # ---- telemetry of a real request (§6.1 events 1, 2, 6) ----
    Check.run("telemetry: request start/stop and rate_limiter check reach a subscribed pid", fn ->
      :ok = :rpc.call(gw, PhoenixGenApi.Telemetry, :attach_executor, ["t350", self()], 5000)
      :ok = :rpc.call(gw, PhoenixGenApi.Telemetry, :attach_rate_limiter, ["t350rl", self()], 5000)
      %{success: true} = xp(gw, params("hello", %{"name" => "T"}, %{"user_id" => "tel"}))
      got = for ev <- [[:phoenix_gen_api, :executor, :request, :start],
                       [:phoenix_gen_api, :rate_limiter, :check],
                       [:phoenix_gen_api, :executor, :request, :stop]] do
        receive do
          {:telemetry_event, ^ev, m, md, _} -> {ev, m, md}
        after
          Check.tmo(2000) -> {ev, :missing}
        end
      end
      case got do
        [{_, %{system_time: t}, %{request_id: "id-hello", service: "svc", user_id: "tel",
              request_type: "hello"}},
         {_, %{duration_us: _}, %{result: :ok, instance: :rate_limiter_instance_0}},
         {_, %{duration_us: _}, %{success: true, async: false}}] when is_integer(t) -> :ok
        other -> {:fail, "events", other}
      end
    end)

    # ---- the async pool's breaker (R24) ----
    Check.run("breaker: 3 failed async tasks open it; the next gets E9; it closes after 1500 ms", fn ->
      for _ <- 1..3 do
        %{async: true} = xp(gw, params("fail", %{"name" => "A"}))
        %{success: false} = async_result()
      end
      Process.sleep(Check.tmo(100))
      e9 = resp("id-fail", error: "Service temporarily unavailable", can_retry: true)
      refused = xp(gw, params("fail", %{"name" => "A"}))
      open = :rpc.call(gw, PhoenixGenApi.WorkerPool, :status, [:async_pool], 5000)
      Process.sleep(1600)
      again = xp(gw, params("fail", %{"name" => "A"}))
      _ = async_result()
      cond do
        refused != e9 -> {:fail, "refused", refused}
        not match?(%{async: true}, again) -> {:fail, "after cooldown", again}
        true ->
          Check.diag("WorkerPool.status(:async_pool) while open: " <> Check.show(open))
          :ok
      end
    end, timeout: 20_000)

    {:ok, g} = started
    st = ConfigGw.stop(g)
    Check.eq("SIGTERM: exit 0", 0, fn -> st end)
    Check.finish()
  end
end

Scenario.run()
