# 100_config_push: an Elixir node registers its API with the gateway the way
# PhoenixGenApi's pusher does, then inspects it through ConfigDb,
# ConfigReceiver and ConfigFailed (config-plane.md §3, §4, §6, §12).
Code.require_file("lib/check.exs", __DIR__)

# Stand-ins for the library's structs (same fields, same defaults), so the
# pushes are complete structs and replies decode into real structs.
defmodule PhoenixGenApi.Structs.FunConfig do
  defstruct request_type: nil, service: nil, nodes: nil, choose_node_mode: nil,
            timeout: nil, mfa: nil, arg_types: nil, arg_orders: nil,
            response_type: nil, request_info: false, check_permission: false,
            permission_callback: nil, version: nil, disabled: false, retry: nil,
            before_execute: nil, after_execute: nil, hook_timeout: 5000
end

defmodule PhoenixGenApi.Structs.PushConfig do
  defstruct service: nil, nodes: nil, config_version: nil, fun_configs: nil,
            module: nil, function: nil, version_module: nil,
            version_function: nil, args: [], version_args: [], push_token: nil
end

defmodule PhoenixGenApi.Structs.ServiceConfig do
  defstruct service: nil, nodes: nil, module: nil, function: nil, args: nil,
            version_module: nil, version_function: nil, version_args: nil
end

defmodule Scenario do
  require Check
  alias PhoenixGenApi.Structs.{FunConfig, PushConfig, ServiceConfig}
  alias PhoenixGenApi.{ConfigDb, ConfigReceiver, ConfigFailed, ConfigPuller}

  def f(over \\ []) do
    struct!(%FunConfig{request_type: "test_request", service: "test_service",
      nodes: [node()], choose_node_mode: :random, timeout: 5000,
      mfa: {String, :upcase, []}, arg_types: %{}, arg_orders: [],
      response_type: :sync, version: "1.0.0"}, over)
  end

  def p(over \\ []) do
    struct!(%PushConfig{service: "test_service", nodes: [node()],
      config_version: "1.0.0", fun_configs: [f()]}, over)
  end

  # The pusher's exact call shape (§4.1).
  def push(gw, cfg, force \\ false),
    do: :rpc.call(gw, ConfigReceiver, :push, [cfg, [force: force]], 5000)

  def reset(gw) do
    :ok = :rpc.call(gw, ConfigDb, :clear, [])
    :ok = :rpc.call(gw, ConfigFailed, :clear, [])
    for {s, _} <- :rpc.call(gw, ConfigReceiver, :get_all_pushed_services, []),
        do: :ok = :rpc.call(gw, ConfigReceiver, :delete_pushed_service, [s])
    :ok
  end

  def run do
    gw = Check.gw()
    reset(gw)

    # ---- push, skip, force (cases 29, 30) ----
    Check.eq("push P -> {:ok, :accepted}", {:ok, :accepted}, fn -> push(gw, p()) end)
    Check.eq("push P again -> skipped", {:ok, :skipped, :version_matches},
      fn -> push(gw, p()) end)
    Check.eq("push P force: true -> accepted", {:ok, :accepted}, fn -> push(gw, p(), true) end)
    Check.eq("push/1 without opts -> skipped", {:ok, :skipped, :version_matches},
      fn -> :rpc.call(gw, ConfigReceiver, :push, [p()]) end)

    Check.match("ConfigDb.get returns a complete %FunConfig{} struct",
      {:ok, %FunConfig{service: "test_service", timeout: 5000, hook_timeout: 5000,
                       nodes: [n], version: "1.0.0"}} when n == node(),
      :rpc.call(gw, ConfigDb, :get, ["test_service", "test_request", "1.0.0"]))

    Check.eq("IEx prints the pushed config as a %PushConfig{} struct", true, fn ->
      pc = :rpc.call(gw, ConfigReceiver, :get_pushed_config, ["test_service"])
      is_struct(pc, PushConfig) and
        String.starts_with?(inspect(pc), "%PhoenixGenApi.Structs.PushConfig{") and
        map_size(pc) == 12 and pc == p()
    end)

    # ---- verify and listings (cases 46, 47) ----
    Check.eq("verify matched", {:ok, :matched},
      fn -> :rpc.call(gw, ConfigReceiver, :verify, ["test_service", "1.0.0"], 5000) end)
    Check.eq("verify mismatch", {:ok, :mismatch, "1.0.0"},
      fn -> :rpc.call(gw, ConfigReceiver, :verify, ["test_service", "2.0.0"]) end)
    Check.eq("verify atom service -> not_found (exact keys)", {:error, :not_found},
      fn -> :rpc.call(gw, ConfigReceiver, :verify, [:test_service, "1.0.0"]) end)
    Check.eq("PhoenixGenApi.verify_config alias", {:ok, :matched},
      fn -> :rpc.call(gw, PhoenixGenApi, :verify_config, ["test_service", "1.0.0"]) end)
    Check.eq("get_all_pushed_services", %{"test_service" => "1.0.0"},
      fn -> :rpc.call(gw, ConfigReceiver, :get_all_pushed_services, []) end)
    Check.eq("get_pushed_config unknown -> nil", nil,
      fn -> :rpc.call(gw, ConfigReceiver, :get_pushed_config, ["unknown_service"]) end)

    # ---- bad input (cases 31, 33, 34) ----
    for bad <- ["invalid", 123, nil, []] do
      Check.eq("push #{inspect(bad)} -> invalid_push_config_data",
        {:error, :invalid_push_config_data}, fn -> push(gw, bad) end)
    end
    Check.eq("push with service nil -> validation_failed messages",
      {:error, {:validation_failed, ["service must not be nil",
        "all fun_configs must have the same service name as the push config"]}},
      fn -> push(gw, p(service: nil)) end)
    Check.eq("map push with plain-map items -> three messages",
      {:error, {:validation_failed, [
        "fun_configs must be a non-empty list of FunConfig structs",
        "all fun_configs must have the same service name as the push config",
        "all fun_configs must have valid versions"]}},
      fn -> push(gw, %{service: "test_service", nodes: [node()], config_version: "9",
                       fun_configs: [%{request_type: "test"}]}) end)

    # ---- per-item failures (cases 39, 40, 43) ----
    Check.eq("all items invalid -> all_invalid with inspect strings",
      {:error, {:all_invalid, ["invalid FunConfig: request_type=\"test_request\", " <>
        "service=\"test_service\", version=\"3.0.0\", nodes: #{inspect([node()])}, " <>
        "mfa: {String, :upcase, []}, response_type: :sync, check_permission: false"]}},
      fn -> push(gw, p(config_version: "3", fun_configs: [f(timeout: 50, version: "3.0.0")])) end)

    Check.eq("partial push accepted", {:ok, :accepted}, fn ->
      push(gw, p(config_version: "4",
        fun_configs: [f(), f(request_type: "bad", timeout: 50)]))
    end)
    Check.match("failed log has the push failure (newest first)",
      [%{request_type: "bad", source: :push, node: nil, service: "test_service",
         reason: ["timeout must be a positive integer between 100 and 300000, or :infinity"],
         config: %{timeout: 50} = cfg, inserted_at_ms: t0, expires_at_ms: t1} | _]
        when not is_map_key(cfg, :__struct__) and t1 - t0 == 86_400_000,
      :rpc.call(gw, ConfigFailed, :list, [[source: :push]]))
    Check.eq("denied mfa -> batch_add_failed", {:error, :batch_add_failed},
      fn -> push(gw, p(config_version: "5", fun_configs: [f(mfa: {:os, :cmd, []})])) end)
    Check.match("denied mfa recorded as :pull",
      [%{reason: ["MFA not allowed: {:os, :cmd, []}"], source: :pull, node: nil} | _],
      :rpc.call(gw, PhoenixGenApi, :failed_configs, [[source: :pull]]))
    Check.match("ConfigFailed.summary counts",
      %{total: 3, pull: 1, push: 2, newest: %{source: :pull}, oldest: %{source: :push}},
      :rpc.call(gw, ConfigFailed, :summary, []))

    # ---- ConfigDb queries (cases 57, 58, 61, 62) ----
    Check.eq("versions accumulate; get_latest is semantic", "10.0.0", fn ->
      {:ok, :accepted} = push(gw, p(config_version: "6", fun_configs: [f(version: "9.0.0")]))
      {:ok, :accepted} = push(gw, p(config_version: "7", fun_configs: [f(version: "10.0.0")]))
      {:ok, fc} = :rpc.call(gw, ConfigDb, :get_latest, ["test_service", "test_request"])
      fc.version
    end)
    Check.eq("get_fast picks 10.0.0 among X.Y.Z", {:ok, "10.0.0"}, fn ->
      {:ok, fc} = :rpc.call(gw, ConfigDb, :get_fast, ["test_service", "test_request"])
      {:ok, fc.version}
    end)
    Check.eq("disable / get / enable", [:ok, {:error, :disabled}, :ok], fn ->
      [:rpc.call(gw, ConfigDb, :disable, ["test_service", "test_request", "10.0.0"]),
       :rpc.call(gw, ConfigDb, :get, ["test_service", "test_request", "10.0.0"]),
       :rpc.call(gw, ConfigDb, :enable, ["test_service", "test_request", "10.0.0"])]
    end)
    Check.eq("get_all_functions lists every version", ["1.0.0", "10.0.0", "9.0.0"], fn ->
      %{"test_service" => %{"test_request" => vs}} =
        :rpc.call(gw, ConfigDb, :get_all_functions, [])
      Enum.sort(vs)
    end)
    Check.eq("count and get_all_services", {3, ["test_service"]}, fn ->
      {:rpc.call(gw, ConfigDb, :count, []), :rpc.call(gw, ConfigDb, :get_all_services, [])}
    end)
    Check.eq("ConfigDb.add of a non-struct -> function_clause",
      {:badrpc, {:EXIT, {:function_clause, [{ConfigDb, :add, [%{a: 1}], []}]}}},
      fn -> :rpc.call(gw, ConfigDb, :add, [%{a: 1}]) end)
    Check.eq("ConfigDb.add sentinel version -> invalid_config", {:error, :invalid_config},
      fn -> :rpc.call(gw, ConfigDb, :add, [f(version: "0.0.0")]) end)

    # ---- auto-pull registration and delete (cases 48, 50) ----
    Check.eq("push with module/function registers a ServiceConfig",
      %{"test_service" => %ServiceConfig{service: "test_service", nodes: [node()],
        module: Sup, function: :get_config, args: [], version_module: nil,
        version_function: nil, version_args: []}},
      fn ->
        {:ok, :accepted} = push(gw, p(config_version: "8", module: Sup, function: :get_config))
        :rpc.call(gw, ConfigPuller, :get_services, [])
      end)
    Check.eq("delete_pushed_service drops state and registration, keeps store",
      {:ok, nil, %{}, %{}, :ok}, fn ->
        :ok = :rpc.call(gw, ConfigReceiver, :delete_pushed_service, ["test_service"])
        {:ok, _} = :rpc.call(gw, ConfigDb, :get, ["test_service", "test_request", "1.0.0"])
        {:ok, :rpc.call(gw, ConfigReceiver, :get_pushed_config, ["test_service"]),
         :rpc.call(gw, ConfigReceiver, :get_all_pushed_services, []),
         :rpc.call(gw, ConfigPuller, :get_services, []),
         :rpc.call(gw, ConfigReceiver, :delete_pushed_service, ["unknown"])}
      end)
    Check.eq("ConfigPuller.add with a non-ServiceConfig raises ArgumentError",
      {:badrpc, {:EXIT, {%ArgumentError{message: "nodes must be a list of ServiceConfig"},
        [{ConfigPuller, :add, [[%{invalid: "data"}]], []}]}}},
      fn -> :rpc.call(gw, ConfigPuller, :add, [[%{invalid: "data"}]]) end)
    Check.eq("PhoenixGenApi.push_config alias", {:ok, :accepted},
      fn -> :rpc.call(gw, PhoenixGenApi, :push_config, [p(service: :svc,
        fun_configs: [f(service: "svc")])]) end)
    Check.eq("atom-service push keys by the exact term", {{:ok, :matched}, {:error, :not_found}},
      fn -> {:rpc.call(gw, ConfigReceiver, :verify, [:svc, "1.0.0"]),
             :rpc.call(gw, ConfigReceiver, :verify, ["svc", "1.0.0"])} end)

    Check.eq("clean up", :ok, fn -> reset(gw) end)
    Check.finish()
  end
end

Scenario.run()
