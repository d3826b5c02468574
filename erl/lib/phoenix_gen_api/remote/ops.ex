defmodule PhoenixGenApi.Remote.Ops do
  @moduledoc """
  IEx helpers for operating a pga gateway from any node of the cluster.

      iex> alias PhoenixGenApi.Remote.Ops
      iex> Ops.health(:"gw@127.0.0.1")             # prints the health report
      iex> Ops.call(:"gw@127.0.0.1", :statistics)  # returns the term

  The printing helpers run the gateway's `PhoenixGenApi.*_print` functions
  over `:rpc.call/5`; pga writes their text to this shell's group leader,
  exactly as an Elixir gateway running the library would. Every function
  takes the gateway node first; `gateway/0` gives the configured one
  (`config :pga_remote, gateway: ...`, the first of a list).
  """

  alias PhoenixGenApi.Remote.Gateways

  @facade PhoenixGenApi
  @timeout 15_000

  @doc "The configured gateway (`config :pga_remote, gateway: ...`; the first of a list)."
  def gateway, do: {:app_env, :pga_remote, :gateway} |> Gateways.resolve() |> hd()

  @doc "Runs any top-level `PhoenixGenApi` function on the gateway; returns its value."
  def call(gw, fun, args \\ []) when is_atom(gw) and is_atom(fun) and is_list(args),
    do: :rpc.call(gw, @facade, fun, args, @timeout)

  @doc "Prints the health report (`PhoenixGenApi.health_print/1`; opts as `health_check/1`)."
  def health(gw, opts \\ []), do: call(gw, :health_print, [opts])

  @doc "Prints the gateway's statistics (`stats_print/0`)."
  def stats(gw), do: call(gw, :stats_print)

  @doc "Prints the debug overview: processes, tables, pools (`debug_print/1`)."
  def debug(gw, opts \\ []), do: call(gw, :debug_print, [opts])

  @doc "Prints the gateway's view of the cluster (`cluster_print/0`)."
  def cluster(gw), do: call(gw, :cluster_print)

  @doc "Prints every configured flow (`flows_print/1`)."
  def flows(gw, opts \\ []), do: call(gw, :flows_print, [opts])

  @doc "Prints how one request type would run (`call_flow_print/3`)."
  def flow(gw, service, request_type, version \\ nil),
    do: call(gw, :call_flow_print, [service, request_type, version])

  @doc "Prints how a request map would be decoded and run (`inspect_print/1`)."
  def inspect_request(gw, request), do: call(gw, :inspect_print, [request])

  @doc "The worker pools' status (`pool_status/0`)."
  def pools(gw), do: call(gw, :pool_status)

  @doc "The config store's status (`cache_status/0`)."
  def cache(gw), do: call(gw, :cache_status)

  @doc "The services pushed to the gateway (`pushed_services_status/0`)."
  def pushed(gw), do: call(gw, :pushed_services_status)

  @doc "Prints the configs the gateway refused (`failed_configs_print/1`)."
  def failed(gw, opts \\ []), do: call(gw, :failed_configs_print, [opts])

  @doc "Counts of refused configs (`failed_configs_summary/0`)."
  def failed_summary(gw), do: call(gw, :failed_configs_summary)

  @doc "The rate limiter's configuration (`rl_config/0`)."
  def limits(gw), do: call(gw, :rl_config)

  @doc "The global rate limits (`rl_global/0`)."
  def global_limits(gw), do: call(gw, :rl_global)

  @doc "One user's rate-limit status (`rl_status/1`)."
  def limit_status(gw, user_id) when is_binary(user_id), do: call(gw, :rl_status, [user_id])
end
