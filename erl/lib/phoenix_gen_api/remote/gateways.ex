defmodule PhoenixGenApi.Remote.Gateways do
  @moduledoc """
  Which pga gateway a request goes to.

  A gateway setting is resolved at run time, for every call, so a release
  can set it from its environment after compilation:

    * a node atom: `:"gw@10.0.0.5"`;
    * a list of node atoms (requests are spread over them, see below);
    * `{module, function, args}` or a 0-arity function capture, called for
      each request and answering a node or a list;
    * `{:app_env, app, key}`: `Application.get_env(app, key)`, itself any
      of the above (the default of `use PhoenixGenApi.Remote` is
      `{:app_env, :pga_remote, :gateway}`).

  With several gateways a request's key (the user id) picks the gateway
  by rendezvous hashing: every gateway gets the score
  `:erlang.phash2({gateway, key}, 2^32)` and the highest wins. The same
  user goes to the same gateway while it is up, and when a gateway goes
  away only its users move (each to their own next-best gateway).

  A gateway that cannot be reached (`:noconnection` before the request
  got there) is marked down for `down_ms` (default 5000,
  `config :pga_remote, down_ms: ...`) and the call moves to the next
  gateway in the key's order; marked gateways are tried last. A call that
  reached a gateway is never repeated elsewhere (it may have run).
  """

  @table __MODULE__
  @range 4_294_967_296

  @doc "The gateway setting resolved to a list of node atoms."
  def resolve({:app_env, app, key}), do: app |> Application.get_env(key) |> resolve_value()
  def resolve(spec), do: resolve_value(spec)

  defp resolve_value(nil),
    do: raise(ArgumentError, "no pga gateway configured (config :pga_remote, gateway: ...)")

  defp resolve_value(node) when is_atom(node), do: [node]
  defp resolve_value({:app_env, _, _} = spec), do: resolve(spec)

  defp resolve_value({m, f, a}) when is_atom(m) and is_atom(f) and is_list(a),
    do: m |> apply(f, a) |> resolve_value()

  defp resolve_value(fun) when is_function(fun, 0), do: fun.() |> resolve_value()

  defp resolve_value([_ | _] = nodes) do
    if Enum.all?(nodes, &is_atom/1),
      do: Enum.uniq(nodes),
      else: raise(ArgumentError, "pga gateways must be node atoms, got: #{inspect(nodes)}")
  end

  defp resolve_value(other),
    do: raise(ArgumentError, "not a pga gateway setting: #{inspect(other)}")

  @doc "The gateways in the rendezvous order for `key` (best first)."
  def order(nodes, key) do
    Enum.sort_by(nodes, fn n -> {-:erlang.phash2({n, key}, @range), n} end)
  end

  @doc """
  The order a call tries: `order/2`, with gateways marked down (and not
  yet due for another try) moved to the end.
  """
  def plan(nodes, key) do
    {up, down} = nodes |> order(key) |> Enum.split_with(&(not down?(&1)))
    up ++ down
  end

  @doc """
  `:erpc.call(gateway, m, f, a, timeout)` on the first gateway of `plan/2`
  that can be reached. Raises or exits as `:erpc.call/5` does for the
  last gateway tried.
  """
  def call(spec, key, m, f, a, timeout) do
    spec |> resolve() |> plan(key) |> call_first(m, f, a, timeout)
  end

  defp call_first([node | rest], m, f, a, timeout) do
    connected = node in Node.list(:connected)

    try do
      result = :erpc.call(node, m, f, a, timeout)
      mark_up(node)
      result
    rescue
      # Not connected before the call and no connection now: the request
      # never left this node, so the next gateway may run it.
      e in ErlangError ->
        if e.original == {:erpc, :noconnection} and not connected and rest != [] do
          mark_down(node)
          call_first(rest, m, f, a, timeout)
        else
          reraise e, __STACKTRACE__
        end
    end
  end

  @doc "True while `node` is marked down (see the module doc)."
  def down?(node) do
    case lookup(node) do
      nil -> false
      until -> System.monotonic_time(:millisecond) < until
    end
  end

  @doc "Marks a gateway down for `down_ms`."
  def mark_down(node) do
    ms = Application.get_env(:pga_remote, :down_ms, 5_000)
    insert(node, System.monotonic_time(:millisecond) + ms)
  end

  @doc "Clears a gateway's down mark."
  def mark_up(node) do
    if table?() and lookup(node), do: :ets.delete(@table, node)
    :ok
  end

  # The marks live in a table the application owns; without the
  # application running there are no marks (every gateway counts as up).
  @doc false
  def new_table, do: :ets.new(@table, [:named_table, :public, :set, read_concurrency: true])

  defp table?, do: :ets.whereis(@table) != :undefined

  defp lookup(node) do
    if table?() do
      case :ets.lookup(@table, node) do
        [{_, until}] -> until
        [] -> nil
      end
    end
  end

  defp insert(node, until) do
    if table?(), do: :ets.insert(@table, {node, until})
    :ok
  end
end
