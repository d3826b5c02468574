defmodule PhoenixGenApi.Remote do
  @moduledoc """
  Forwards a Phoenix channel's PhoenixGenApi events to pga gateway nodes.

  `use PhoenixGenApi.Remote` in a channel does what `use PhoenixGenApi`
  does in the library (request-plane spec §11), except that requests run
  on a pga gateway instead of in the channel's own VM:

      defmodule MyAppWeb.ApiChannel do
        use Phoenix.Channel
        use PhoenixGenApi.Remote

        def join("api:" <> _, _params, socket), do: {:ok, socket}
      end

  The gateway runs `PhoenixGenApi.Executor.execute_params!/1` on behalf of
  the channel process, so later messages (`{:async_call, response}`,
  `{:stream_started, request_id, pid}`, `{:stream_response, response}`,
  `{:push, term}`, `{:relay_message, term}`) come to the channel, whose
  injected `handle_info/2` pushes them to the client.

  ## Options

    * `:gateway` - where requests go, resolved at run time for every
      request (see `PhoenixGenApi.Remote.Gateways`): a node atom, a list
      of nodes, `{module, function, args}` or a 0-arity function capture
      (`&MyApp.gateways/0`). Default: the application environment,
      `config :pga_remote, gateway: ...` (a release sets it in
      `config/runtime.exs`, e.g. from an environment variable).
    * `:event` - the channel event (default `"phoenix_gen_api"`).
    * `:override_user_id` - replace the client's `"user_id"` with the
      socket's verified `assigns.user_id` (default `true`).
    * `:require_verified_user_id` - refuse requests without a verified
      user id (default `true`).
    * `:timeout` - ms for the call to a gateway (default 30_000).
    * `:pusher` - `{module, function}` called as `push(socket, event,
      payload)` (default `{Phoenix.Channel, :push}`).

  ## Your own callbacks

  The injected `handle_in/3` and `handle_info/2` are overridable, as
  Phoenix's own injected callbacks are. Define your clauses and end with
  one that hands everything else to the injected one with `super/2`:

      def handle_info(:after_join, socket), do: {:noreply, socket}
      def handle_info(msg, socket), do: super(msg, socket)

      def handle_in("ping", _payload, socket), do: {:reply, :ok, socket}
      def handle_in(event, payload, socket), do: super(event, payload, socket)

  Or call `handle_pga_info/2` yourself: it answers `{:noreply, socket}`
  for every message, pga's or not.
  """

  alias PhoenixGenApi.Remote.Gateways

  @executor PhoenixGenApi.Executor
  @pga_tags [:async_call, :stream_response, :push, :relay_message]

  defmacro __using__(opts) do
    quote bind_quoted: [opts: opts] do
      @pga_remote PhoenixGenApi.Remote.options(opts)

      @doc false
      def __pga_remote__, do: @pga_remote

      def handle_in(event, payload, socket) do
        PhoenixGenApi.Remote.handle_in(event, payload, socket, @pga_remote)
      end

      def handle_info(message, socket) do
        PhoenixGenApi.Remote.handle_message(message, socket, @pga_remote)
      end

      @doc "The injected `handle_info/2`, callable from the channel's own."
      def handle_pga_info(message, socket) do
        PhoenixGenApi.Remote.handle_message(message, socket, @pga_remote)
      end

      defoverridable handle_in: 3, handle_info: 2
    end
  end

  @doc """
  The options of a `use PhoenixGenApi.Remote` as a map (defaults filled).
  The gateway is kept as given and resolved for each request.
  """
  def options(opts) do
    %{
      gateway: Keyword.get(opts, :gateway, {:app_env, :pga_remote, :gateway}),
      event: Keyword.get(opts, :event, "phoenix_gen_api"),
      override_user_id: Keyword.get(opts, :override_user_id, true),
      require_verified_user_id: Keyword.get(opts, :require_verified_user_id, true),
      timeout: Keyword.get(opts, :timeout, 30_000),
      pusher: Keyword.get(opts, :pusher, {Phoenix.Channel, :push})
    }
  end

  @doc """
  The injected `handle_in/3`: the configured event runs as a request; any
  other event is refused as a channel without such a clause would be
  (`FunctionClauseError`), so a channel's own events need their clauses.
  """
  def handle_in(event, payload, socket, %{event: event} = o),
    do: handle_request(payload, socket, o)

  def handle_in(event, payload, socket, _o) do
    raise FunctionClauseError,
      module: __MODULE__,
      function: :handle_in,
      arity: 3,
      kind: :def,
      args: [event, payload, socket]
  end

  @doc "Handles one client request: the channel's `handle_in/3` result."
  def handle_request(payload, socket, o) do
    payload = override_user_id(payload, socket, o)

    if o.require_verified_user_id and not verified?(socket) do
      reject(payload, socket, o, "Authentication required", "Authentication required")
    else
      execute(payload, socket, o)
    end
  end

  defp override_user_id(payload, socket, o) do
    if o.override_user_id and verified?(socket),
      do: Map.put(payload, "user_id", user_id(socket)),
      else: payload
  end

  defp user_id(socket), do: socket |> assigns() |> Map.get(:user_id)
  defp verified?(socket), do: match?(<<_, _::binary>>, user_id(socket))
  defp assigns(%{assigns: a}) when is_map(a), do: a
  defp assigns(_), do: %{}

  defp request_id(payload), do: Map.get(payload, "request_id", "unknown")

  # Same user, same gateway (rendezvous hashing); anonymous requests are
  # spread by request id.
  defp routing_key(payload), do: Map.get(payload, "user_id") || request_id(payload)

  defp execute(payload, socket, o) do
    case Gateways.call(
           o.gateway,
           routing_key(payload),
           @executor,
           :execute_params!,
           [payload],
           o.timeout
         ) do
      {:ok, :no_response} ->
        {:reply, {:ok, payload["request_type"]}, socket}

      response ->
        push(socket, o, response)
        {:reply, {:ok, payload["request_type"]}, socket}
    end
  rescue
    e in ErlangError -> failed(erlang_reason(e), payload, socket, o)
    e -> failed({:exception, e, []}, payload, socket, o)
  catch
    :exit, reason -> failed({:exit, reason}, payload, socket, o)
  end

  # :erpc's {:exception, reason, stack} and the like; an Erlang error that
  # Elixir turned into its own exception (UndefinedFunctionError...) as is.
  defp erlang_reason(%ErlangError{original: original}), do: original
  defp erlang_reason(e), do: {:exception, e, []}

  # A DecodeError from the gateway: "Invalid request: ..."; anything else:
  # "Request processing failed" with the exception message in the reply.
  defp failed({:exception, %{__struct__: _, message: msg, code: code}, _}, payload, socket, o)
       when code in [:invalid_payload, :missing_field, :internal_error] do
    reject(payload, socket, o, "Invalid request: " <> msg, msg)
  end

  defp failed({:exception, %{message: msg}, _}, payload, socket, o) when is_binary(msg) do
    reject(payload, socket, o, "Request processing failed", msg)
  end

  defp failed(other, payload, socket, o) do
    reject(payload, socket, o, "Request processing failed", inspect(other))
  end

  defp reject(payload, socket, o, error, reply) do
    push(socket, o, error_response(request_id(payload), error))
    {:reply, {:error, reply}, socket}
  end

  @doc "True for the messages pga sends to a channel after a request."
  def pga_message?({tag, _}) when tag in @pga_tags, do: true
  def pga_message?({:stream_started, _, pid}) when is_pid(pid), do: true
  def pga_message?(_), do: false

  @doc """
  Handles a message sent to the channel: pushes pga's results to the
  client, remembers stream relays for `stop_stream/1`, and ignores the
  rest. Always `{:noreply, socket}`.
  """
  def handle_message({tag, response}, socket, o) when tag in @pga_tags do
    push(socket, o, response)
    {:noreply, socket}
  end

  def handle_message({:stream_started, request_id, pid}, socket, _o) do
    Process.put({__MODULE__, :stream, request_id}, pid)
    {:noreply, socket}
  end

  def handle_message(_other, socket, _o), do: {:noreply, socket}

  @doc """
  Stops a stream this channel process started, by relay pid or request
  id; `{:error, :not_found}` for an id it has not seen.
  """
  def stop_stream(pid) when is_pid(pid), do: GenServer.cast(pid, :stop)

  def stop_stream(request_id) do
    case Process.get({__MODULE__, :stream, request_id}) do
      nil -> {:error, :not_found}
      pid -> GenServer.cast(pid, :stop)
    end
  end

  @doc "A Response struct as a plain map (for JSON), inner structs too."
  def to_plain(%{__struct__: _} = s), do: s |> Map.delete(:__struct__) |> to_plain()
  def to_plain(m) when is_map(m), do: Map.new(m, fn {k, v} -> {k, to_plain(v)} end)
  def to_plain(l) when is_list(l), do: Enum.map(l, &to_plain/1)
  def to_plain(other), do: other

  defp push(socket, %{pusher: {m, f}, event: event}, response) do
    apply(m, f, [socket, event, to_plain(response)])
  end

  @doc false
  def error_response(request_id, message) do
    %{
      __struct__: PhoenixGenApi.Structs.Response,
      request_id: request_id,
      result: nil,
      success: false,
      error: message,
      async: false,
      has_more: false,
      can_retry: false
    }
  end
end
