ExUnit.start()

defmodule PgaRemoteTest.Pusher do
  @moduledoc "Stands in for Phoenix.Channel.push/3: sends pushes to the test."
  def push(%{test: pid}, event, payload), do: send(pid, {:pushed, event, payload})
end

defmodule PhoenixGenApi.Executor do
  @moduledoc "A stand-in gateway executor (the real one is pga's)."
  def execute_params!(%{"request_type" => "none"}), do: {:ok, :no_response}

  def execute_params!(%{"request_type" => "bad"}) do
    raise %{
      __exception__: true,
      __struct__: PgaRemoteTest.DecodeError,
      message: "Missing required fields: service",
      code: :missing_field,
      details: nil
    }
  end

  def execute_params!(%{"request_type" => "argfail"}),
    do: raise(ArgumentError, "age must be a number")

  def execute_params!(%{"request_id" => rid} = p) do
    %{
      __struct__: PhoenixGenApi.Structs.Response,
      request_id: rid,
      result: p["user_id"],
      success: true,
      error: nil,
      async: false,
      has_more: false,
      can_retry: false
    }
  end
end

defmodule PgaRemoteTest.DecodeError do
  defexception [:message, :code, :details]
end
