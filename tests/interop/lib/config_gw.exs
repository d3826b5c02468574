# Private gateways for the config scenarios (120_config_file,
# 130_config_durable): a pga-node of this run's build started with extra
# arguments (--config, --data-dir), stopped with SIGTERM or SIGKILL, and
# started again. The binary is $PGA_NODE (what `make check` exports), else
# the harness gateway's own; PGA_NODE_WRAPPER (valgrind...) applies.

defmodule ConfigGw do
  @moduledoc false

  @doc "The pga-node binary, or nil (BEAM stand-in, nothing found)."
  def binary do
    case System.get_env("PGA_NODE") do
      "standin" -> nil
      p when is_binary(p) and p != "" -> if File.regular?(p), do: p, else: from_gateway()
      _ -> from_gateway()
    end
  end

  defp from_gateway do
    with ospid when is_binary(ospid) and ospid != "" <- System.get_env("PGA_GW_OSPID"),
         {:ok, cmd} <- File.read("/proc/#{ospid}/cmdline") do
      cmd
      |> String.split(<<0>>, trim: true)
      |> Enum.find(fn a -> Path.basename(a) in ["pga-node", "lt-pga-node"] end)
    else
      _ -> nil
    end
  end

  def wrapper, do: String.split(System.get_env("PGA_NODE_WRAPPER") || "", " ", trim: true)

  @doc "A fresh file path in the run directory."
  def path(tag), do: Path.join(Check.run_dir(), "#{tag}_#{System.unique_integer([:positive])}")

  @doc """
  Starts pga-node as `name` with `args` after --name/--cookie (stderr
  appended to `log`). Returns {:ok, gw} once it prints its ready line, or
  {:exit, status, log_text} if it exits first, or {:error, why, log_text}.
  gw = %{port, ospid, node, log}. `env` adds or (value nil) removes
  variables of pga-node's environment.
  """
  def start(name, args, log, ms \\ 20_000, env \\ []) do
    bin = binary() || raise "no pga-node binary (PGA_NODE)"
    argv = wrapper() ++ [bin, "--name", Atom.to_string(name), "--cookie", Check.cookie()] ++
        Check.gw_tls_args() ++ args

    port =
      Port.open({:spawn_executable, "/bin/sh"}, [
        :binary,
        :exit_status,
        {:line, 4096},
        args: ["-c", "exec \"$@\" 2>>\"$PGA_GW_LOG\" </dev/null", "sh" | argv],
        env: [{~c"PGA_GW_LOG", String.to_charlist(log)} |
              for({k, v} <- env, do: {String.to_charlist(k), if(v, do: String.to_charlist(v), else: false)})]
      ])

    # nil when pga-node already exited (a usage error is that quick)
    ospid = case Port.info(port, :os_pid) do
      {:os_pid, p} -> p
      nil -> nil
    end
    if ospid, do: File.write!(Path.join(Check.run_dir(), "pids"), "#{ospid}\n", [:append])
    gw = %{port: port, ospid: ospid, node: name, log: log}

    case wait_ready(port, "pga-node ready #{name}", Check.tmo(ms)) do
      :ok -> {:ok, gw}
      {:exit, st} -> {:exit, st, read_log(log)}
      {:error, why} -> {:error, why, read_log(log)}
    end
  end

  defp wait_ready(port, line, ms) do
    receive do
      {^port, {:data, {_, ^line}}} -> :ok
      {^port, {:data, _}} -> wait_ready(port, line, ms)
      {^port, {:exit_status, st}} -> {:exit, st}
    after
      ms -> {:error, :timeout}
    end
  end

  def read_log(log) do
    case File.read(log) do
      {:ok, t} -> t
      _ -> ""
    end
  end

  @doc """
  Starts a private pga-node named after tag with `json` as its --config
  file; returns gw (raises when it does not start).
  """
  def start_with_config(tag, json) do
    cfg = path(tag) <> ".json"
    File.write!(cfg, json)

    case start(Check.node_name(tag), ["--config", cfg], path(tag) <> ".err") do
      {:ok, gw} -> gw
      other -> raise "#{tag} did not start: #{inspect(other)}"
    end
  end

  @doc "Ends the scenario (skipped) when there is no pga-node binary to start."
  def require_binary! do
    if binary() == nil do
      Check.diag("skipped: no pga-node binary (stand-in gateway)")
      Check.finish()
    end
  end

  @doc "Runs pga-node expecting it to exit: {status, log_text}."
  def run_to_exit(args, ms \\ 20_000) do
    log = path("exit") <> ".err"
    case start(Check.node_name("cfgexit"), args, log, ms) do
      {:exit, st, text} -> {st, text}
      {:ok, gw} -> stop(gw); {:did_not_exit, read_log(log)}
      {:error, why, text} -> {why, text}
    end
  end

  @doc "SIGTERM; the exit status (or :timeout)."
  def stop(%{port: port, ospid: ospid}) do
    System.cmd("kill", ["-TERM", Integer.to_string(ospid)])
    {st, _} = Check.port_output(port, 30_000)
    st
  end

  @doc "SIGKILL (no shutdown work at all); waits until the node is gone."
  def kill9(%{port: port, ospid: ospid, node: node}) do
    Node.monitor(node, true)
    System.cmd("kill", ["-KILL", Integer.to_string(ospid)])
    {st, _} = Check.port_output(port, 30_000)

    receive do
      {:nodedown, ^node} -> :ok
    after
      Check.tmo(5_000) -> :ok
    end

    st
  end
end
