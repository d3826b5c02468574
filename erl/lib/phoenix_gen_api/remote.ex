defmodule PhoenixGenApi.Remote do
  @moduledoc """
  `use PhoenixGenApi.Remote, gateway: :"gw@host"` in a Phoenix channel makes
  the channel forward PhoenixGenApi events to a pga gateway node, the way
  `use PhoenixGenApi` runs them locally (request-plane spec §11).

  Options: `:gateway` (required, node atom), `:event` (default
  `"phoenix_gen_api"`), `:override_user_id` (default `true`),
  `:require_verified_user_id` (default `true`), `:timeout` (ms for the call
  to the gateway, default 30_000), `:pusher` (`{module, function}` called as
  `push(socket, event, payload)`, default `{Phoenix.Channel, :push}`).

  The gateway runs `PhoenixGenApi.Executor.execute_params!/1` on behalf of
  the channel process, so later messages (`{:async_call, resp}`,
  `{:stream_started, rid, pid}`, `{:stream_response, resp}`) arrive at the
  channel and are pushed by the injected `handle_info/2` clauses.
  """

  @executor PhoenixGenApi.Executor

  defmacro __using__(opts) do
    quote bind_quoted: [opts: opts] do
      @pga_remote PhoenixGenApi.Remote.options(opts)

      def handle_in(unquote(@pga_remote.event), payload, socket) do
        PhoenixGenApi.Remote.handle_request(payload, socket, @pga_remote)
      end

      def handle_info(message, socket) do
        PhoenixGenApi.Remote.handle_message(message, socket, @pga_remote)
      end
    end
  end

  @doc false
  def options(opts) do
    %{
      gateway: Keyword.fetch!(opts, :gateway),
      event: Keyword.get(opts, :event, "phoenix_gen_api"),
      override_user_id: Keyword.get(opts, :override_user_id, true),
      require_verified_user_id: Keyword.get(opts, :require_verified_user_id, true),
      timeout: Keyword.get(opts, :timeout, 30_000),
      pusher: Keyword.get(opts, :pusher, {Phoenix.Channel, :push})
    }
  end

  @doc "Handles one client event: the channel's `handle_in/3` result."
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

  defp execute(payload, socket, o) do
    case :erpc.call(o.gateway, @executor, :execute_params!, [payload], o.timeout) do
      {:ok, :no_response} ->
        {:reply, {:ok, payload["request_type"]}, socket}

      response ->
        push(socket, o, response)
        {:reply, {:ok, payload["request_type"]}, socket}
    end
  rescue
    e in ErlangError -> failed(e.original, payload, socket, o)
    e -> failed({:exception, e, []}, payload, socket, o)
  catch
    :exit, reason -> failed({:exit, reason}, payload, socket, o)
  end

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

  @doc "Handles a message sent to the channel: the `handle_info/2` result."
  def handle_message({tag, response}, socket, o)
      when tag in [:async_call, :stream_response, :push, :relay_message] do
    push(socket, o, response)
    {:noreply, socket}
  end

  def handle_message({:stream_started, request_id, pid}, socket, _o) do
    Process.put({__MODULE__, :stream, request_id}, pid)
    {:noreply, socket}
  end

  def handle_message(_other, socket, _o), do: {:noreply, socket}

  @doc "Stops a stream this process started (by relay pid or request id)."
  def stop_stream(pid) when is_pid(pid), do: GenServer.cast(pid, :stop)

  def stop_stream(request_id) do
    case Process.get({__MODULE__, :stream, request_id}) do
      nil -> {:error, :not_found}
      pid -> GenServer.cast(pid, :stop)
    end
  end

  @doc "A Response struct as a plain map, structs inside converted too."
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
