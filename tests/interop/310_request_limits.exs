# 310_request_limits: the executor under pga-node --config settings: a
# global rate limit (E5), detail_error (E7d texts), max_payload_bytes (the
# DecodeError size check against :erlang.external_size/1) and the async
# in-flight bound (E9) (request-plane.md §1.1.1, §2, §7, §9.1; docs/compat.md
# R16, R20). Runs its own gateway (lib/config_gw.exs).
Code.require_file("lib/check.exs", __DIR__)
Code.require_file("lib/config_structs.exs", __DIR__)
Code.require_file("lib/config_gw.exs", __DIR__)

defmodule Scenario do
  require Check
  alias PhoenixGenApi.Structs.PushConfig

  @exec PhoenixGenApi.Executor

  @service """
  defmodule Svc do
    def hello(name), do: {:ok, "hi " <> name}
    def fail(_), do: {:error, :not_found}
    def slow(ms), do: (Process.sleep(ms); {:ok, ms})
    def forever(_, _), do: {:ok, :started}
  end
  """

  @config ~S({"detail_error": true,
    "rate_limiter": {"global_limits": [{"key": "user_id", "max_requests": 2, "window_ms": 10000}]},
    "worker_pool": {"async_pool_size": 1, "max_queue_size": 1},
    "request": {"max_payload_bytes": 200}})

  def resp(id, over) do
    Map.merge(%{__struct__: PhoenixGenApi.Structs.Response, request_id: id, result: nil,
      success: false, error: nil, async: false, has_more: false, can_retry: false},
      Map.new(over))
  end

  def fc(node, rt, over) do
    ConfigFixtures.f(node, Keyword.merge([request_type: rt, service: "svc",
      timeout: 5000, version: nil, mfa: {Svc, String.to_atom(rt), []},
      arg_types: %{"name" => :string}, arg_orders: ["name"]], over))
  end

  def params(rt, args, user \\ nil) do
    %{"request_id" => "id-" <> rt, "request_type" => rt, "service" => "svc",
      "user_id" => user, "args" => args}
  end

  def xp(gw, p), do: :erpc.call(gw, @exec, :execute_params!, [p], Check.tmo(20_000))

  def run do
    ConfigGw.require_binary!()

    cfg = ConfigGw.path("config") <> ".json"
    File.write!(cfg, @config)
    gw = Check.node_name("reqgw")
    log = ConfigGw.path("reqgw") <> ".err"
    started = ConfigGw.start(gw, ["--config", cfg], log)
    Check.match("pga-node starts with the request settings", {:ok, _}, started)
    {_port, _ospid, svc} = Check.start_node("svc", "Process.sleep(:infinity)", setup: @service)

    fcs = [fc(svc, "hello", []), fc(svc, "fail", []),
           fc(svc, "num", mfa: {Svc, :hello, []}, response_type: :async,
              arg_types: %{"name" => :num}),
           fc(svc, "slow", response_type: :async, arg_types: %{"name" => :num}),
           fc(svc, "sslow", mfa: {Svc, :slow, []}, arg_types: %{"name" => :num}),
           fc(svc, "forever", response_type: :stream, request_info: true,
              timeout: :infinity)]
    push = %PushConfig{service: "svc", nodes: [svc], config_version: "1", fun_configs: fcs}
    Check.eq("push", {:ok, :accepted},
      fn -> :rpc.call(gw, PhoenixGenApi.ConfigReceiver, :push, [push, [force: true]], 5000) end)

    Check.eq("rate limit: 2 pass, the 3rd gets E5 (can_retry)", [true, true,
      resp("id-hello", error: "Rate limit exceeded. Please retry after 9 seconds.", can_retry: true)],
      fn ->
        for _ <- 1..3 do
          case xp(gw, params("hello", %{"name" => "A"}, "u7")) do
            %{success: true} -> true
            other -> other
          end
        end
      end)
    Check.eq("user_id nil is never limited", resp("id-hello", result: "hi B", success: true),
      fn -> for(_ <- 1..3, do: xp(gw, params("hello", %{"name" => "B"}))) |> List.last() end)

    Check.eq("detail_error: remote {:error, _} masked as :retry_exhausted",
      resp("id-fail", error: "Internal Server Error: {:error, :retry_exhausted}"),
      fn -> xp(gw, params("fail", %{"name" => "A"})) end)
    Check.eq("detail_error: async argument error shows the exception (E7d)",
      {:async_call, resp("id-num", error: "Internal Server Error: %ArgumentError{message: " <>
        inspect("invalid argument type for \"name\", expected :num, got \"A\"") <> "}")},
      fn ->
        %{async: true} = xp(gw, params("num", %{"name" => "A"}))
        receive do m -> m after Check.tmo(2000) -> :nothing end
      end)

    Check.run("max_payload_bytes uses :erlang.external_size/1 exactly", fn ->
      base = params("hello", %{"name" => ""})
      p = params("hello", %{"name" => String.duplicate("x", 201 - :erlang.external_size(base))})
      201 = :erlang.external_size(p)
      want = "Request payload exceeds maximum size of 200 bytes (got 201 bytes)"
      case Check.catching(xp(gw, p)) do
        {:error, {:exception, %{code: :invalid_payload, message: ^want}, _}} -> :ok
        other -> {:fail, "expected " <> want, other}
      end
    end)
    Check.eq("a payload at the limit passes the size check", true, fn ->
      base = params("hello", %{"name" => ""})
      pad = 200 - :erlang.external_size(base)
      p = params("hello", %{"name" => String.duplicate("y", pad)})
      200 = :erlang.external_size(p)
      match?(%{success: true}, xp(gw, p))
    end)

    Check.run("async in-flight bound: the 3rd concurrent request gets E9", fn ->
      a = xp(gw, params("slow", %{"name" => 1000}))
      b = xp(gw, params("slow", %{"name" => 1000}))
      c = xp(gw, params("slow", %{"name" => 1000}))
      want = resp("id-slow", error: "Service temporarily unavailable", can_retry: true)
      cond do
        not (a.async and b.async) -> {:fail, "acks", {a, b}}
        c != want -> {:fail, "third", c}
        true ->
          got = for _ <- 1..2, do: (receive do {:async_call, r} -> r.success after Check.tmo(5000) -> :none end)
          if got == [true, true], do: :ok, else: {:fail, "results", got}
      end
    end, timeout: 10_000)

    # the port belongs to this process: stop the gateway from here
    %{has_more: true} = xp(gw, params("forever", %{"name" => "q"}))
    %{async: true} = xp(gw, params("slow", %{"name" => 3000}))
    spawn(fn -> Check.catching(xp(gw, params("sslow", %{"name" => 3000}))) end)
    Process.sleep(Check.tmo(300))
    {:ok, g} = started
    st = ConfigGw.stop(g)
    Check.eq("SIGTERM with a stream, an async and a sync call in flight: exit 0", 0,
      fn -> st end)

    Check.finish()
  end
end

Scenario.run()
