defmodule PhoenixGenApi.Remote.Ops do
  @moduledoc """
  IEx helpers for operating a pga gateway from any cluster node.

      iex> alias PhoenixGenApi.Remote.Ops
      iex> Ops.health(:"gw@127.0.0.1")      # prints the health report
      iex> Ops.call(:"gw@127.0.0.1", :statistics)  # returns the term

  The printing helpers run the gateway's `PhoenixGenApi.*_print` functions
  over `:rpc.call/5`; pga writes their text to this shell's group leader,
  exactly as an Elixir gateway running the library would. Every function
  takes the gateway node first; `gateway/0` reads the default from
  `config :pga_remote, gateway: :"gw@host"`.
  """

  @facade PhoenixGenApi
  @timeout 15_000

  @doc "The default gateway (`config :pga_remote, gateway: ...`)."
  def gateway, do: Application.fetch_env!(:pga_remote, :gateway)

  @doc "Any top-level PhoenixGenApi function on the gateway; returns its value."
  def call(gw, fun, args \\ []) when is_atom(gw) and is_atom(fun) and is_list(args),
    do: :rpc.call(gw, @facade, fun, args, @timeout)

  def health(gw, opts \\ []), do: call(gw, :health_print, [opts])
  def stats(gw), do: call(gw, :stats_print)
  def debug(gw, opts \\ []), do: call(gw, :debug_print, [opts])
  def cluster(gw), do: call(gw, :cluster_print)
  def flows(gw, opts \\ []), do: call(gw, :flows_print, [opts])
  def flow(gw, service, request_type, version \\ nil),
    do: call(gw, :call_flow_print, [service, request_type, version])
  def inspect_request(gw, request), do: call(gw, :inspect_print, [request])
  def pools(gw), do: call(gw, :pool_status)
  def cache(gw), do: call(gw, :cache_status)
  def pushed(gw), do: call(gw, :pushed_services_status)
  def failed(gw, opts \\ []), do: call(gw, :failed_configs_print, [opts])
  def failed_summary(gw), do: call(gw, :failed_configs_summary)
  def limits(gw), do: call(gw, :rl_config)
  def global_limits(gw), do: call(gw, :rl_global)
  def limit_status(gw, user_id) when is_binary(user_id), do: call(gw, :rl_status, [user_id])
end
