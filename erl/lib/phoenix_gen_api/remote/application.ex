defmodule PhoenixGenApi.Remote.Application do
  @moduledoc """
  The `:pga_remote` application: owns the table of gateways marked down
  (`PhoenixGenApi.Remote.Gateways`) and supervises the telemetry bridges
  that `PhoenixGenApi.Remote.Telemetry.attach/2` starts. Started by Mix
  with the application that depends on `:pga_remote`.
  """
  use Application

  @impl true
  def start(_type, _args) do
    children = [
      %{id: :gateway_marks, start: {__MODULE__, :start_table_owner, []}},
      {DynamicSupervisor, name: PhoenixGenApi.Remote.Bridges, strategy: :one_for_one}
    ]

    Supervisor.start_link(children, strategy: :one_for_one, name: PhoenixGenApi.Remote.Supervisor)
  end

  @doc false
  # A process whose only job is to own the marks table.
  def start_table_owner do
    parent = self()

    pid =
      spawn_link(fn ->
        PhoenixGenApi.Remote.Gateways.new_table()
        send(parent, {:table_ready, self()})
        Process.sleep(:infinity)
      end)

    receive do
      {:table_ready, ^pid} -> {:ok, pid}
    end
  end
end
