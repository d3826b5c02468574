defmodule PhoenixGenApi.Remote.Telemetry do
  @moduledoc """
  Brings a pga gateway's telemetry events into this node's `:telemetry`.

  `:telemetry` handlers live in one VM, and pga is not a BEAM node: it
  sends each event to subscribed pids instead (ops-plane spec §6.3). A
  bridge is a process on this node that subscribes to all of a gateway's
  events and re-emits each one with `:telemetry.execute/3` under the
  library's event names (`[:phoenix_gen_api, :executor, :request, :stop]`
  ...), with the gateway's measurements and metadata unchanged. Existing
  handlers, `Telemetry.Metrics` reporters and LiveDashboard then see pga's
  events as if the library ran in this VM.

      # in your application's start/2, or from IEx:
      {:ok, _bridge} = PhoenixGenApi.Remote.Telemetry.attach(:"gw@10.0.0.5")

  `:telemetry` is an optional dependency: without it on the code path
  `attach/2` answers `{:error, :telemetry_not_available}`. The bridge
  re-subscribes when the gateway comes back after a disconnection (pga
  drops a subscriber whose node went away) and retries every
  `:retry_ms` (default 5000) while the gateway cannot be reached.
  """
  use GenServer
  require Logger

  # :telemetry is optional: present in the host application or not.
  @compile {:no_warn_undefined, :telemetry}

  @facade PhoenixGenApi.Telemetry

  @doc """
  Starts a bridge for `gateway` under the `:pga_remote` application.
  Options: `:id` (the handler id on the gateway, default
  `"pga-remote-bridge-<this node>"`), `:retry_ms`.
  """
  def attach(gateway, opts \\ []) when is_atom(gateway) do
    if available?() do
      DynamicSupervisor.start_child(
        PhoenixGenApi.Remote.Bridges,
        {__MODULE__, [{:gateway, gateway} | opts]}
      )
    else
      {:error, :telemetry_not_available}
    end
  end

  @doc "Stops a bridge and unsubscribes it on its gateway."
  def detach(bridge) when is_pid(bridge), do: GenServer.stop(bridge)

  @doc "True when the `:telemetry` application's module is on the code path."
  def available?, do: Code.ensure_loaded?(:telemetry)

  @doc false
  def child_spec(opts),
    do: %{
      id: {__MODULE__, opts[:gateway]},
      start: {__MODULE__, :start_link, [opts]},
      restart: :transient
    }

  @doc "Starts a bridge linked to the caller (for your own supervision tree)."
  def start_link(opts), do: GenServer.start_link(__MODULE__, opts)

  @impl true
  def init(opts) do
    gw = Keyword.fetch!(opts, :gateway)
    id = Keyword.get(opts, :id, "pga-remote-bridge-#{node()}")
    :ok = :net_kernel.monitor_nodes(true, node_type: :all)
    send(self(), :subscribe)

    {:ok,
     %{
       gateway: gw,
       id: id,
       retry_ms: Keyword.get(opts, :retry_ms, 5_000),
       subscribed: false,
       timer: nil
     }}
  end

  @impl true
  def handle_info(:subscribe, st), do: {:noreply, subscribe(%{st | timer: nil})}

  def handle_info({:telemetry_event, event, measurements, metadata, _config}, st) do
    :telemetry.execute(event, measurements, metadata)
    {:noreply, st}
  end

  def handle_info({:nodeup, gw, _}, %{gateway: gw} = st), do: {:noreply, subscribe(st)}

  def handle_info({:nodedown, gw, _}, %{gateway: gw} = st),
    do: {:noreply, retry_later(%{st | subscribed: false})}

  def handle_info(_other, st), do: {:noreply, st}

  @impl true
  def terminate(_reason, st) do
    if st.subscribed, do: :rpc.call(st.gateway, @facade, :detach_all, [st.id], 5_000)
    :ok
  end

  defp subscribe(%{subscribed: true} = st), do: st

  defp subscribe(st) do
    with events when is_list(events) <- :rpc.call(st.gateway, @facade, :list_events, [], 5_000),
         :ok <- :rpc.call(st.gateway, @facade, :attach_many, [st.id, events, self(), %{}], 5_000) do
      Logger.debug("pga telemetry bridge subscribed to #{length(events)} events of #{st.gateway}")
      %{st | subscribed: true}
    else
      other ->
        Logger.debug("pga telemetry bridge: #{st.gateway} not reachable (#{inspect(other)})")
        retry_later(st)
    end
  end

  defp retry_later(%{timer: nil} = st),
    do: %{st | timer: Process.send_after(self(), :subscribe, st.retry_ms)}

  defp retry_later(st), do: st
end
