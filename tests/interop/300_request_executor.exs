# 300_request_executor: PhoenixGenApi.Executor on the gateway. A real Elixir
# service node defines the service functions and pushes their FunConfigs;
# this node calls execute!/1 and execute_params!/1 over :erpc and checks the
# exact Response maps, error strings and later messages (request-plane.md
# §1.1.1, §1.2, §2, §3, §8.4, §8.5, §9; acceptance cases of §13).
Code.require_file("lib/check.exs", __DIR__)
Code.require_file("lib/config_structs.exs", __DIR__)

defmodule Scenario do
  require Check
  alias PhoenixGenApi.Structs.PushConfig

  @exec PhoenixGenApi.Executor

  @service """
  defmodule Svc do
    def hello(name), do: {:ok, "hi " <> name}
    def plain(name), do: "plain " <> name
    def fail(_), do: {:error, :not_found}
    def three(_), do: {:ok, 1, 2}
    def info(name, info), do: {:ok, [name, info]}
    def pair(a, b), do: {:ok, [a, b]}
    def allow(req, want), do: req.user_id == want
    def slow(ms), do: (Process.sleep(ms); {:ok, ms})
    def count(key) do
      n = :counters.get(:persistent_term.get(:svc_ctr), 1) + 1
      :counters.put(:persistent_term.get(:svc_ctr), 1, n)
      if n <= 2, do: {:error, {:attempt, n, key}}, else: {:ok, n}
    end
    def calls, do: :counters.get(:persistent_term.get(:svc_ctr), 1)
    def reset, do: :counters.put(:persistent_term.get(:svc_ctr), 1, 0)
    def stream(n, %{stream_pid: pid}) do
      # the first half before the call returns: the relay must hold them
      # until the first chunk is out (§9.3 ordering)
      for i <- 1..div(n, 2), do: send(pid, {:result, i})
      spawn(fn ->
        for i <- (div(n, 2) + 1)..n, do: send(pid, {:result, i})
        send(pid, {:last_result, "last"})
      end)
      {:ok, :started}
    end
    def stream_err(_, %{stream_pid: pid}), do: (send(pid, {:error, :bad}); {:ok, :started})
    def stream_complete(_, %{stream_pid: pid}),
      do: (send(pid, {:result, "x"}); send(pid, :complete); {:ok, :started})
    def stream_forever(_, _), do: {:ok, :started}
  end
  :persistent_term.put(:svc_ctr, :counters.new(1, []))
  """

  def resp(id, over \\ []) do
    Map.merge(%{__struct__: PhoenixGenApi.Structs.Response, request_id: id, result: nil,
      success: false, error: nil, async: false, has_more: false, can_retry: false},
      Map.new(over))
  end

  def ok(id, r), do: resp(id, result: r, success: true)
  def err(id, e, retry \\ false), do: resp(id, error: e, can_retry: retry)

  def fc(node, rt, over \\ []) do
    ConfigFixtures.f(node, Keyword.merge([request_type: rt, service: "svc",
      choose_node_mode: :random, timeout: 5000, version: nil,
      mfa: {Svc, String.to_atom(rt), []},
      arg_types: %{"name" => :string}, arg_orders: ["name"]], over))
  end

  def params(rt, args, over \\ []) do
    Map.merge(%{"request_id" => "id-" <> rt, "request_type" => rt, "service" => "svc",
      "user_id" => "u1", "device_id" => "d1", "args" => args}, Map.new(over))
  end

  def xp(gw, p), do: :erpc.call(gw, @exec, :execute_params!, [p], Check.tmo(20_000))

  def msgs(acc \\ [], ms \\ 1000) do
    receive do
      m -> msgs([m | acc], ms)
    after
      Check.tmo(ms) -> Enum.reverse(acc)
    end
  end

  def run do
    if System.get_env("PGA_NODE") == "standin" do
      Check.diag("skipped: the BEAM stand-in has no executor")
      Check.finish()
    end

    gw = Check.gw()
    {_port, _ospid, svc} = Check.start_node("svc", "Process.sleep(:infinity)", setup: @service)
    dead = :"pga_nobody_#{System.unique_integer([:positive])}@127.0.0.1"

    fcs = [
      fc(svc, "hello"), fc(svc, "plain"), fc(svc, "fail"), fc(svc, "three"),
      fc(svc, "info", request_info: true),
      fc(svc, "pair", arg_types: %{"a" => :string, "b" => :num}, arg_orders: ["a", "b"]),
      fc(svc, "num", mfa: {Svc, :hello, []}, arg_types: %{"name" => :num}),
      fc(svc, "perm", mfa: {Svc, :hello, []}, check_permission: :any_authenticated),
      fc(svc, "cb", mfa: {Svc, :hello, []}, permission_callback: {Svc, :allow, ["u1"]}),
      fc(svc, "async", mfa: {Svc, :hello, []}, response_type: :async),
      fc(svc, "async_bad", mfa: {Svc, :hello, []}, response_type: :async,
         arg_types: %{"name" => :num}),
      fc(svc, "async_slow", mfa: {Svc, :slow, []}, response_type: :async, timeout: 300,
         arg_types: %{"name" => :num}),
      fc(svc, "none", mfa: {Svc, :hello, []}, response_type: :none),
      fc(svc, "stream", response_type: :stream, request_info: true,
         arg_types: %{"name" => :num}),
      fc(svc, "stream_err", response_type: :stream, request_info: true),
      fc(svc, "stream_complete", response_type: :stream, request_info: true),
      fc(svc, "stream_forever", response_type: :stream, request_info: true),
      fc(svc, "fallback", mfa: {Svc, :hello, []}, nodes: [dead, svc], choose_node_mode: :hash),
      fc(svc, "count", nodes: [svc], retry: 2),
      fc(svc, "count_same", mfa: {Svc, :count, []}, retry: {:same_node, 1}),
      fc(svc, "down", mfa: {Svc, :hello, []}, nodes: [dead], retry: 2)
    ]

    push = %PushConfig{service: "svc", nodes: [svc], config_version: "1", fun_configs: fcs}
    Check.eq("service node pushes its FunConfigs", {:ok, :accepted},
      fn -> :rpc.call(gw, PhoenixGenApi.ConfigReceiver, :push, [push, [force: true]], 5000) end)

    # ---- sync ----
    Check.eq("sync {:ok, v} -> sync_response", ok("id-hello", "hi A"),
      fn -> xp(gw, params("hello", %{"name" => "A"})) end)
    Check.eq("sync plain value -> result as is", ok("id-plain", "plain A"),
      fn -> xp(gw, params("plain", %{"name" => "A"})) end)
    Check.eq("sync {:error, _} -> Internal Server Error", err("id-fail", "Internal Server Error"),
      fn -> xp(gw, params("fail", %{"name" => "A"})) end)
    Check.eq("sync {:ok, 1, 2} -> Unexpected execution result",
      err("id-three", "Unexpected execution result"),
      fn -> xp(gw, params("three", %{"name" => "A"})) end)
    Check.eq("request_info appends the info map",
      ok("id-info", ["A", %{request_id: "id-info", user_id: "u1", device_id: "d1"}]),
      fn -> xp(gw, params("info", %{"name" => "A"})) end)
    Check.eq("two args in arg_orders order", ok("id-pair", ["x", 25]),
      fn -> xp(gw, params("pair", %{"b" => 25, "a" => "x"})) end)
    Check.eq("execute!/1 with a Request struct map", ok("r9", "hi B"), fn ->
      req = %{__struct__: PhoenixGenApi.Structs.Request, request_id: "r9",
        request_type: "hello", service: "svc", user_id: nil, device_id: nil,
        args: %{"name" => "B"}, user_roles: nil, version: nil}
      :erpc.call(gw, @exec, :execute!, [req])
    end)

    # ---- config resolution, hooks ----
    Check.eq("E1 unknown request_type", err("id-nope", "unsupported function: nope version latest"),
      fn -> xp(gw, params("nope", %{})) end)
    Check.eq("E1 with a version", err("id-hello", "unsupported function: hello version 2.0.0"),
      fn -> xp(gw, params("hello", %{"name" => "A"}, %{"version" => "2.0.0"})) end)
    # hooks: 330_request_hooks.exs

    # ---- decoding ----
    Check.match("missing fields -> DecodeError exception",
      {:error, {:exception, %{__exception__: true, code: :missing_field,
        message: "Missing required fields: request_type, request_id"}, _}},
      Check.catching(xp(gw, %{"request_id" => "", "service" => "s"})))
    Check.match("payload over max_payload_bytes -> :invalid_payload",
      {:error, {:exception, %{code: :invalid_payload, message: "Request payload exceeds maximum size of 1000000 bytes" <> _}, _}},
      Check.catching(xp(gw, params("hello", %{"name" => String.duplicate("x", 1_000_001)}))))

    Check.run("hostile params and requests are answered, never crash the gateway", fn ->
      deep = Enum.reduce(1..5000, :x, fn _, acc -> [acc] end)
      bad = [
        {:execute_params!, [nil]}, {:execute_params!, [[1, 2]]},
        {:execute_params!, [%{"request_id" => self(), "request_type" => make_ref(),
                              "service" => {1, 2}}]},
        {:execute_params!, [params("hello", deep)]},
        {:execute_params!, [params("hello", %{"name" => deep})]},
        {:execute_params!, [Map.put(params("hello", %{"name" => "A"}), "user_roles", [deep, "a" | "b"])]},
        {:execute!, [:not_a_map]}, {:execute!, [%{}]},
        {:execute!, [%{request_id: "r", request_type: "hello", service: "svc", args: [1]}]},
        {:execute!, [%{request_id: "r", request_type: "pair", service: "svc", args: 7}]}
      ]
      results = for {f, a} <- bad, do: Check.catching(:erpc.call(gw, @exec, f, a, Check.tmo(5000)))
      crashed = Enum.filter(results, &match?({:exit, _}, &1))
      cond do
        crashed != [] -> {:fail, "exits", crashed}
        Node.ping(gw) != :pong -> {:fail, "gateway gone"}
        true -> :ok
      end
    end)

    # execute!/1's clause is %Request{}: plain maps and other structs miss it
    for {what, arg} <- [{"a plain map", %{request_id: "r", request_type: "hello",
                                          service: "svc", args: %{"name" => "A"}}},
                        {"another struct", %{__struct__: URI, path: "/"}},
                        {"a non-map", :not_a_map}] do
      Check.match("execute!/1 given #{what} raises FunctionClauseError",
        {:error, {:exception, %{__struct__: FunctionClauseError, __exception__: true,
          message: "no function clause matching in PhoenixGenApi.Executor.execute!/1"}, _}},
        Check.catching(:erpc.call(gw, @exec, :execute!, [arg], Check.tmo(5000))))
    end

    # ---- permission ----
    Check.eq("E4 any_authenticated with user_id nil", err("id-perm", "Permission denied"),
      fn -> xp(gw, params("perm", %{"name" => "A"}, %{"user_id" => nil})) end)
    Check.eq("any_authenticated with u1 -> allowed", ok("id-perm", "hi A"),
      fn -> xp(gw, params("perm", %{"name" => "A"})) end)
    Check.eq("remote permission callback true -> allowed", ok("id-cb", "hi A"),
      fn -> xp(gw, params("cb", %{"name" => "A"})) end)
    Check.eq("remote permission callback false -> E4", err("id-cb", "Permission denied"),
      fn -> xp(gw, params("cb", %{"name" => "A"}, %{"user_id" => "u2"})) end)

    # ---- arguments ----
    Check.match("sync argument error escapes as the caller's exception",
      {:error, {:exception, %{__struct__: ArgumentError, __exception__: true,
        message: "invalid argument type for \"name\", expected :num, got \"A\""}, _}},
      Check.catching(xp(gw, params("num", %{"name" => "A"}))))

    # ---- async / none ----
    Check.eq("async: ack, then {:async_call, response}",
      {resp("id-async", success: true, async: true), [{:async_call, ok("id-async", "hi A")}]},
      fn -> {xp(gw, params("async", %{"name" => "A"})), msgs([], 500)} end)
    Check.eq("async invalid args: ack, then Internal Server Error",
      {resp("id-async_bad", success: true, async: true),
       [{:async_call, err("id-async_bad", "Internal Server Error")}]},
      fn -> {xp(gw, params("async_bad", %{"name" => "A"})), msgs([], 500)} end)
    Check.eq("async timeout answers with an error (no silent kill, R17)",
      {resp("id-async_slow", success: true, async: true),
       [{:async_call, err("id-async_slow", "Internal Server Error")}]},
      fn -> {xp(gw, params("async_slow", %{"name" => 2000})), msgs([], 1500)} end)
    Check.eq("none -> {:ok, :no_response}, no message", {{:ok, :no_response}, []},
      fn -> {xp(gw, params("none", %{"name" => "A"})), msgs([], 500)} end)

    # ---- stream ----
    Check.run("stream: ack, started, nested first chunk, 100 chunks in order, last", fn ->
      ack = xp(gw, params("stream", %{"name" => 100}))
      ms = msgs([], 1000)
      id = "id-stream"
      chunks = for i <- 1..100, do: {:stream_response, resp(id, result: i, success: true, async: true, has_more: true)}
      case ms do
        [{:stream_started, ^id, pid}, {:stream_response, first} | rest] when is_pid(pid) ->
          want_first = resp(id, result: ok(id, :started), success: true, async: true, has_more: true)
          want_rest = chunks ++ [{:stream_response, resp(id, result: "last", success: true, async: true)}]
          cond do
            ack != resp(id, result: :init, success: true, async: true, has_more: true) -> {:fail, "ack", ack}
            first != want_first -> {:fail, "first chunk", first}
            rest != want_rest -> {:fail, "chunks", Enum.take(rest, 3)}
            true -> :ok
          end
        other -> {:fail, "messages", Enum.take(other, 3)}
      end
    end)
    Check.run("stream {:error, r} -> Internal Server Error Response (async false)", fn ->
      xp(gw, params("stream_err", %{"name" => "q"}))
      case msgs([], 500) do
        [{:stream_started, _, _}, {:stream_response, %{has_more: true}},
         {:stream_response, e}] -> if e == err("id-stream_err", "Internal Server Error"), do: :ok, else: {:fail, "err", e}
        other -> {:fail, "messages", other}
      end
    end)
    Check.run("stream :complete -> end response", fn ->
      xp(gw, params("stream_complete", %{"name" => "q"}))
      id = "id-stream_complete"
      case msgs([], 500) do
        [{:stream_started, _, _}, {:stream_response, _},
         {:stream_response, x}, {:stream_response, e}] ->
          if x == resp(id, result: "x", success: true, async: true, has_more: true) and
               e == resp(id, success: true, async: true), do: :ok, else: {:fail, "end", {x, e}}
        other -> {:fail, "messages", other}
      end
    end)
    Check.run("stream stop via {:\"$gen_cast\", :stop} -> end response", fn ->
      xp(gw, params("stream_forever", %{"name" => "q"}))
      receive do
        {:stream_started, _, pid} ->
          receive do {:stream_response, _} -> :ok after 2000 -> :ok end
          GenServer.cast(pid, :stop)
          case msgs([], 500) do
            [{:stream_response, e}] -> if e == resp("id-stream_forever", success: true, async: true), do: :ok, else: {:fail, "end", e}
            other -> {:fail, "messages", other}
          end
      after 2000 -> {:fail, "no stream_started"}
      end
    end)

    for {how, target} <- [{"request_id", fn _pid -> "id-stream_forever" end}, {"relay pid", & &1}] do
      Check.run("PhoenixGenApi.stop_stream by #{how} -> :ok and the end response (ops §9.3)", fn ->
        xp(gw, params("stream_forever", %{"name" => "q"}))
        receive do
          {:stream_started, _, pid} ->
            receive do {:stream_response, _} -> :ok after 2000 -> :ok end
            r = :rpc.call(gw, PhoenixGenApi, :stop_stream, [target.(pid)], Check.tmo(5000))
            case {r, msgs([], 500)} do
              {:ok, [{:stream_response, e}]} ->
                if e == resp("id-stream_forever", success: true, async: true), do: :ok, else: {:fail, "end", e}
              other -> {:fail, "reply and messages", other}
            end
        after 2000 -> {:fail, "no stream_started"}
        end
      end)
    end
    Check.eq("stop_stream of the ended stream's request_id -> {:error, :not_found}", {:error, :not_found},
      fn -> :rpc.call(gw, PhoenixGenApi, :stop_stream, ["id-stream_forever"], Check.tmo(5000)) end)

    Check.run("stream whose receiver dies: the relay exits (R19)", fn ->
      me = self()
      spawn(fn ->
        xp(gw, params("stream_forever", %{"name" => "q"}))
        receive do {:stream_started, _, pid} -> send(me, {:relay, pid, self()}) end
        # Die only once the test monitors the relay, or the DOWN may say :noproc.
        receive do :die -> :ok end
      end)
      receive do
        {:relay, pid, receiver} ->
          ref = Process.monitor(pid)
          send(receiver, :die)
          receive do
            {:DOWN, ^ref, :process, ^pid, :normal} -> :ok
            {:DOWN, ^ref, :process, ^pid, other} -> {:fail, "reason", other}
          after Check.tmo(3000) -> {:fail, "relay still alive"}
          end
      after Check.tmo(3000) -> {:fail, "no relay pid"}
      end
    end)

    # ---- fallback and retry ----
    Check.eq("fallback: first node down, second answers", ok("id-fallback", "hi A"),
      fn -> xp(gw, params("fallback", %{"name" => "A"})) end)
    Check.eq("retry: 2 -> fails twice then succeeds on the 3rd call", {ok("id-count", 3), 3},
      fn ->
        :ok = :rpc.call(svc, Svc, :reset, [])
        r = xp(gw, params("count", %{"name" => "k"}))
        {r, :rpc.call(svc, Svc, :calls, [])}
      end)
    Check.eq("retry {:same_node, 1}: exhausted -> Internal Server Error after 2 calls",
      {err("id-count_same", "Internal Server Error"), 2},
      fn ->
        :ok = :rpc.call(svc, Svc, :reset, [])
        r = xp(gw, params("count_same", %{"name" => "k"}))
        {r, :rpc.call(svc, Svc, :calls, [])}
      end)
    Check.run("retries across a dead node back off (timers), then E7", fn ->
      {ms, r} = Check.timed(fn -> xp(gw, params("down", %{"name" => "A"})) end)
      cond do
        r != err("id-down", "Internal Server Error") -> {:fail, "response", r}
        ms < 150 -> {:fail, "no backoff", ms}
        true -> :ok
      end
    end)
    # ---- a service node killed mid-way (SIGKILL) ----
    {_p2, ospid2, svc2} = Check.start_node("svc2", "Process.sleep(:infinity)", setup: @service)
    fcs2 = [
      fc(svc2, "k_hello", service: "svc2", mfa: {Svc, :hello, []}, nodes: [svc2, svc],
         choose_node_mode: {:hash, "name"}, retry: {:all_nodes, 1}),
      fc(svc2, "k_stream", service: "svc2", mfa: {Svc, :stream_forever, []}, nodes: [svc2],
         response_type: :stream, request_info: true, timeout: :infinity)
    ]
    push2 = %PushConfig{service: "svc2", nodes: [svc2], config_version: "1", fun_configs: fcs2}
    Check.eq("second service node pushes", {:ok, :accepted},
      fn -> :rpc.call(gw, PhoenixGenApi.ConfigReceiver, :push, [push2, [force: true]], 5000) end)
    # every name hashes to one of the two nodes: take one served by svc2
    name = Enum.find(Enum.map(1..50, &"n#{&1}"), fn n -> :erlang.phash2(n, 2) == 0 end)
    k = fn -> xp(gw, params("k_hello", %{"name" => name}, %{"service" => "svc2"})) end
    Check.eq("both nodes up: served", ok("id-k_hello", "hi " <> name), k)
    Check.run("stream whose service node is killed ends with an error Response (R18)", fn ->
      xp(gw, params("k_stream", %{"name" => "q"}, %{"service" => "svc2"}))
      receive do
        {:stream_started, _, _} ->
          receive do {:stream_response, %{has_more: true}} -> :ok after 3000 -> :ok end
          System.cmd("kill", ["-KILL", ospid2])
          receive do
            {:stream_response, e} ->
              if e == err("id-k_stream", "Internal Server Error"), do: :ok, else: {:fail, "end", e}
          after Check.tmo(10_000) -> {:fail, "no end after the node died"}
          end
      after 3000 -> {:fail, "no stream_started"}
      end
    end, timeout: 15_000)
    Check.eq("primary node killed: fallback/retry reach the live node",
      ok("id-k_hello", "hi " <> name), k, timeout: 15_000)

    Check.eq("gateway still answers after all that", ok("id-hello", "hi Z"),
      fn -> xp(gw, params("hello", %{"name" => "Z"})) end)
    Check.finish()
  end
end

Scenario.run()
