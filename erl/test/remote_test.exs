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
    payload = %{
      "request_id" => "r2",
      "request_type" => "get",
      "service" => "svc",
      "user_id" => "evil"
    }

    Channel.handle_in("phoenix_gen_api", payload, socket("u1"))
    assert_received {:pushed, _, %{result: "u1"}}
  end

  test "without a verified user: Authentication required, pushed then replied" do
    payload = %{"request_id" => "r3", "request_type" => "get", "service" => "svc"}

    assert {:reply, {:error, "Authentication required"}, _} =
             Channel.handle_in("phoenix_gen_api", payload, socket(nil))

    assert_received {:pushed, _,
                     %{request_id: "r3", success: false, error: "Authentication required"}}
  end

  test "a missing request_id is reported as \"unknown\"" do
    Channel.handle_in("phoenix_gen_api", %{"request_type" => "get"}, socket(""))
    assert_received {:pushed, _, %{request_id: "unknown"}}
  end

  test "with both options off a client user id survives and no user is needed" do
    payload = %{
      "request_id" => "r4",
      "request_type" => "get",
      "service" => "svc",
      "user_id" => "c"
    }

    assert {:reply, {:ok, "get"}, _} = LaxChannel.handle_in("api", payload, socket(nil))
    assert_received {:pushed, "api", %{result: "c"}}
  end

  test "fire-and-forget pushes nothing and replies ok" do
    payload = %{"request_id" => "r5", "request_type" => "none", "service" => "svc"}

    assert {:reply, {:ok, "none"}, _} =
             Channel.handle_in("phoenix_gen_api", payload, socket("u1"))

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
    resp = %{
      __struct__: PhoenixGenApi.Structs.Response,
      request_id: "a",
      result: %{__struct__: X, v: 1}
    }

    for tag <- [:async_call, :stream_response, :push, :relay_message] do
      assert {:noreply, _} = Channel.handle_info({tag, resp}, socket("u1"))
      assert_received {:pushed, "phoenix_gen_api", %{request_id: "a", result: %{v: 1}}}
    end
  end

  test "stream_started is remembered for stop_stream; unknown ids are not found" do
    relay =
      spawn(fn ->
        receive do
          m -> send(:pga_remote_test, {:relay_got, m})
        end
      end)

    Process.register(self(), :pga_remote_test)
    assert {:noreply, _} = Channel.handle_info({:stream_started, "s1", relay}, socket("u1"))
    refute_received {:pushed, _, _}
    assert :ok = PhoenixGenApi.Remote.stop_stream("s1")
    assert_receive {:relay_got, {:"$gen_cast", :stop}}
    assert {:error, :not_found} = PhoenixGenApi.Remote.stop_stream("nope")
  end
end

defmodule PgaRemoteCallbacksTest do
  use ExUnit.Case, async: false
  import ExUnit.CaptureIO

  # compiled by setup_all, from @channel
  @compile {:no_warn_undefined, PgaRemoteTest.OwnCallbacks}

  @channel """
  defmodule PgaRemoteTest.OwnCallbacks do
    use PhoenixGenApi.Remote, gateway: node(), pusher: {PgaRemoteTest.Pusher, :push}

    def handle_info(:tick, socket), do: {:noreply, Map.put(socket, :ticked, true)}
    def handle_info(msg, socket), do: super(msg, socket)

    def handle_in("ping", _payload, socket), do: {:reply, {:ok, "pong"}, socket}
    def handle_in(event, payload, socket), do: super(event, payload, socket)
  end
  """

  setup_all do
    warnings = capture_io(:stderr, fn -> Code.compile_string(@channel, "own_callbacks.ex") end)
    %{warnings: warnings}
  end

  defp socket(user_id), do: %{assigns: %{user_id: user_id}, test: self()}

  test "a channel with its own handle_info/handle_in compiles without a warning", %{warnings: w} do
    assert w == ""
  end

  test "its own clauses run first" do
    assert {:noreply, %{ticked: true}} =
             PgaRemoteTest.OwnCallbacks.handle_info(:tick, socket("u1"))

    assert {:reply, {:ok, "pong"}, _} =
             PgaRemoteTest.OwnCallbacks.handle_in("ping", %{}, socket("u1"))
  end

  test "super/2 chains to the injected clauses" do
    resp = %{__struct__: PhoenixGenApi.Structs.Response, request_id: "c1", result: 1}

    assert {:noreply, _} =
             PgaRemoteTest.OwnCallbacks.handle_info({:async_call, resp}, socket("u1"))

    assert_received {:pushed, "phoenix_gen_api", %{request_id: "c1"}}
    payload = %{"request_id" => "c2", "request_type" => "get", "service" => "svc"}

    assert {:reply, {:ok, "get"}, _} =
             PgaRemoteTest.OwnCallbacks.handle_in("phoenix_gen_api", payload, socket("u1"))

    assert_received {:pushed, _, %{request_id: "c2", result: "u1"}}
  end

  test "handle_pga_info/2 handles any message" do
    assert {:noreply, _} = PgaRemoteTest.OwnCallbacks.handle_pga_info(:whatever, socket("u1"))
    refute_received {:pushed, _, _}
  end

  test "the injected handle_in refuses other events as a missing clause would" do
    assert_raise FunctionClauseError, fn ->
      PgaRemoteTest.Channel.handle_in("other", %{}, socket("u1"))
    end
  end

  test "pga_message?/1 tells pga's messages from the channel's" do
    assert PhoenixGenApi.Remote.pga_message?({:stream_response, %{}})
    assert PhoenixGenApi.Remote.pga_message?({:stream_started, "r", self()})
    refute PhoenixGenApi.Remote.pga_message?(:tick)
  end
end

defmodule PgaRemoteRuntimeGatewayTest do
  use ExUnit.Case, async: false

  defmodule EnvChannel do
    use PhoenixGenApi.Remote, pusher: {PgaRemoteTest.Pusher, :push}
  end

  def gateways, do: [node()]

  defmodule MfaChannel do
    use PhoenixGenApi.Remote,
      gateway: {PgaRemoteRuntimeGatewayTest, :gateways, []},
      pusher: {PgaRemoteTest.Pusher, :push}
  end

  defp socket(user_id), do: %{assigns: %{user_id: user_id}, test: self()}
  defp payload(id), do: %{"request_id" => id, "request_type" => "get", "service" => "svc"}

  test "without :gateway the application environment is read at each request" do
    Application.delete_env(:pga_remote, :gateway)

    assert {:reply, {:error, msg}, _} =
             EnvChannel.handle_in("phoenix_gen_api", payload("e1"), socket("u1"))

    assert msg =~ "no pga gateway configured"
    Application.put_env(:pga_remote, :gateway, node())

    assert {:reply, {:ok, "get"}, _} =
             EnvChannel.handle_in("phoenix_gen_api", payload("e2"), socket("u1"))

    assert_received {:pushed, _, %{request_id: "e2", success: true}}
  after
    Application.delete_env(:pga_remote, :gateway)
  end

  test "a {module, function, args} gateway is called at run time" do
    assert {:reply, {:ok, "get"}, _} =
             MfaChannel.handle_in("phoenix_gen_api", payload("m1"), socket("u1"))

    assert_received {:pushed, _, %{request_id: "m1"}}
  end
end
