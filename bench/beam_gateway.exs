# The BEAM gateway stand-in of the gateway CPU benchmark
# (bench/gateway_cpu.exs): an Elixir node that serves the module and
# function names a client calls on pga-node, doing the same job in plain
# Elixir, so the one driver measures both and the ratio says what pga costs
# against a BEAM node doing the same work. It is not the library (that one
# runs as the third column, bench/library_gateway.exs); it is the lean
# gateway a BEAM programmer would write:
#   Executor.execute_params!/1  checks the payload size and the required
#                               fields, builds the Request struct map, then
#                               runs execute!/1
#   Executor.execute!/1         looks the FunConfig up in ETS, checks the
#                               permission flag and the argument types,
#                               orders the arguments, forwards the call by
#                               :erpc to a node of the FunConfig and wraps the
#                               result in a Response struct map; a :stream
#                               FunConfig starts a relay process and answers
#                               the ack at once
#   ConfigReceiver.push/2       validates every FunConfig of a PushConfig and
#                               stores them in ETS
#   ConfigDb.add/1              stores one FunConfig
#   :pga_bench_echo.echo/1      the echo of bench/driver.exs
# Stream messages go to the process that made the rpc call (the parent of
# the erpc worker process), as pga sends them.
# bench/run.sh starts it; it runs until SIGTERM (init:stop).
defmodule :pga_bench_echo do
  def echo(term), do: term
end

defmodule PgaBenchStandin.Store do
  @moduledoc false
  @table :pga_bench_standin_fun_configs

  # The table belongs to the script's own process, which never ends.
  def start, do: :ets.new(@table, [:named_table, :public, :set, read_concurrency: true])

  def put(fun_configs), do: :ets.insert(@table, Enum.map(fun_configs, &{key(&1), &1}))

  def get(service, request_type) do
    case :ets.lookup(@table, {service, request_type}) do
      [{_, fc}] -> fc
      [] -> nil
    end
  end

  defp key(fc), do: {fc.service, fc.request_type}
end

defmodule PgaBenchStandin.Check do
  @moduledoc false
  @response_types [:sync, :async, :none, :stream]
  @node_modes [:random, :hash, :round_robin, :sticky]

  # The shape checks a push or add makes before it stores a FunConfig.
  def fun_config(%{__struct__: PhoenixGenApi.Structs.FunConfig} = fc) do
    cond do
      not is_binary(fc.request_type) -> {:error, {:invalid, :request_type}}
      not (is_binary(fc.service) or is_atom(fc.service)) -> {:error, {:invalid, :service}}
      not (is_list(fc.nodes) and fc.nodes != []) -> {:error, {:invalid, :nodes}}
      not mfa?(fc.mfa) -> {:error, {:invalid, :mfa}}
      fc.response_type not in @response_types -> {:error, {:invalid, :response_type}}
      fc.choose_node_mode not in @node_modes -> {:error, {:invalid, :choose_node_mode}}
      not (is_map(fc.arg_types) and is_list(fc.arg_orders)) -> {:error, {:invalid, :args}}
      not Enum.all?(fc.arg_orders, &Map.has_key?(fc.arg_types, &1)) -> {:error, {:invalid, :arg_orders}}
      not (is_integer(fc.timeout) and fc.timeout > 0) -> {:error, {:invalid, :timeout}}
      true -> :ok
    end
  end

  def fun_config(_), do: {:error, :not_a_fun_config}

  defp mfa?({m, f, a}) when is_atom(m) and is_atom(f) and is_list(a), do: true
  defp mfa?(_), do: false

  def arg(v, :string) when is_binary(v), do: true
  def arg(v, :num) when is_number(v), do: true
  def arg(v, :boolean) when is_boolean(v), do: true
  def arg(v, :map) when is_map(v), do: true
  def arg(v, :list) when is_list(v), do: true
  def arg(_, t) when t in [:string, :num, :boolean, :map, :list], do: false
  def arg(_, _), do: true
end

defmodule PhoenixGenApi.ConfigDb do
  def add(fc) do
    with :ok <- PgaBenchStandin.Check.fun_config(fc) do
      PgaBenchStandin.Store.put([fc])
      :ok
    end
  end
end

defmodule PhoenixGenApi.ConfigReceiver do
  def push(config), do: push(config, [])

  def push(%{__struct__: PhoenixGenApi.Structs.PushConfig, fun_configs: fcs} = config, _opts)
      when is_list(fcs) and (is_binary(config.service) or is_atom(config.service)) do
    case Enum.find_value(fcs, &failed(&1, config.service)) do
      nil ->
        PgaBenchStandin.Store.put(fcs)
        {:ok, :accepted}

      error ->
        error
    end
  end

  def push(_, _), do: {:error, :invalid_config}

  defp failed(fc, service) do
    case PgaBenchStandin.Check.fun_config(fc) do
      :ok when fc.service == service -> nil
      :ok -> {:error, {:service_mismatch, fc.request_type}}
      error -> error
    end
  end
end

defmodule PhoenixGenApi.Executor do
  @request PhoenixGenApi.Structs.Request
  @max_payload 1_000_000
  @required ["request_id", "request_type", "service"]

  def execute_params!(params) when is_map(params) do
    if :erlang.external_size(params) > @max_payload, do: raise(ArgumentError, "payload too large")

    case Enum.reject(@required, &Map.has_key?(params, &1)) do
      [] -> :ok
      missing -> raise ArgumentError, "Missing required fields: " <> Enum.join(missing, ", ")
    end

    execute!(%{
      __struct__: @request,
      request_id: params["request_id"],
      request_type: params["request_type"],
      service: params["service"],
      user_id: params["user_id"],
      device_id: params["device_id"],
      args: Map.get(params, "args", %{}),
      user_roles: params["user_roles"],
      version: params["version"]
    })
  end

  def execute!(%{__struct__: @request} = req) do
    case PgaBenchStandin.Store.get(req.service, req.request_type) do
      nil ->
        error(req.request_id, "unsupported function: #{req.request_type} version latest")

      %{disabled: true} ->
        error(req.request_id, "disabled function: #{req.request_type} version latest")

      fc ->
        if fc.check_permission != false and req.user_id == nil do
          error(req.request_id, "Permission denied")
        else
          run(req, fc, arguments(req, fc))
        end
    end
  end

  defp arguments(req, fc) do
    args =
      for name <- fc.arg_orders do
        v = Map.get(req.args, name)
        t = Map.fetch!(fc.arg_types, name)

        unless PgaBenchStandin.Check.arg(v, t) do
          raise ArgumentError, "invalid argument type for #{inspect(name)}, expected #{inspect(t)}"
        end

        v
      end

    if fc.request_info do
      args ++ [%{request_id: req.request_id, user_id: req.user_id, device_id: req.device_id}]
    else
      args
    end
  end

  defp run(req, %{response_type: :stream} = fc, args) do
    {:parent, receiver} = Process.info(self(), :parent)
    spawn(fn -> PgaBenchStandin.Relay.start(req, fc, args, receiver) end)
    response(req.request_id, result: :init, success: true, async: true, has_more: true)
  end

  defp run(req, fc, args) do
    case call(fc, args) do
      {:ok, v} -> response(req.request_id, result: v, success: true)
      {:error, _} -> error(req.request_id, "Internal Server Error")
      v -> response(req.request_id, result: v, success: true)
    end
  end

  def call(%{mfa: {m, f, extra}} = fc, args) do
    :erpc.call(Enum.random(fc.nodes), m, f, extra ++ args, fc.timeout)
  catch
    _, _ -> {:error, :call_failed}
  end

  def response(id, fields) do
    Map.merge(%{__struct__: PhoenixGenApi.Structs.Response, request_id: id, result: nil,
      success: false, error: nil, async: false, has_more: false, can_retry: false},
      Map.new(fields))
  end

  def error(id, text), do: response(id, error: text)
end

defmodule PgaBenchStandin.Relay do
  @moduledoc false
  alias PhoenixGenApi.Executor

  # The stream relay: tells the receiver it started, makes the call with
  # stream_pid = itself (the messages the generator sends before the reply
  # wait in the mailbox), sends the first chunk, then one chunk for each
  # message until the last.
  def start(req, fc, args, receiver) do
    id = req.request_id
    send(receiver, {:stream_started, id, self()})
    args = List.update_at(args, -1, &Map.put(&1, :stream_pid, self()))

    case Executor.call(fc, args) do
      {:error, _} ->
        send(receiver, {:stream_response, Executor.error(id, "Internal Server Error")})

      v ->
        first = Executor.response(id, result: unwrap(v), success: true)
        send(receiver, {:stream_response, chunk(id, first, true)})
        relay(id, receiver)
    end
  end

  defp unwrap({:ok, v}), do: v
  defp unwrap(v), do: v

  defp relay(id, receiver) do
    receive do
      {:result, d} ->
        send(receiver, {:stream_response, chunk(id, d, true)})
        relay(id, receiver)

      {:last_result, d} ->
        send(receiver, {:stream_response, chunk(id, d, false)})

      :complete ->
        send(receiver, {:stream_response, chunk(id, nil, false)})

      {:error, _} ->
        send(receiver, {:stream_response, Executor.error(id, "Internal Server Error")})

      _ ->
        relay(id, receiver)
    end
  end

  defp chunk(id, d, more), do: Executor.response(id, result: d, success: true, async: true, has_more: more)
end

PgaBenchStandin.Store.start()
# run.sh waits for this line before it starts the driver.
IO.puts("pga-bench gateway ready #{node()}")
Process.sleep(:infinity)
