# 140_config_json: PhoenixGenApi.JsonConfig over RPC (config-plane.md §3.2
# rule 3, docs/compat.md C33): an Elixir node stores FunConfigs through
# ConfigDb and exports them as structs, as the JSON config list map and as
# JSON text, with the library's options and exceptions.
Code.require_file("lib/check.exs", __DIR__)
Code.require_file("lib/config_structs.exs", __DIR__)
Code.require_file("lib/config_gw.exs", __DIR__)

defmodule Scenario do
  require Check
  alias PhoenixGenApi.Structs.FunConfig
  alias PhoenixGenApi.{ConfigDb, JsonConfig}

  def call(gw, m, f, a), do: :rpc.call(gw, m, f, a, Check.tmo(5_000))
  def json(gw, f, a), do: call(gw, JsonConfig, f, a)

  # The library test's FunConfig (json_config_test.exs), with overrides.
  def fc(over \\ []) do
    struct!(%FunConfig{request_type: "send_message", service: "chat",
      nodes: :local, choose_node_mode: :random, timeout: 5000,
      mfa: {MyModule, :send_message, []}, arg_types: %{"content" => :string},
      arg_orders: ["content"], response_type: :sync}, over)
  end

  def add(gw, c), do: :ok = call(gw, ConfigDb, :add, [c])

  def run do
    if ConfigGw.binary() == nil do
      Check.diag("skipped: JsonConfig is served by pga-node only (stand-in gateway)")
      Check.finish()
    end

    gw = Check.gw()
    :ok = call(gw, ConfigDb, :clear, [])
    add(gw, fc(version: "1.0.0"))
    add(gw, fc(request_type: "get_users", service: "users",
      mfa: {MyModule, :get_users, []}, arg_types: nil, arg_orders: nil))

    Check.match("generate/1 returns complete %FunConfig{} structs",
      [%FunConfig{request_type: "send_message", service: "chat", version: "1.0.0",
                  hook_timeout: 5000}],
      json(gw, :generate, ["chat"]))

    Check.eq("generate(format: :map) builds the JSON config list",
      %{"send_message - send_message" => %{"event" => "phoenix_gen_api",
        "data" => %{"user_id" => "user_1", "device_id" => "device_1",
          "request_type" => "send_message", "request_id" => "request_1",
          "service" => "chat", "version" => "1.0.0",
          "args" => %{"content" => ""}}}},
      fn -> json(gw, :generate, ["chat", [format: :map]]) end)

    Check.eq("export_all(format: :json) is compact JSON, keys sorted",
      ~s({"get_users - get_users":{"data":{"args":{},"device_id":"device_1",) <>
      ~s("request_id":"request_1","request_type":"get_users","service":"users",) <>
      ~s("user_id":"user_1","version":null},"event":"phoenix_gen_api"},) <>
      ~s("send_message - send_message":{"data":{"args":{"content":""},) <>
      ~s("device_id":"device_1","request_id":"request_1","request_type":) <>
      ~s("send_message","service":"chat","user_id":"user_1","version":"1.0.0"},) <>
      ~s("event":"phoenix_gen_api"}}),
      fn -> json(gw, :export_all, [[format: :json]]) end)

    Check.eq("export_all/1 and export_service/2 sizes (library test)", {2, 1},
      fn -> {map_size(json(gw, :export_all, [[format: :map]])),
             map_size(json(gw, :export_service, ["chat", [format: :map]]))} end)

    Check.eq("descriptions and arg_values given as maps",
      {["send_message - Send a message to chat"], %{"content" => "Hello!"}},
      fn ->
        m = json(gw, :generate, ["chat", [format: :map,
          descriptions: %{"send_message" => "Send a message to chat"},
          arg_values: %{"send_message" => %{"content" => "Hello!"}}]])
        {Map.keys(m), hd(Map.values(m))["data"]["args"]}
      end)

    Check.eq("export_single with custom ids (library test)",
      {"send_message - send_message", "custom_user", "custom_device", "custom_request", nil},
      fn ->
        {k, v} = json(gw, :export_single, [fc(), [user_id: "custom_user",
          device_id: "custom_device", request_id: "custom_request"]])
        d = v["data"]
        {k, d["user_id"], d["device_id"], d["request_id"], d["version"]}
      end)

    # Latest by plain term order: "9.0.0" > "10.0.0"; a disabled latest
    # drops the request type (no older version stands in).
    Check.eq("latest version is the term-order maximum, not semver",
      {["9.0.0"], "10.0.0"}, fn ->
        add(gw, fc(service: "ord", version: "10.0.0"))
        add(gw, fc(service: "ord", version: "9.0.0"))
        {:ok, l} = call(gw, ConfigDb, :get_latest, ["ord", "send_message"])
        {for(c <- json(gw, :generate, ["ord"]), do: c.version), l.version}
      end)
    Check.eq("a disabled latest version is left out", [], fn ->
      :ok = call(gw, ConfigDb, :disable, ["ord", "send_message", "9.0.0"])
      json(gw, :generate, ["ord"])
    end)
    Check.eq("services are exact terms (:atom_chat vs \"atom_chat\")",
      {1, [], "atom_chat"}, fn ->
        add(gw, fc(service: :atom_chat, version: "2.0.0"))
        m = json(gw, :export_service, [:atom_chat, [format: :map]])
        {map_size(m), json(gw, :generate, ["atom_chat"]),
         hd(Map.values(m))["data"]["service"]}
      end)

    Check.match("invalid format raises ArgumentError (as the library)",
      {:badrpc, {:EXIT, {%ArgumentError{message: "invalid format: :xml"}, _}}},
      json(gw, :generate, ["chat", [format: :xml]]))
    Check.match("a custom encoder cannot run in pga: ArgumentError",
      {:badrpc, {:EXIT, {%ArgumentError{message: "format: {Jason, :encode!, []} cannot run" <> _}, _}}},
      json(gw, :generate, ["chat", [format: {Jason, :encode!, []}]]))
    Check.match("a description function cannot run in pga: ArgumentError",
      {:badrpc, {:EXIT, {%ArgumentError{message: "descriptions given as a function" <> _}, _}}},
      json(gw, :generate, ["chat", [format: :map, descriptions: fn c -> c.request_type end]]))
    Check.match("opts that are not a list: function_clause",
      {:badrpc, {:EXIT, {:function_clause, _}}},
      json(gw, :generate, ["chat", :map]))
    Check.match("export_service with a number: function_clause",
      {:badrpc, {:EXIT, {:function_clause, _}}},
      json(gw, :export_service, [123]))

    Check.eq("clean up", :ok, fn -> call(gw, ConfigDb, :clear, []) end)
    Check.finish()
  end
end

Scenario.run()
