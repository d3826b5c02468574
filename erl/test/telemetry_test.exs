defmodule PhoenixGenApi.Telemetry do
  @moduledoc "A stand-in gateway facade: records the bridge's subscription."
  def list_events, do: [[:phoenix_gen_api, :executor, :request, :stop]]

  def attach_many(id, events, pid, config) do
    send(:telemetry_test, {:attached, id, events, pid, config})
    :ok
  end

  def detach_all(id), do: send(:telemetry_test, {:detached, id}) && :ok
end

defmodule PgaRemoteTelemetryTest do
  use ExUnit.Case, async: false
  alias PhoenixGenApi.Remote.Telemetry, as: Bridge

  @available Code.ensure_loaded?(:telemetry)
  @compile {:no_warn_undefined, :telemetry}

  setup do
    Process.register(self(), :telemetry_test)
    if @available, do: {:ok, _} = Application.ensure_all_started(:telemetry)
    :ok
  end

  if not @available do
    test "without :telemetry, attach/2 says so" do
      assert Bridge.attach(node()) == {:error, :telemetry_not_available}
    end
  end

  @tag skip:
         if(@available,
           do: false,
           else: ":telemetry is not on the code path (optional dependency)"
         )
  test "a gateway's events are re-emitted with :telemetry.execute/3" do
    test = self()
    handler = fn ev, m, md, _ -> send(test, {:local, ev, m, md}) end

    :ok =
      :telemetry.attach(
        "bridge-test",
        [:phoenix_gen_api, :executor, :request, :stop],
        handler,
        nil
      )

    {:ok, bridge} = Bridge.attach(node(), id: "t1")

    assert_receive {:attached, "t1", [[:phoenix_gen_api, :executor, :request, :stop]], ^bridge,
                    %{}}

    send(
      bridge,
      {:telemetry_event, [:phoenix_gen_api, :executor, :request, :stop], %{duration_us: 7},
       %{request_id: "r1"}, %{}}
    )

    assert_receive {:local, [:phoenix_gen_api, :executor, :request, :stop], %{duration_us: 7},
                    %{request_id: "r1"}}

    :ok = Bridge.detach(bridge)
    assert_receive {:detached, "t1"}
    :telemetry.detach("bridge-test")
  end
end
