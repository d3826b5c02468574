# 320_request_adapter: the Elixir adapter of erl/ (PhoenixGenApi.Remote, a
# channel that forwards to pga) against the real gateway and a real service
# node: sync push and reply, DecodeError and argument-error replies, an
# async result pushed by the injected handle_info (request-plane.md §11).
Code.require_file("lib/check.exs", __DIR__)
Code.require_file("lib/config_structs.exs", __DIR__)
Code.require_file("../../erl/lib/phoenix_gen_api/remote/gateways.ex", __DIR__)
Code.require_file("../../erl/lib/phoenix_gen_api/remote.ex", __DIR__)

defmodule AdapterPusher do
  def push(%{test: pid}, event, payload), do: send(pid, {:pushed, event, payload})
end

defmodule AdapterChannel do
  use PhoenixGenApi.Remote,
    gateway: String.to_atom(System.fetch_env!("PGA_GW")),
    pusher: {AdapterPusher, :push}
end

defmodule Scenario do
  require Check
  alias PhoenixGenApi.Structs.PushConfig

  @service """
  defmodule Adp do
    def hello(name), do: {:ok, "hi " <> name}
    def age(n), do: {:ok, n + 1}
  end
  """

  def fc(node, rt, over) do
    ConfigFixtures.f(node, Keyword.merge([request_type: rt, service: "adp",
      timeout: 5000, version: nil, mfa: {Adp, String.to_atom(rt), []},
      arg_types: %{"name" => :string}, arg_orders: ["name"]], over))
  end

  def socket(user), do: %{assigns: %{user_id: user}, test: self()}

  def pushed do
    receive do
      {:pushed, "phoenix_gen_api", p} -> p
    after
      Check.tmo(2000) -> :nothing
    end
  end

  def plain(over) do
    Map.merge(%{request_id: nil, result: nil, success: false, error: nil, async: false,
      has_more: false, can_retry: false}, Map.new(over))
  end

  def run do
    if System.get_env("PGA_NODE") == "standin" do
      Check.diag("skipped: the BEAM stand-in has no executor")
      Check.finish()
    end

    gw = Check.gw()
    {_port, _ospid, svc} = Check.start_node("adp", "Process.sleep(:infinity)", setup: @service)
    fcs = [fc(svc, "hello", []),
           fc(svc, "age", arg_types: %{"n" => :num}, arg_orders: ["n"]),
           fc(svc, "later", mfa: {Adp, :hello, []}, response_type: :async)]
    push = %PushConfig{service: "adp", nodes: [svc], config_version: "1", fun_configs: fcs}
    Check.eq("push", {:ok, :accepted},
      fn -> :rpc.call(gw, PhoenixGenApi.ConfigReceiver, :push, [push, [force: true]], 5000) end)

    req = fn rt, args -> %{"request_id" => "a-" <> rt, "request_type" => rt,
                           "service" => "adp", "args" => args} end

    Check.eq("sync: pushes the plain Response, replies {:ok, rt}",
      {{:ok, "hello"}, plain(request_id: "a-hello", result: "hi A", success: true)},
      fn ->
        r = AdapterChannel.handle_in("phoenix_gen_api", req.("hello", %{"name" => "A"}), socket("u1"))
        {elem(r, 1), pushed()}
      end)
    Check.eq("DecodeError from pga: Invalid request pushed, message replied",
      {{:error, "Missing required fields: service"},
       plain(request_id: "x", error: "Invalid request: Missing required fields: service")},
      fn ->
        p = %{"request_id" => "x", "request_type" => "hello"}
        r = AdapterChannel.handle_in("phoenix_gen_api", p, socket("u1"))
        {elem(r, 1), pushed()}
      end)
    Check.eq("sync argument error: Request processing failed, validation text replied",
      {{:error, "invalid argument type for \"n\", expected :num, got \"x\""},
       plain(request_id: "a-age", error: "Request processing failed")},
      fn ->
        r = AdapterChannel.handle_in("phoenix_gen_api", req.("age", %{"n" => "x"}), socket("u1"))
        {elem(r, 1), pushed()}
      end)
    Check.eq("async: ack pushed, then the result pushed by handle_info",
      [plain(request_id: "a-later", success: true, async: true),
       plain(request_id: "a-later", result: "hi B", success: true)],
      fn ->
        s = socket("u1")
        {:reply, {:ok, "later"}, _} =
          AdapterChannel.handle_in("phoenix_gen_api", req.("later", %{"name" => "B"}), s)
        ack = pushed()
        receive do
          {:async_call, _} = m -> {:noreply, _} = AdapterChannel.handle_info(m, s)
        after Check.tmo(2000) -> :ok
        end
        [ack, pushed()]
      end)
    Check.finish()
  end
end

Scenario.run()
