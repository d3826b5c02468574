# 440_ops_limits: the rate-limit operator API (ops-plane.md §2 rows 1, 6,
# 18-20, 29, 30, 33-36, 39, 45; §3 RateLimiter, WorkerPool; §8.1; §9.3;
# acceptance cases 29-37, 59) and PhoenixGenApi.module_info/__info__.
# The shared gateway's global limits are restored at the end; the admin
# gate cases run on private gateways started with --config.
Code.require_file("lib/check.exs", __DIR__)
Code.require_file("lib/config_gw.exs", __DIR__)

defmodule Scenario do
  require Check

  @top PhoenixGenApi
  @rl PhoenixGenApi.RateLimiter
  @default [%{key: :user_id, max_requests: 2000, window_ms: 60_000}]

  def rpc(gw, f, args), do: rpc(gw, @top, f, args)
  def rpc(gw, m, f, args), do: :rpc.call(gw, m, f, args, Check.tmo(5_000))

  def req(id, user) do
    %{__struct__: PhoenixGenApi.Structs.Request, request_id: id, user_id: user,
      service: "s", request_type: "t", version: nil, device_id: nil, args: %{},
      user_roles: []}
  end

  def function_clause?({:badrpc, {:EXIT, {:function_clause, _}}}), do: true
  def function_clause?(_), do: false

  def run do
    gw = Check.gw()
    saved = rpc(gw, :get_global_limits, [])
    Check.match("get_global_limits/0 is a list", l when is_list(l), saved)

    limits(gw)
    counters(gw)
    guards(gw)
    modules(gw)
    streams(gw)
    reflection(gw)

    Check.eq("shared gateway: global limits restored", :ok, fn ->
      rpc(gw, :set_global_limits, [if(is_list(saved), do: saved, else: [])])
    end)

    if ConfigGw.binary() do
      gated(["update_rate_limit_config"], &update_only/1)
      gated(["update_rate_limit_config", "change_detail_error"], &update_and_detail/1)
      missing_fields()
    else
      Check.diag("admin-gate cases skipped: no pga-node binary (stand-in gateway)")
    end

    Check.finish()
  end

  # Cases 32, 33, 37 and the ungated setters.
  def limits(gw) do
    Check.eq("set_global_limits/1 is ungated (case 32)", :ok, fn ->
      rpc(gw, :set_global_limits, [[%{key: :user_id, max_requests: 5, window_ms: 1000}]])
    end)
    Check.eq("set_global_limits/1 then get_global_limits/0",
      [%{key: :user_id, max_requests: 5, window_ms: 1000}],
      fn -> rpc(gw, :get_global_limits, []) end)
    Check.eq("add_global_limit/1 appends (case 33)", :ok, fn ->
      rpc(gw, :add_global_limit, [%{key: :ip_address, max_requests: 100, window_ms: 60_000}])
    end)
    Check.eq("adding the same key again replaces it, last in the list",
      [%{key: :user_id, max_requests: 5, window_ms: 1000},
       %{key: :ip_address, max_requests: 50, window_ms: 60_000}],
      fn ->
        :ok = rpc(gw, :add_global_limit, [%{key: :ip_address, max_requests: 50, window_ms: 60_000}])
        rpc(gw, :get_global_limits, [])
      end)
    Check.eq("remove_global_limit(:nope) -> :ok", :ok,
      fn -> rpc(gw, :remove_global_limit, [:nope]) end)
    Check.eq("remove_global_limit(:ip_address) removes it",
      [%{key: :user_id, max_requests: 5, window_ms: 1000}],
      fn -> :ok = rpc(gw, :remove_global_limit, [:ip_address]); rpc(gw, :get_global_limits, []) end)
    Check.match("get_rate_limit_config/0 (case 37)", %{global: [_], api: a} when is_list(a),
      rpc(gw, :get_rate_limit_config, []))
    Check.eq("update_rate_limit_config/1 without the admin action (case 29)",
      {:error, :admin_action_denied},
      fn -> rpc(gw, :update_rate_limit_config, [%{global_limits: []}]) end)
    Check.eq("RateLimiter.update_config/1 is gated alike", {:error, :admin_action_denied},
      fn -> rpc(gw, @rl, :update_config, [%{global_limits: []}]) end)
  end

  # Cases 35 and 36.
  def counters(gw) do
    :ok = rpc(gw, :set_global_limits, [@default])
    Check.eq("get_rate_limit_status on a fresh key (case 35)",
      [%{key: "u1", max_requests: 2000, current_requests: 0, window_ms: 60_000,
         remaining: 2000, scope: :global}],
      fn -> rpc(gw, :get_rate_limit_status, ["u1", :global, :user_id]) end)

    :ok = rpc(gw, :set_global_limits, [[%{key: :user_id, max_requests: 1, window_ms: 10_000}]])
    r = req("r", "rl_user")
    Check.eq("check_rate_limit/1: the first request passes (case 36)", :ok,
      fn -> rpc(gw, :check_rate_limit, [r]) end)
    Check.match("the second is rate limited",
      {:error, :rate_limited, %{key: "rl_user", max_requests: 1, current_requests: 1,
        window_ms: 10_000, retry_after_ms: ra, scope: :global}} when is_integer(ra) and ra > 0,
      rpc(gw, :check_rate_limit, [r]))
    Check.match("get_rate_limit_status shows the slot used",
      [%{key: "rl_user", current_requests: 1, remaining: 0}],
      rpc(gw, :get_rate_limit_status, ["rl_user", :global, :user_id]))
    Check.eq("reset_rate_limit/3 -> :ok", :ok,
      fn -> rpc(gw, :reset_rate_limit, ["rl_user", :global, :user_id]) end)
    Check.eq("after the reset the next check passes", :ok,
      fn -> rpc(gw, :check_rate_limit, [r]) end)
    Check.match("RateLimiter.check_rate_limit/3 on the same log is refused",
      {:error, :rate_limited, %{key: "rl_user", scope: :global}},
      rpc(gw, @rl, :check_rate_limit, ["rl_user", :global, :user_id]))
    Check.eq("RateLimiter.clear/0 drops every log", :ok,
      fn -> :ok = rpc(gw, @rl, :clear, []); rpc(gw, :check_rate_limit, [r]) end)
    Check.eq("a request without user_id skips the :user_id limit", [:ok, :ok],
      fn -> for _ <- 1..2, do: rpc(gw, :check_rate_limit, [req("r2", nil)]) end)
    # Issue 16: maps that lack fields, as the library's limiter reads them
    # (fail_open, the default, here; fail_open false on a private gateway).
    Check.eq("%{user_id: \"h9\"} with no API limit -> :ok (the KeyError for :request_id " <>
      "after the check is rescued, fail_open)", :ok,
      fn -> rpc(gw, :check_rate_limit, [%{user_id: "h9"}]) end)
    Check.match("a map without :user_id under a :user_id limit: the call exits, badkey " <>
      "(fail_open does not apply)",
      {:badrpc, {:EXIT, {{{:badkey, :user_id, %{service: "s"}}, [_ | _]},
        {GenServer, :call, [_, {:check_rate_limit, %{service: "s"}}, 1000]}}}},
      rpc(gw, :check_rate_limit, [%{service: "s"}]))
    Check.eq("api scope status with no api limit -> []", [],
      fn -> rpc(gw, :get_rate_limit_status, ["u1", {"svc", "rt"}, :user_id]) end)
    :ok = rpc(gw, :set_global_limits, [@default])
  end

  # Guards of §2 (cases 31, 34, 59).
  def guards(gw) do
    for {name, f, args} <- [
          {"update_rate_limit_config(:bad) (case 31)", :update_rate_limit_config, [:bad]},
          {"set_global_limits(:bad) (case 34)", :set_global_limits, [:bad]},
          {"rl_global(:bad) (case 34)", :rl_global, [:bad]},
          {"add_global_limit(:bad)", :add_global_limit, [:bad]},
          {"rl_global(:add, :not_a_map)", :rl_global, [:add, :not_a_map]},
          {"rl_global(:bogus, %{})", :rl_global, [:bogus, %{}]},
          {"rl_status(:not_binary) (case 59)", :rl_status, [:not_binary]},
          {"stop_stream(123)", :stop_stream, [123]}
        ] do
      Check.run(name <> " -> function_clause", fn ->
        got = rpc(gw, f, args)
        if function_clause?(got), do: :ok, else: {:fail, "function_clause", got}
      end)
    end
    Check.match("get_rate_limit_status with a bad scope fails the call",
      {:badrpc, {:EXIT, _}}, rpc(gw, :get_rate_limit_status, ["u", :nope, :user_id]))
    Check.eq("unknown facade function -> undef (case 59)",
      {:badrpc, {:EXIT, {:undef, [{PhoenixGenApi, :nope, [], []}]}}},
      fn -> rpc(gw, :nope, []) end)
  end

  def modules(gw) do
    Check.match("RateLimiter.status/0",
      %{status: :ok, instance_count: n, instances: [%{status: :ok, instance_index: 0,
        global_limits: [_], api_limits: _, cleanup_interval: 60_000,
        ets: %{global: %{exists: true, name: :rate_limiter_global},
               api: %{exists: true, name: :rate_limiter_api}}} | _] = is}
        when n >= 1 and length(is) == n,
      rpc(gw, @rl, :status, []))
    Check.match("RateLimiter.instance_count/0 is positive", n when is_integer(n) and n > 0,
      rpc(gw, @rl, :instance_count, []))
    Check.eq("RateLimiter.routing_strategy/0 -> :hash", :hash,
      fn -> rpc(gw, @rl, :routing_strategy, []) end)
    Check.eq("RateLimiter.get_configured_limits/0 = facade's get_rate_limit_config/0",
      rpc(gw, :get_rate_limit_config, []), fn -> rpc(gw, @rl, :get_configured_limits, []) end)
    Check.run("RateLimiter.set_global_limits(:bad) -> function_clause", fn ->
      function_clause?(rpc(gw, @rl, :set_global_limits, [:bad]))
    end)
    Check.match("WorkerPool.status(:async_pool)",
      %{idle_workers: i, busy_workers: b, queued_tasks: q, circuit_open: false,
        total_tasks_executed: e, total_tasks_failed: f}
        when is_integer(i) and is_integer(b) and is_integer(q) and is_integer(e) and is_integer(f),
      rpc(gw, PhoenixGenApi.WorkerPool, :status, [:async_pool]))
    Check.match("WorkerPool.status(:stream_pool)", %{circuit_open: false},
      rpc(gw, PhoenixGenApi.WorkerPool, :status, [:stream_pool]))
    Check.match("WorkerPool.status(:other) exits noproc",
      {:badrpc, {:EXIT, {:noproc, {GenServer, :call, [:other, :status, 5000]}}}},
      rpc(gw, PhoenixGenApi.WorkerPool, :status, [:other]))
  end

  # Case 59 (stop_stream).
  def streams(gw) do
    Check.eq("stop_stream(\"no_such_request\") -> {:error, :not_found}", {:error, :not_found},
      fn -> rpc(gw, :stop_stream, ["no_such_request"]) end)
    Check.eq("stop_stream(pid) -> :ok whatever the pid", :ok,
      fn -> rpc(gw, :stop_stream, [spawn(fn -> :ok end)]) end)
  end

  def reflection(gw) do
    Check.run("__info__(:functions) lists the facade, sorted, no reflection", fn ->
      fs = rpc(gw, :__info__, [:functions])
      wanted = [rl_global: 0, rl_global: 1, rl_global: 2, rl_status: 1, pool_status: 0,
                update_rate_limit_config: 1, stop_stream: 1, failed_configs_print: 1]
      cond do
        not is_list(fs) -> {:fail, "a list", fs}
        fs != Enum.sort(fs) -> {:fail, "sorted", fs}
        Enum.any?(fs, fn {f, _} -> f in [:module_info, :__info__] end) -> {:fail, "no reflection", fs}
        not Enum.all?(wanted, &(&1 in fs)) -> {:fail, "contains #{inspect(wanted)}", fs}
        true -> :ok
      end
    end)
    Check.run("module_info(:exports) = functions plus __info__/1, module_info/0,1", fn ->
      ex = rpc(gw, :module_info, [:exports])
      fs = rpc(gw, :__info__, [:functions])
      Enum.sort(ex) == Enum.sort([{:__info__, 1}, {:module_info, 0}, {:module_info, 1} | fs])
    end)
    Check.match("module_info/0", [module: PhoenixGenApi, exports: [_ | _], attributes: [],
      compile: [], md5: <<_::128>>], rpc(gw, :module_info, []))
    Check.eq("module_info(:module)", PhoenixGenApi, fn -> rpc(gw, :module_info, [:module]) end)
    Check.match("module_info(:bogus) -> badarg", {:badrpc, {:EXIT, {:badarg, _}}},
      rpc(gw, :module_info, [:bogus]))
    Check.run("__info__(:bogus) -> function_clause", fn ->
      function_clause?(rpc(gw, :__info__, [:bogus]))
    end)
  end

  # ---- issue 16: maps without the fields the library reads ----

  # Each expectation is what PhoenixGenApi 2.22 answered over rpc to the
  # same call with the same limits (fail_open false, 2 instances; the
  # stack trace aside, which names the library's own frames).
  def missing_fields do
    cfg = ConfigGw.path("rlmiss") <> ".json"
    File.write!(cfg, ~s({"rate_limiter": {"fail_open": false, "instance_count": 2, ) <>
      ~s("global_limits": [{"key": "user_id", "max_requests": 100, "window_ms": 60000}], ) <>
      ~s("api_limits": [{"service": "s", "request_type": "t", "key": "user_id", ) <>
      ~s("max_requests": 100, "window_ms": 60000}]}}))
    gw = Check.node_name("rlmiss")
    case ConfigGw.start(gw, ["--config", cfg], ConfigGw.path("rlmiss") <> ".err") do
      {:ok, g} ->
        missing_cases(gw)
        ConfigGw.stop(g)
      other ->
        Check.run("private gateway with fail_open false starts", fn -> {:fail, "started", other} end)
    end
  end

  defp died(key, map, instance) do
    {:badrpc, {:EXIT, {{{:badkey, key, map}, :stack},
      {GenServer, :call, [:"rate_limiter_instance_#{instance}", {:check_rate_limit, map}, 1000]}}}}
  end

  # The stack trace is pga's own: checked to be a list of frames, then
  # replaced so whole terms compare.
  defp check_limit(gw, map) do
    case rpc(gw, :check_rate_limit, [map]) do
      {:badrpc, {:EXIT, {{reason, [{_, _, _, _} | _]}, call}}} ->
        {:badrpc, {:EXIT, {{reason, :stack}, call}}}
      other -> other
    end
  end

  defp key_error(key, shown) do
    {:error, :rate_limiter_error, %{message: "key :#{key} not found in: #{shown}"}}
  end

  def missing_cases(gw) do
    nil_struct = Map.merge(req(nil, nil), %{service: nil, request_type: nil, args: nil,
      user_roles: nil})
    for {name, map, expected} <- [
          {"%{user_id: \"h9\"} exits with a KeyError for :service (issue 16)",
           %{user_id: "h9"}, died(:service, %{user_id: "h9"}, 0)},
          {"no :user_id under a :user_id limit exits, badkey :user_id",
           %{service: "s", request_type: "t", request_id: "r"},
           died(:user_id, %{service: "s", request_type: "t", request_id: "r"}, 1)},
          {"a matching :service without :request_type exits, badkey :request_type",
           %{user_id: "h9", service: "s", request_id: "r"},
           died(:request_type, %{user_id: "h9", service: "s", request_id: "r"}, 0)},
          {"another :service without :request_type: KeyError after the check, fail_open false",
           %{user_id: "h9", service: "x", request_id: "r"},
           key_error(:request_type, ~s(%{request_id: "r", service: "x", user_id: "h9"}))},
          {"no :request_id: KeyError after the check (first key the :check event reads)",
           %{user_id: "h9", service: "s", request_type: "t"},
           key_error(:request_id, ~s(%{request_type: "t", service: "s", user_id: "h9"}))},
          {"%{} exits with badkey :user_id (global limits come first)", %{},
           died(:user_id, %{}, 1)},
          {"a Request struct with nil fields -> :ok (nil skips every limit)", nil_struct, :ok}
        ] do
      Check.eq(name, expected, fn -> check_limit(gw, map) end)
    end

    :ok = rpc(gw, :set_global_limits, [[%{key: :device_id, max_requests: 100, window_ms: 60_000}]])
    Check.eq("no :device_id under a :device_id limit exits, badkey :device_id",
      died(:device_id, %{user_id: "h9"}, 0), fn -> check_limit(gw, %{user_id: "h9"}) end)
    :ok = rpc(gw, :set_global_limits, [[%{key: "k", max_requests: 100, window_ms: 60_000}]])
    Check.eq("a custom-key limit on a Request with nil args exits with {:badmap, nil}",
      {:badrpc, {:EXIT, {{{:badmap, nil}, :stack},
        {GenServer, :call, [:rate_limiter_instance_1, {:check_rate_limit, nil_struct}, 1000]}}}},
      fn -> check_limit(gw, nil_struct) end)
    Check.eq("a custom-key limit on a map without :args exits, badkey :args",
      died(:args, %{user_id: "h9"}, 0), fn -> check_limit(gw, %{user_id: "h9"}) end)

    # pga keeps the slots taken before the exit (docs/compat.md O7).
    :ok = rpc(gw, :set_global_limits, [[%{key: :user_id, max_requests: 1, window_ms: 60_000}]])
    Check.match("a slot taken before the exit stays: the next check is denied",
      [{:badrpc, {:EXIT, {{{:badkey, :service, _}, :stack}, _}}},
       {:error, :rate_limiter_error, %{message: "key :request_id not found in: " <> _}}],
      for(_ <- 1..2, do: check_limit(gw, %{user_id: "u9"})))
    Check.match("the denial itself shows with every field present",
      {:error, :rate_limited, %{key: "u9", scope: :global}},
      rpc(gw, :check_rate_limit, [%{user_id: "u9", request_id: "r", service: "x",
        request_type: "t"}]))
  end

  # ---- private gateways with admin_actions ----

  def gated(actions, cases) do
    cfg = ConfigGw.path("admin") <> ".json"
    quoted = Enum.map_join(actions, ", ", &~s("#{&1}"))
    File.write!(cfg, ~s({"admin_actions": [#{quoted}], "rate_limiter": {"global_limits": ) <>
      ~s([{"key": "user_id", "max_requests": 2000, "window_ms": 60000}]}}))
    gw = Check.node_name("rlgw")
    case ConfigGw.start(gw, ["--config", cfg], ConfigGw.path("rlgw") <> ".err") do
      {:ok, g} ->
        cases.(gw)
        ConfigGw.stop(g)
      other ->
        Check.run("private gateway with admin_actions #{inspect(actions)} starts", fn ->
          {:fail, "started", other}
        end)
    end
  end

  def update_only(gw) do
    one = [%{key: :user_id, max_requests: 1, window_ms: 10_000}]
    Check.eq("[:update_rate_limit_config]: update with global_limits -> :ok (case 30)", :ok,
      fn -> rpc(gw, :update_rate_limit_config, [%{global_limits: one}]) end)
    Check.eq("get_global_limits/0 returns the new list", one,
      fn -> rpc(gw, :get_global_limits, []) end)
    Check.eq("a :detail_error key needs :change_detail_error too (case 29)",
      {:error, :admin_action_denied},
      fn -> rpc(gw, :update_rate_limit_config, [%{detail_error: true}]) end)
    Check.eq("api_limits are replaced, other keys ignored", :ok, fn ->
      rpc(gw, :update_rate_limit_config, [%{api_limits: [%{service: "s", request_type: "t",
        key: :user_id, max_requests: 3, window_ms: 1000}], junk: 1}])
    end)
    Check.match("get_rate_limit_config/0 shows both", %{global: [_], api: [%{service: "s"}]},
      rpc(gw, :get_rate_limit_config, []))
    Check.match("api scope status: one entry keyed svc:rt:value",
      [%{key: "s:t:u1", max_requests: 3, current_requests: 0, remaining: 3, scope: {"s", "t"}}],
      rpc(gw, :get_rate_limit_status, ["u1", {"s", "t"}, :user_id]))
  end

  def update_and_detail(gw) do
    before = rpc(gw, :get_rate_limit_config, [])
    Check.eq("[:update_rate_limit_config, :change_detail_error]: detail_error -> :ok (case 29)",
      :ok, fn -> rpc(gw, :update_rate_limit_config, [%{detail_error: true}]) end)
    Check.eq("... and nothing else changes", before,
      fn -> rpc(gw, :get_rate_limit_config, []) end)
  end
end

Scenario.run()
