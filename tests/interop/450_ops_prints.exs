# 450_ops_prints: the shell helpers' text as it reaches the caller's group
# leader (ops-plane.md §1.3, §5: rl_global/0,1,2, rl_config/0,
# rl_status/1, pool_status/0, cache_status/0, pushed_services_status/0,
# failed_configs_print/0,1, failed_configs_summary/0; acceptance cases
# 42, 43), and a malformed limit failing the call after the lines before
# it printed. Runs its own gateway (lib/config_gw.exs) for a known state.
Code.require_file("lib/check.exs", __DIR__)
Code.require_file("lib/config_structs.exs", __DIR__)
Code.require_file("lib/config_gw.exs", __DIR__)

defmodule Scenario do
  require Check

  @config ~S({"rate_limiter": {
    "global_limits": [{"key": "user_id", "max_requests": 2000, "window_ms": 60000}],
    "api_limits": [
      {"service": "svc", "request_type": "rt", "key": "user_id", "max_requests": 5, "window_ms": 1000},
      {"service": "svc", "request_type": "other", "key": "device_id", "max_requests": 7, "window_ms": 2000}]}})

  # {result, printed text} of PhoenixGenApi.f(args) on gw.
  def printed(gw, f, args) do
    gl = Check.capture_gl()
    Process.group_leader(self(), gl)
    r = :rpc.call(gw, PhoenixGenApi, f, args, Check.tmo(5_000))
    {r, Check.captured(gl)}
  end

  def run do
    ConfigGw.require_binary!()

    cfg = ConfigGw.path("prints") <> ".json"
    File.write!(cfg, @config)
    gw = Check.node_name("printgw")
    {:ok, g} = ConfigGw.start(gw, ["--config", cfg], ConfigGw.path("printgw") <> ".err")

    rate_limits(gw)
    malformed(gw)
    empty_stores(gw)
    filled_stores(gw)

    ConfigGw.stop(g)
    Check.finish()
  end

  def rate_limits(gw) do
    Check.eq("rl_config/0", {:ok, """

      === Rate Limit Configuration ===

      Global Limits:
        Key: :user_id | Max: 2000 | Window: 60000ms

      API Limits:
        svc/rt | Key: :user_id | Max: 5 | Window: 1000ms
        svc/other | Key: :device_id | Max: 7 | Window: 2000ms
      """}, fn -> printed(gw, :rl_config, []) end)

    req = %{__struct__: PhoenixGenApi.Structs.Request, request_id: "r", user_id: "u9",
      device_id: nil, service: "svc", request_type: "rt", args: %{}, version: nil,
      user_roles: []}
    :ok = :rpc.call(gw, PhoenixGenApi, :check_rate_limit, [req])
    Check.eq("rl_status/1 after one request (api lines only for :user_id limits)", {:ok, """

      === Rate Limit Status for u9 ===

      Global Limits:
        Scope: :global | Used: 1/2000 | Remaining: 1999

      API Limits:
        svc/rt | Used: 1/5 | Remaining: 4
      """}, fn -> printed(gw, :rl_status, ["u9"]) end)

    Check.eq("rl_global/0", {:ok, "\n=== Global Rate Limits ===\n\n" <>
      "  Key: :user_id | Max: 2000 | Window: 60000ms\n"}, fn -> printed(gw, :rl_global, []) end)
    block = "\n=== Global Rate Limits ===\n\n  Key: :device_id | Max: 3 | Window: 100ms\n"
    Check.eq("rl_global/1 sets, then prints the new block",
      {:ok, "\nGlobal rate limits updated.\n\n" <> block},
      fn -> printed(gw, :rl_global, [[%{key: :device_id, max_requests: 3, window_ms: 100}]]) end)
    Check.eq("rl_global(:add, map)",
      {:ok, "\nGlobal rate limit added/updated: %{key: \"k\", max_requests: 1, window_ms: 2}\n\n" <>
        block <> "  Key: \"k\" | Max: 1 | Window: 2ms\n"},
      fn -> printed(gw, :rl_global, [:add, %{key: "k", max_requests: 1, window_ms: 2}]) end)
    Check.eq("rl_global(:remove, key)",
      {:ok, "\nGlobal rate limit removed for key: \"k\"\n\n" <> block},
      fn -> printed(gw, :rl_global, [:remove, "k"]) end)
  end

  # set_global_limits takes any list; printing a bad one raises as Elixir.
  def malformed(gw) do
    head = "\nGlobal rate limits updated.\n\n\n=== Global Rate Limits ===\n\n"
    first = head <> "  Key: :ok | Max: 1 | Window: 2ms\n"
    Check.match("a limit without :max_requests: lines before it, then KeyError",
      {{:badrpc, {:EXIT, {%KeyError{key: :max_requests, term: %{key: :x}}, _}}},
       ^first},
      printed(gw, :rl_global, [[%{key: :ok, max_requests: 1, window_ms: 2}, %{key: :x}]]))
    Check.match("a tuple max_requests: Protocol.UndefinedError",
      {{:badrpc, {:EXIT, {%Protocol.UndefinedError{protocol: String.Chars, value: {1}}, _}}}, ^head},
      printed(gw, :rl_global, [[%{key: :x, max_requests: {1}, window_ms: 2}]]))
    Check.match("a non-map limit: BadMapError",
      {{:badrpc, {:EXIT, {%BadMapError{term: 42}, _}}}, ^head},
      printed(gw, :rl_global, [[42]]))
    Check.eq("set back to a sane list", :ok,
      fn -> :rpc.call(gw, PhoenixGenApi, :set_global_limits, [[]]) end)
  end

  # Cases 42 and 43 on an empty gateway.
  def empty_stores(gw) do
    Check.match("pool_status/0 (case 42)", {:ok, text} when is_binary(text),
      (fn ->
        {r, text} = printed(gw, :pool_status, [])
        if text =~ ~r/\A\n=== Worker Pool Status ===\n\nAsync Pool:\n  Idle: \d+ \| Busy: \d+ \| Queued: \d+\n  Circuit Open: false\n\nStream Pool:\n  Idle: \d+ \| Busy: \d+ \| Queued: \d+\n  Circuit Open: false\n\z/,
          do: {r, text}, else: {:bad_text, text}
      end).())
    Check.eq("cache_status/0 on an empty store",
      {:ok, "\n=== ConfigDb Cache Status ===\n\nTotal cached configs: 0\nServices: []\n"},
      fn -> printed(gw, :cache_status, []) end)
    Check.eq("pushed_services_status/0 with nothing pushed (case 42)",
      {:ok, "\n=== Pushed Services Status ===\n\nNo pushed services registered.\n\n"},
      fn -> printed(gw, :pushed_services_status, []) end)
    Check.eq("failed_configs_print/0 on an empty store (case 43)",
      {:ok, "\n=== Failed FunConfig Entries ===\nShowing: 0 entries (limit: 100)\n  (no failed entries)\n\n"},
      fn -> printed(gw, :failed_configs_print, []) end)
    Check.eq("failed_configs_summary/0 on an empty store",
      {:ok, "\n=== Failed Configs Summary ===\nTotal:  0\nPull:   0\nPush:   0\n\n"},
      fn -> printed(gw, :failed_configs_summary, []) end)
    Check.match("failed_configs_print(:bad) fails before printing",
      {{:badrpc, {:EXIT, _}}, ""}, printed(gw, :failed_configs_print, [:bad]))
  end

  def filled_stores(gw) do
    fc = ConfigFixtures.f(node(), service: "svc")
    push = ConfigFixtures.p(node(), service: "svc", config_version: "1", fun_configs: [fc])
    {:ok, :accepted} = :rpc.call(gw, PhoenixGenApi.ConfigReceiver, :push, [push, [force: true]])
    Check.eq("cache_status/0 with one config (case 42)",
      {:ok, "\n=== ConfigDb Cache Status ===\n\nTotal cached configs: 1\nServices: [\"svc\"]\n"},
      fn -> printed(gw, :cache_status, []) end)
    Check.eq("pushed_services_status/0 with one service",
      {:ok, "\n=== Pushed Services Status ===\n\n  \"svc\": version=\"1\", auto_pull=No\n\n"},
      fn -> printed(gw, :pushed_services_status, []) end)

    :rpc.call(gw, PhoenixGenApi.ConfigFailed, :record, [Map.from_struct(fc), ["bad thing", "worse"], :push])
    [%{id: id}] = :rpc.call(gw, PhoenixGenApi, :failed_configs, [])
    ids = String.pad_trailing("#{id}", 8)
    row = ids <> String.pad_trailing(~s("svc"), 20) <> String.pad_trailing(~s("test_request"), 22) <>
      String.pad_trailing(~s("1.0.0"), 10) <> String.pad_trailing(":push", 8) <> "bad thing; worse\n"
    table = "\nID      Service             Request Type          Version   Source  Reason\n" <>
      String.duplicate("-", 90) <> "\n" <> row
    Check.eq("failed_configs_print/0 with one entry",
      {:ok, "\n=== Failed FunConfig Entries ===\nShowing: 1 entries (limit: 100)\n" <> table <> "\n"},
      fn -> printed(gw, :failed_configs_print, []) end)
    Check.eq("failed_configs_print(source: :push, limit: 5)",
      {:ok, "\n=== Failed FunConfig Entries ===\nSource: push\nShowing: 1 entries (limit: 5)\n" <> table <> "\n"},
      fn -> printed(gw, :failed_configs_print, [[source: :push, limit: 5]]) end)
    Check.eq("failed_configs_summary/0 with one entry",
      {:ok, "\n=== Failed Configs Summary ===\nTotal:  1\nPull:   0\nPush:   1\n" <>
        "\n--- By Service ---\n  \"svc\": 1 failed\n" <>
        "\n--- Newest ---\n  ##{id} \"svc\"/\"test_request\" [push] bad thing; worse\n\n"},
      fn -> printed(gw, :failed_configs_summary, []) end)
    Check.eq("cleanup_failed_configs/0 with only fresh entries -> 0 (case 43)", 0,
      fn -> :rpc.call(gw, PhoenixGenApi, :cleanup_failed_configs, []) end)
    Check.eq("clear_failed_configs/0 -> :ok, then failed_configs/0 -> [] (case 43)", {:ok, []},
      fn -> {:rpc.call(gw, PhoenixGenApi, :clear_failed_configs, []),
             :rpc.call(gw, PhoenixGenApi, :failed_configs, [])} end)
  end
end

Scenario.run()
