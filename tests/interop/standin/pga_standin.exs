# A BEAM stand-in for pga-node: the same command line, ready line and
# built-ins, so the interop scenarios can be checked against genuine BEAM
# behaviour (run.sh uses it when PGA_NODE=standin).
#
#   elixir pga_standin.exs (--name N@H | --sname N) [--cookie C]
#          [--data-dir D] [--config F] [--plugin P]... [--log-level L]
#
# Differences from pga-node that the scenarios tolerate:
# * Stack traces from the BEAM carry file/line locations; pga-node sends
#   [{M, F, Args, []}]. Scenarios accept both.
# * The stand-in is a whole Erlang node, so it also answers functions pga
#   does not serve (e.g. erpc:call(Node, Fun)); scenarios avoid those.

defmodule :pga_node do
  @moduledoc false
  # The built-in module every pga-node serves.

  def echo(term), do: term

  def sleep(ms) do
    Process.sleep(ms)
    :ok
  end

  # error/2 puts the argument list in the top stack frame, like pga's
  # [{pga_node, fail, [Reason], []}].
  def fail(reason), do: :erlang.error(reason, [reason])

  def print(text) do
    :ok = IO.write(text)
  end

  def rpc(node, m, f, a), do: :rpc.call(node, m, f, a)
  def rpc(node, m, f, a, timeout), do: :rpc.call(node, m, f, a, timeout)
end

defmodule PgaStandin.Server do
  @moduledoc false
  # The registered gen_server `pga_node`.
  use GenServer

  def start_link, do: GenServer.start_link(__MODULE__, nil, name: :pga_node)

  @impl true
  def init(nil), do: {:ok, nil}

  @impl true
  def handle_call(:ping, _from, s), do: {:reply, :pong, s}
  def handle_call({:echo, t}, _from, s), do: {:reply, t, s}

  @impl true
  def handle_cast(_msg, s), do: {:noreply, s}

  @impl true
  def handle_info(_msg, s), do: {:noreply, s}
end

defmodule PgaStandin.Signals do
  @moduledoc false
  # SIGTERM: close the distribution (peers see nodedown, epmd forgets the
  # name), then halt with status 0. OTP's own handler calls init:stop(),
  # which on OTP 25.2 was seen to hang now and then for over 15 s, or to
  # print "{removed_failing_handler,default}" on stdout while Logger shut
  # down; pga-node must exit 0 promptly with only the ready line on stdout.
  @behaviour :gen_event

  def init(_), do: {:ok, nil}

  def handle_event(:sigterm, s) do
    spawn(fn ->
      spawn(fn ->
        Process.sleep(3_000)
        :erlang.halt(0)
      end)

      :net_kernel.stop()
      :erlang.halt(0)
    end)

    {:ok, s}
  end

  def handle_event(_other, s), do: {:ok, s}
  def handle_call(_req, s), do: {:ok, :ok, s}
  def handle_info(_msg, s), do: {:ok, s}
end

defmodule PgaStandin do
  @moduledoc false

  def main(argv) do
    # stdout carries only the ready line; logs go to stderr.
    Logger.configure_backend(:console, device: :standard_error)

    {opts, rest, bad} =
      OptionParser.parse(argv,
        strict: [
          name: :string,
          sname: :string,
          cookie: :string,
          data_dir: :string,
          config: :string,
          plugin: :keep,
          log_level: :string
        ]
      )

    if rest != [] or bad != [], do: die("bad arguments: #{inspect(rest ++ bad)}")

    {name, domain} =
      case {opts[:name], opts[:sname]} do
        {n, nil} when is_binary(n) -> {n, :longnames}
        {nil, n} when is_binary(n) -> {n, :shortnames}
        _ -> die("exactly one of --name or --sname is required")
      end

    case opts[:log_level] do
      nil -> :ok
      "warn" -> Logger.configure(level: :warning)
      l when l in ~w(debug info error) -> Logger.configure(level: String.to_atom(l))
      l -> die("bad --log-level #{l}")
    end

    :ok =
      :gen_event.swap_handler(
        :erl_signal_server,
        {:erl_signal_handler, []},
        {PgaStandin.Signals, []}
      )

    ensure_epmd()

    case :net_kernel.start(String.to_atom(name), %{name_domain: domain, hidden: true}) do
      {:ok, _} -> :ok
      err -> die("cannot start distribution: #{inspect(err)}")
    end

    if c = opts[:cookie], do: Node.set_cookie(String.to_atom(c))

    {:ok, _} = PgaStandin.Server.start_link()
    IO.puts("pga-node ready #{node()}")
    # SIGTERM: PgaStandin.Signals (exit status 0).
    Process.sleep(:infinity)
  end

  # pga-node starts `epmd -daemon` when none answers; so does the stand-in.
  defp ensure_epmd do
    case :erl_epmd.names() do
      {:ok, _} -> :ok
      _ -> System.cmd("epmd", ["-daemon"]) && Process.sleep(300)
    end
  end

  defp die(msg) do
    IO.puts(:stderr, "pga-standin: " <> msg)
    System.halt(2)
  end
end

PgaStandin.main(System.argv())
