# The BEAM baseline of the push benchmark (bench/push.exs): an Elixir node
# that receives PushConfigs as the Elixir gateway does.
#
# With the real PhoenixGenApi library on ERL_LIBS (bench/run.sh passes the
# ERL_LIBS it was given, as for bench-gateway; built by hand, never in make
# check or CI), it starts the library's application and answers
# ConfigReceiver.push/2 itself.
# Without it, a stand-in does comparable work in the BEAM way: each
# FunConfig of the push is validated field by field (the library's §2.1
# checks) and stored in an ETS table keyed {service, request_type,
# version}, in one GenServer call, as the library's receiver does.
# run.sh starts it; it runs until SIGTERM (init:stop).
defmodule PgaBench.PushStandIn do
  use GenServer

  def start_link, do: GenServer.start_link(__MODULE__, nil, name: __MODULE__)

  def push(pc, _opts), do: GenServer.call(__MODULE__, {:push, pc}, 60_000)

  @impl true
  def init(nil) do
    {:ok, %{db: :ets.new(:pga_bench_db, [:set, :protected]), pushed: %{}}}
  end

  @impl true
  def handle_call({:push, pc}, _from, st) do
    valid = Enum.filter(pc.fun_configs, &valid?/1)

    for fc <- valid do
      fc = %{fc | service: pc.service}
      :ets.insert(st.db, {{fc.service, fc.request_type, fc.version}, fc})
    end

    {:reply, {:ok, :accepted}, %{st | pushed: Map.put(st.pushed, pc.service, pc)}}
  end

  defp valid?(fc) do
    is_binary(fc.request_type) and fc.request_type != "" and
      fc.service != nil and
      (fc.nodes == :local or (is_list(fc.nodes) and fc.nodes != [])) and
      fc.choose_node_mode in [:random, :hash, :round_robin] and
      (fc.timeout == :infinity or (is_integer(fc.timeout) and fc.timeout in 100..300_000)) and
      match?({m, f, a} when is_atom(m) and is_atom(f) and is_list(a), fc.mfa) and
      args_valid?(fc.arg_types, fc.arg_orders) and
      fc.response_type in [:sync, :async, :stream, :none] and
      fc.check_permission in [false, :any_authenticated] and
      is_boolean(fc.request_info) and
      (fc.version == nil or (is_binary(fc.version) and fc.version != "")) and
      is_integer(fc.hook_timeout) and fc.hook_timeout > 0
  end

  @types [:string, :num, :boolean, :list_string, :list_num, :list_uuid,
          :list_map, :map, :any, :uuid]
  defp args_valid?(nil, orders), do: orders in [nil, []]

  defp args_valid?(types, orders) when is_map(types) do
    Enum.all?(types, fn {_, t} -> t in @types end) and
      is_list(orders) and Enum.sort(orders) == Enum.sort(Map.keys(types))
  end
end

mode =
  if Code.ensure_loaded?(PhoenixGenApi.ConfigReceiver) do
    # Unconsolidated protocols slow the library down (real-library.sh).
    paths = :code.get_path() |> Enum.map(&to_string/1)

    for p <- [Enumerable, Collectable, Inspect, String.Chars, List.Chars],
        impls = Protocol.extract_impls(p, paths) do
      {:ok, bin} = Protocol.consolidate(p, impls)
      :code.purge(p)
      :code.load_binary(p, ~c"consolidated", bin)
    end

    Logger.configure(level: :error)
    {:ok, _} = Application.ensure_all_started(:phoenix_gen_api)
    "library"
  else
    {:ok, _} = PgaBench.PushStandIn.start_link()
    "stand-in"
  end

# run.sh waits for this line before it starts the driver.
IO.puts("pga-bench push target ready #{node()} #{mode}")
Process.sleep(:infinity)
