# Stand-ins for PhoenixGenApi's config structs (same fields, same defaults,
# config-plane.md §1), for the config scenarios and the service nodes they
# start: pushes and pulled lists are complete structs, and replies decode
# into real structs.

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

defmodule ConfigFixtures do
  @moduledoc false
  alias PhoenixGenApi.Structs.{FunConfig, PushConfig}

  # Fixtures F and P of config-plane.md §12 (nodes: the given node).
  def f(node, over \\ []) do
    struct!(%FunConfig{request_type: "test_request", service: "test_service",
      nodes: [node], choose_node_mode: :random, timeout: 5000,
      mfa: {String, :upcase, []}, arg_types: %{}, arg_orders: [],
      response_type: :sync, version: "1.0.0"}, over)
  end

  def p(node, over \\ []) do
    struct!(%PushConfig{service: "test_service", nodes: [node],
      config_version: "1.0.0", fun_configs: [f(node)]}, over)
  end
end
