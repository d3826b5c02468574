defmodule PgaRemoteTest.Channel do
  use PhoenixGenApi.Remote, gateway: node(), pusher: {PgaRemoteTest.Pusher, :push}
end

defmodule PgaRemoteTest.LaxChannel do
  use PhoenixGenApi.Remote,
    gateway: node(),
    event: "api",
    override_user_id: false,
    require_verified_user_id: false,
    pusher: {PgaRemoteTest.Pusher, :push}
end

defmodule PgaRemoteTest do
  use ExUnit.Case, async: true
  alias PgaRemoteTest.{Channel, LaxChannel}

  defp socket(user_id), do: %{assigns: %{user_id: user_id}, test: self()}

  test "a sync request pushes the response as a plain map, then replies ok" do
    payload = %{"request_id" => "r1", "request_type" => "get", "service" => "svc"}
    assert {:reply, {:ok, "get"}, _} = Channel.handle_in("phoenix_gen_api", payload, socket("u1"))
    assert_received {:pushed, "phoenix_gen_api", %{request_id: "r1", success: true} = pushed}
    refute Map.has_key?(pushed, :__struct__)
  end

  test "the verified user id overrides the client's" do
    payload = %{"request_id" => "r2", "request_type" => "get", "service" => "svc", "user_id" => "evil"}
    Channel.handle_in("phoenix_gen_api", payload, socket("u1"))
    assert_received {:pushed, _, %{result: "u1"}}
  end

  test "without a verified user: Authentication required, pushed then replied" do
    payload = %{"request_id" => "r3", "request_type" => "get", "service" => "svc"}
    assert {:reply, {:error, "Authentication required"}, _} =
             Channel.handle_in("phoenix_gen_api", payload, socket(nil))
    assert_received {:pushed, _, %{request_id: "r3", success: false, error: "Authentication required"}}
  end

  test "a missing request_id is reported as \"unknown\"" do
    Channel.handle_in("phoenix_gen_api", %{"request_type" => "get"}, socket(""))
    assert_received {:pushed, _, %{request_id: "unknown"}}
  end

  test "with both options off a client user id survives and no user is needed" do
    payload = %{"request_id" => "r4", "request_type" => "get", "service" => "svc", "user_id" => "c"}
    assert {:reply, {:ok, "get"}, _} = LaxChannel.handle_in("api", payload, socket(nil))
    assert_received {:pushed, "api", %{result: "c"}}
  end

  test "fire-and-forget pushes nothing and replies ok" do
    payload = %{"request_id" => "r5", "request_type" => "none", "service" => "svc"}
    assert {:reply, {:ok, "none"}, _} = Channel.handle_in("phoenix_gen_api", payload, socket("u1"))
    refute_received {:pushed, _, _}
  end

  test "a decode error: Invalid request pushed, the message replied" do
    payload = %{"request_id" => "r6", "request_type" => "bad"}
    assert {:reply, {:error, "Missing required fields: service"}, _} =
             Channel.handle_in("phoenix_gen_api", payload, socket("u1"))
    assert_received {:pushed, _, %{error: "Invalid request: Missing required fields: service"}}
  end

  test "another exception: Request processing failed pushed, its message replied" do
    payload = %{"request_id" => "r7", "request_type" => "argfail", "service" => "svc"}
    assert {:reply, {:error, "age must be a number"}, _} =
             Channel.handle_in("phoenix_gen_api", payload, socket("u1"))
    assert_received {:pushed, _, %{error: "Request processing failed", request_id: "r7"}}
  end

  test "async results, stream chunks, pushes and relay messages are pushed" do
    resp = %{__struct__: PhoenixGenApi.Structs.Response, request_id: "a", result: %{__struct__: X, v: 1}}
    for tag <- [:async_call, :stream_response, :push, :relay_message] do
      assert {:noreply, _} = Channel.handle_info({tag, resp}, socket("u1"))
      assert_received {:pushed, "phoenix_gen_api", %{request_id: "a", result: %{v: 1}}}
    end
  end

  test "stream_started is remembered for stop_stream; unknown ids are not found" do
    relay = spawn(fn -> receive do m -> send(:pga_remote_test, {:relay_got, m}) end end)
    Process.register(self(), :pga_remote_test)
    assert {:noreply, _} = Channel.handle_info({:stream_started, "s1", relay}, socket("u1"))
    refute_received {:pushed, _, _}
    assert :ok = PhoenixGenApi.Remote.stop_stream("s1")
    assert_receive {:relay_got, {:"$gen_cast", :stop}}
    assert {:error, :not_found} = PhoenixGenApi.Remote.stop_stream("nope")
  end
end
