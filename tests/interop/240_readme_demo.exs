# 240_readme_demo: the README's first hour, as a reader types it. Starts
# pga-node with the README's first command (its own node name; the plugin
# from this build), then feeds every `iex>` line of the README's demo block
# to a real `iex` session, one line at a time after its prompt, and
# compares each answer with the output the README prints under it (pids
# and the node name normalised). So the README cannot drift from what the
# gateway does, and the demo needs nothing else running (local_services).
Code.require_file("lib/check.exs", __DIR__)
Code.require_file("lib/plugin.exs", __DIR__)

defmodule Readme do
  @moduledoc false

  def path do
    [Path.join(__DIR__, "../../README"), Path.join(__DIR__, "../../README.md")]
    |> Enum.find(&File.regular?/1)
  end

  @doc "The pga-node arguments of the README's first command."
  def first_command(text) do
    case Regex.run(~r{\./src/pga-node ([^\n]+)}, text) do
      [_, args] -> {:ok, String.split(args)}
      nil -> {:error, "no ./src/pga-node command in the README"}
    end
  end

  @doc """
  The demo block: the first indented block holding `iex --name`, followed
  by its `iex>` lines. Returns {iex_args, [{input, expected_output}]}.
  """
  def demo(text) do
    lines = String.split(text, "\n")
    {_, from} = Enum.split_while(lines, &(not String.starts_with?(&1, "    iex --name ")))

    case from do
      [] ->
        {:error, "no `iex --name` line in the README"}

      ["    iex " <> args | rest] ->
        block =
          rest
          |> Enum.drop_while(&(String.trim(&1) == ""))
          |> Enum.take_while(&(String.starts_with?(&1, "    ") or String.trim(&1) == ""))
          |> Enum.map(&String.replace_prefix(&1, "    ", ""))
          |> trim_trailing_blank()

        {:ok, String.split(args), pairs(block, [])}
    end
  end

  defp trim_trailing_blank(lines),
    do: lines |> Enum.reverse() |> Enum.drop_while(&(String.trim(&1) == "")) |> Enum.reverse()

  # Each `iex> ` line with its `...> ` continuations, then its output.
  defp pairs([], acc), do: Enum.reverse(acc)

  defp pairs(["iex> " <> first | rest], acc) do
    {conts, rest} = Enum.split_while(rest, &String.starts_with?(&1, "...> "))
    {out, rest} = Enum.split_while(rest, &(not String.starts_with?(&1, "iex> ")))
    input = [first | Enum.map(conts, &String.replace_prefix(&1, "...> ", ""))]
    pairs(rest, [{input, out |> trim_trailing_blank() |> Enum.join("\n")} | acc])
  end

  defp pairs([_ | rest], acc), do: pairs(rest, acc)
end

defmodule Iex do
  @moduledoc false
  # A real iex session on a port: one line at a time, after its prompt.

  @prompt ~r/(?:iex|\.\.\.)\([^)]*\)\d+> $/

  def start(args) do
    exe = Path.join(Path.dirname(Check.elixir()), "iex")
    port = Port.open({:spawn_executable, exe}, [:binary, :exit_status, :stderr_to_stdout, args: args])
    {:os_pid, ospid} = Port.info(port, :os_pid)
    File.write!(Path.join(Check.run_dir(), "pids"), "#{ospid}\n", [:append])
    {:ok, _banner} = until_prompt(port, "", Check.tmo(20_000))
    port
  end

  @doc "Types the lines of one input (a human's pause first); the output."
  def eval(port, lines) do
    Enum.reduce_while(lines, {:ok, ""}, fn line, _ ->
      Process.sleep(Check.tmo(300))
      Port.command(port, line <> "\n")

      case until_prompt(port, "", Check.tmo(20_000)) do
        {:ok, out} -> {:cont, {:ok, out}}
        other -> {:halt, other}
      end
    end)
  end

  def stop(port) do
    {:os_pid, ospid} = Port.info(port, :os_pid)
    Port.close(port)
    System.cmd("kill", ["-KILL", Integer.to_string(ospid)], stderr_to_stdout: true)
  end

  defp until_prompt(port, acc, ms) do
    case Regex.run(@prompt, acc, return: :index) do
      [{at, _}] ->
        {:ok, acc |> binary_part(0, at) |> String.trim_trailing("\n")}

      nil ->
        receive do
          {^port, {:data, d}} -> until_prompt(port, acc <> d, ms)
          {^port, {:exit_status, st}} -> {:error, {:exit_status, st}, acc}
        after
          ms -> {:error, :timeout, acc}
        end
    end
  end
end

defmodule Scenario do
  require Check

  def normalise(text, gw) do
    text
    |> String.replace(Atom.to_string(gw), "gw@127.0.0.1")
    |> then(&Regex.replace(~r/#PID<\d+\.\d+\.\d+>/, &1, "#PID<_>"))
  end

  def run do
    if Check.tls_run?() do
      Check.diag("skipped in a TLS run (PGA_INTEROP_TLS=1): the README demo is plain TCP")
      Check.finish()
    end
    text = File.read!(Readme.path())
    so = PgaPlugin.plugin("pga_example")

    with {:ok, args} <- Readme.first_command(text),
         {:ok, iex_args, pairs} <- Readme.demo(text),
         true <- (so != nil and PgaPlugin.binary() != nil) || {:error, "pga-node or the example plugin not built"} do
      run(args, iex_args, pairs, so)
    else
      {:error, why} ->
        Check.run("README demo found and runnable", fn -> {:fail, why} end)
    end

    Check.finish()
  end

  # The README's args with our node name and this build's plugin path; a
  # relative --config names a file of the source tree (where a reader runs
  # the command), which an out-of-tree build does not hold beside it.
  def gateway_args(args, gw, so) do
    args
    |> Enum.chunk_every(2)
    |> Enum.flat_map(fn
      ["--name", _] -> ["--name", Atom.to_string(gw)]
      ["--plugin", _] -> ["--plugin", so]
      ["--config", path] -> ["--config", Path.expand(path, Path.join(__DIR__, "../.."))]
      pair -> pair
    end)
  end

  def run(args, iex_args, pairs, so) do
    gw = Check.node_name("readme_gw")
    me = Check.node_name("readme_me")
    argv = PgaPlugin.wrapper() ++ [PgaPlugin.binary() | gateway_args(args, gw, so)]
    log = Path.join(Check.run_dir(), "readme_gw.err")

    gw_port =
      Port.open({:spawn_executable, "/bin/sh"}, [:binary, :exit_status, {:line, 4096},
        args: ["-c", "exec \"$@\" 2>>\"$LOG\" </dev/null", "sh" | argv],
        env: [{~c"LOG", String.to_charlist(log)}]])

    {:os_pid, ospid} = Port.info(gw_port, :os_pid)
    File.write!(Path.join(Check.run_dir(), "pids"), "#{ospid}\n", [:append])

    # (Port messages come to this process, the port's owner: the checks
    # below only judge what was collected here.)
    ready =
      receive do
        {^gw_port, {:data, {_, "pga-node ready " <> _}}} -> :ok
        {^gw_port, {:exit_status, st}} -> {:fail, "exited #{st}", File.read!(log)}
      after
        Check.tmo(20_000) -> {:fail, "no ready line", File.read!(log)}
      end

    Check.run("the README's first command starts a gateway (#{Enum.join(args, " ")})",
      fn -> ready end)

    shows = fn rt -> Enum.any?(pairs, fn {i, _} -> Enum.any?(i, &(&1 =~ ~s("#{rt}"))) end) end
    Check.eq("the README shows a request, an async request and a stream",
      [true, true, true], fn -> Enum.map(["add", "fib", "ticks"], shows) end)

    iex_argv =
      iex_args
      |> Enum.chunk_every(2)
      |> Enum.flat_map(fn
        ["--name", _] -> ["--name", Atom.to_string(me)]
        pair -> pair
      end)

    iex = Iex.start(iex_argv)

    # The README's node name is ours from here on.
    for {input, want} <- pairs do
      typed = Enum.map(input, &String.replace(&1, "gw@127.0.0.1", Atom.to_string(gw)))
      answer = Iex.eval(iex, typed)

      Check.run("README: iex> #{hd(input)}", fn ->
        case answer do
          {:ok, got} ->
            if normalise(got, gw) == normalise(want, gw),
              do: :ok,
              else: {:fail, "README says:\n#{want}\n--- iex printed:\n#{normalise(got, gw)}"}

          other ->
            {:fail, "iex did not answer", other}
        end
      end)
    end

    Iex.stop(iex)

    Check.run("the gateway's start-up summary names the plugin and its local services", fn ->
      log_text = File.read!(log)
      if log_text =~ "pga_example 1.0.0 (PgaExample.Math.add/2" and
           log_text =~ "4 FunConfigs served by this gateway (local_services)",
         do: :ok,
         else: {:fail, "log", log_text}
    end)

    System.cmd("kill", ["-TERM", Integer.to_string(ospid)])

    status =
      receive do
        {^gw_port, {:exit_status, st}} -> st
      after
        Check.tmo(15_000) -> :timeout
      end

    Check.eq("the demo gateway exits 0 on SIGTERM", 0, fn -> status end)
  end
end

Scenario.run()
