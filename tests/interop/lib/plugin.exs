# Helpers for the plugin scenarios (200_plugin_*): finding pga-node and the
# plugins built beside it, starting a private pga-node with --plugin, and
# GwStandin, a small PhoenixGenApi gateway that pulls configs and executes
# requests the way the library does (config-plane.md §5.3, request-plane.md
# §3, §4, §8.4, §9.3).
#
# Where the plugins are served:
#   * by the harness's gateway, when it was started with them (run.sh
#     passing PGA_NODE_ARGS="--plugin ... --plugin ..." to it);
#   * otherwise by a private pga-node this scenario starts, from the binary
#     in $PGA_NODE (what `make check` exports) or, failing that, the
#     harness gateway's own command line; PGA_NODE_WRAPPER (valgrind...)
#     applies to it too.
# Plugin files: $PGA_PLUGIN_DIR/{pga_example,pga_test,bad_*}.so, else the
# libtool output directories beside the binary (<builddir>/src/pga-node ->
# <builddir>/examples/.libs, <builddir>/tests/plugins/.libs).

for {mod, fields} <- [
      {PhoenixGenApi.Structs.FunConfig,
       [request_type: nil, service: nil, nodes: nil, choose_node_mode: nil,
        timeout: nil, mfa: nil, arg_types: nil, arg_orders: nil,
        response_type: nil, request_info: false, check_permission: false,
        permission_callback: nil, version: nil, disabled: false, retry: nil,
        before_execute: nil, after_execute: nil, hook_timeout: 5000]},
      {PhoenixGenApi.Structs.PushConfig,
       [service: nil, nodes: nil, config_version: nil, fun_configs: nil,
        module: nil, function: nil, version_module: nil,
        version_function: nil, args: [], version_args: [], push_token: nil]}
    ],
    not Code.ensure_loaded?(mod) do
  Module.create(mod, quote(do: defstruct(unquote(fields))), Macro.Env.location(__ENV__))
end

defmodule PgaPlugin do
  @moduledoc false

  # ---- files ----------------------------------------------------------------

  @doc "The pga-node binary, or nil (stand-in gateway, nothing found)."
  def binary do
    case System.get_env("PGA_NODE") do
      "standin" -> nil
      nil -> from_gateway_cmdline()
      "" -> from_gateway_cmdline()
      path -> if File.regular?(path), do: path, else: from_gateway_cmdline()
    end
  end

  defp from_gateway_cmdline do
    with ospid when is_binary(ospid) and ospid != "" <- System.get_env("PGA_GW_OSPID"),
         {:ok, cmd} <- File.read("/proc/#{ospid}/cmdline") do
      cmd
      |> String.split(<<0>>, trim: true)
      |> Enum.find(fn a -> Path.basename(a) in ["pga-node", "lt-pga-node"] end)
    else
      _ -> nil
    end
  end

  @doc "Path of a built plugin (name without .so), or nil if absent."
  def plugin(name) do
    candidates =
      case System.get_env("PGA_PLUGIN_DIR") do
        dir when is_binary(dir) and dir != "" -> [Path.join(dir, name <> ".so")]
        _ -> []
      end ++
        case binary() do
          nil ->
            []

          bin ->
            build = bin |> Path.dirname() |> Path.dirname()
            sub = if name == "pga_example", do: "examples", else: "tests/plugins"
            [Path.join([build, sub, ".libs", name <> ".so"])]
        end

    Enum.find(candidates, &File.regular?/1)
  end

  def wrapper do
    (System.get_env("PGA_NODE_WRAPPER") || "") |> String.split(" ", trim: true)
  end

  # ---- a private pga-node -------------------------------------------------

  @doc """
  Starts pga-node with `args` (after --name/--cookie), stderr to a log in
  the run directory. Waits for the ready line unless `wait: false`.
  Returns %{port, ospid, node, log} or {:error, why, output}.
  """
  def start(tag, args, opts \\ []) do
    bin = binary() || raise "no pga-node binary (PGA_NODE)"
    name = Check.node_name(tag)
    log = Path.join(Check.run_dir(), "#{tag}_#{System.unique_integer([:positive])}.err")
    argv = wrapper() ++ [bin, "--name", Atom.to_string(name), "--cookie", Check.cookie()] ++
        Check.gw_tls_args() ++ args

    port =
      Port.open({:spawn_executable, "/bin/sh"}, [
        :binary,
        :exit_status,
        {:line, 4096},
        args: ["-c", "exec \"$@\" 2>>\"$PGA_PLUGIN_LOG\" </dev/null", "sh" | argv],
        env: [{~c"PGA_PLUGIN_LOG", String.to_charlist(log)}]
      ])

    {:os_pid, ospid} = Port.info(port, :os_pid)
    File.write!(Path.join(Check.run_dir(), "pids"), "#{ospid}\n", [:append])
    node = %{port: port, ospid: ospid, node: name, log: log}

    if Keyword.get(opts, :wait, true) do
      case wait_line(port, "pga-node ready #{name}", Check.tmo(Keyword.get(opts, :ms, 20_000))) do
        :ok -> node
        {:error, why} -> {:error, why, File.read!(log)}
      end
    else
      node
    end
  end

  defp wait_line(port, line, ms) do
    receive do
      {^port, {:data, {_, ^line}}} -> :ok
      {^port, {:data, _}} -> wait_line(port, line, ms)
      {^port, {:exit_status, st}} -> {:error, {:exit_status, st}}
    after
      ms -> {:error, :timeout}
    end
  end

  @doc "Output lines and exit status of a node that exits by itself."
  def await_exit(%{port: port}, ms) do
    Check.port_output(port, ms)
  end

  @doc "SIGTERM, then its exit status (or :timeout)."
  def stop(%{port: port, ospid: ospid}) do
    System.cmd("kill", ["-TERM", Integer.to_string(ospid)])
    {st, _} = Check.port_output(port, 30_000)
    st
  end

  # ---- the node serving the plugins ----------------------------------------

  @doc """
  {:shared, gw} when the harness gateway serves both plugins, else
  {:private, node_map} (a pga-node started here with both), or
  {:skip, why}.
  """
  def serving do
    gw = Check.gw()

    if :rpc.call(gw, Code, :ensure_loaded?, [PgaTest.Fns], 5_000) == true and
         :rpc.call(gw, Code, :ensure_loaded?, [PgaExample.Math], 5_000) == true do
      {:shared, gw}
    else
      ex = plugin("pga_example")
      test = plugin("pga_test")

      cond do
        binary() == nil -> {:skip, "no pga-node binary (stand-in gateway?)"}
        ex == nil or test == nil -> {:skip, "plugins not built (pga_example.so, pga_test.so)"}
        true ->
          case start("plug", ["--plugin", ex, "--plugin", test, "--log-level", "debug"]) do
            %{} = n -> {:private, n}
            {:error, why, out} -> {:skip, "private pga-node did not start: #{inspect(why)}\n#{out}"}
          end
      end
    end
  end

  def node_of({:shared, gw}), do: gw
  def node_of({:private, n}), do: n.node

  @doc "Stops a private node and checks it exits 0 (one check)."
  def finish({:private, n}) do
    # the port's messages come to the process that opened it: this one
    st = stop(n)
    Check.eq("private pga-node with plugins exits 0 on SIGTERM", 0, fn -> st end)
  end

  def finish(_), do: :ok

  def stats(node), do: :rpc.call(node, PgaTest.Fns, :stats, [], 5_000)
end

defmodule GwStandin do
  @moduledoc false
  # What a PhoenixGenApi 2.22 gateway does with a service node's configs.

  @fc_keys [:request_type, :service, :nodes, :choose_node_mode, :timeout, :mfa,
            :arg_types, :arg_orders, :response_type, :request_info,
            :check_permission, :permission_callback, :version, :disabled,
            :retry, :before_execute, :after_execute, :hook_timeout]
  @types [:string, :num, :boolean, :list_string, :list_num, :list_uuid, :list_map,
          :map, :any, :uuid]

  def fc_keys, do: @fc_keys

  # ---- pulling (config-plane.md §5.3) ----

  @doc "{:ok, version, accepted, rejected} or {:error, reply}."
  def pull(node, service, t \\ 5_000) do
    version = :rpc.call(node, :pga_node, :get_config_version, [service], t)

    case :rpc.call(node, :pga_node, :get_config, [service], t) do
      {:ok, list} when is_list(list) ->
        checked = Enum.map(list, fn fc -> {fc, check(node, fc, t)} end)
        {:ok, version, for({fc, :ok} <- checked, do: fc),
         for({fc, {:error, why}} <- checked, do: {fc, why})}

      other ->
        {:error, other}
    end
  end

  defp check(node, fc, t) do
    cond do
      not (is_map(fc) and Map.get(fc, :__struct__) == PhoenixGenApi.Structs.FunConfig) ->
        {:error, :not_a_funconfig}

      match?({m, _, _} when is_atom(m), fc.mfa) and
          :rpc.call(node, Code, :ensure_loaded?, [elem(fc.mfa, 0)], t) != true ->
        {:error, {:module_not_loaded, elem(fc.mfa, 0)}}

      (msgs = validate(fc)) != [] ->
        {:error, msgs}

      true ->
        :ok
    end
  end

  @doc "The failing checks of FunConfig.validate_with_details/1 (§2.1)."
  def validate(fc) do
    [
      {"request_type", is_binary(fc.request_type) and fc.request_type != ""},
      {"service", fc.service != nil},
      {"nodes", match?([_ | _], fc.nodes) and Enum.all?(fc.nodes, &(is_atom(&1) or is_binary(&1)))},
      {"choose_node_mode",
       fc.choose_node_mode in [:random, :hash, :round_robin] or
         match?({:hash, k} when is_binary(k), fc.choose_node_mode) or
         match?({:sticky, k} when is_binary(k), fc.choose_node_mode)},
      {"timeout",
       fc.timeout == :infinity or (is_integer(fc.timeout) and fc.timeout in 100..300_000)},
      {"mfa",
       match?({m, f, a} when is_atom(m) and is_atom(f) and is_list(a), fc.mfa)},
      {"args", args_ok?(fc.arg_types, fc.arg_orders)},
      {"response_type", fc.response_type in [:sync, :async, :stream, :none]},
      {"check_permission",
       fc.check_permission in [false, :any_authenticated] or
         match?({:arg, n} when is_binary(n), fc.check_permission) or
         match?({:role, l} when is_list(l), fc.check_permission)},
      {"permission_callback", fc.permission_callback == nil},
      {"request_info", is_boolean(fc.request_info)},
      {"version",
       fc.version == nil or (is_binary(fc.version) and fc.version not in ["", "0.0.0"])},
      {"retry", fc.retry == nil},
      {"before_execute", fc.before_execute == nil},
      {"after_execute", fc.after_execute == nil},
      {"hook_timeout", is_integer(fc.hook_timeout) and fc.hook_timeout > 0}
    ]
    |> Enum.reject(&elem(&1, 1))
    |> Enum.map(&elem(&1, 0))
  end

  defp args_ok?(nil, o), do: o in [nil, []]
  defp args_ok?(t, o) when t == %{}, do: o in [nil, []]

  defp args_ok?(t, o) when is_map(t) do
    specs_ok = Enum.all?(t, fn {_, spec} -> spec_ok?(spec) end)

    specs_ok and
      (o in [[], :map] or
         (is_list(o) and length(o) == map_size(t) and MapSet.new(o) == MapSet.new(Map.keys(t))))
  end

  defp args_ok?(_, _), do: false

  defp spec_ok?(t) when is_atom(t), do: t in @types
  defp spec_ok?({t, _}), do: t in @types
  defp spec_ok?(kw) when is_list(kw), do: Keyword.get(kw, :type) in @types
  defp spec_ok?(_), do: false

  # ---- executing (request-plane.md §4, §8.4, §3.3) ----

  def info(req, extra \\ %{}) do
    Map.merge(%{request_id: req[:request_id] || "r1", user_id: req[:user_id], device_id: nil}, extra)
  end

  def final_args(fc, args, info) do
    {_m, _f, pre} = fc.mfa

    converted =
      cond do
        fc.arg_types in [nil, %{}] -> []
        fc.arg_orders == :map -> [Map.new(fc.arg_types, fn {k, _} -> {k, Map.get(args, k)} end)]
        map_size(fc.arg_types) == 1 -> [Map.get(args, hd(Map.keys(fc.arg_types)))]
        true -> Enum.map(fc.arg_orders, &Map.get(args, &1))
      end

    pre ++ converted ++ if(fc.request_info, do: [info], else: [])
  end

  def rpc_timeout(%{timeout: :infinity}), do: 25_000
  def rpc_timeout(%{timeout: t}) when is_integer(t), do: t

  @doc "The remote call and its fallback mapping (§8.4), one node."
  def remote(fc, args, info) do
    {m, f, _} = fc.mfa
    [node | _] = fc.nodes

    case :rpc.call(node, m, f, final_args(fc, args, info), Check.tmo(rpc_timeout(fc))) do
      {:badrpc, :timeout} -> {:error, :timeout}
      {:badrpc, {:EXIT, _}} -> {:error, :rpc_exit}
      {:badrpc, r} -> {:error, r}
      v -> v
    end
  end

  @doc "A sync response (§3.3); :cause keeps what the library hides."
  def sync(fc, args, req \\ %{}) do
    result = remote(fc, args, info(req))
    response(req, result)
  end

  defp response(req, result) do
    id = req[:request_id] || "r1"

    case result do
      {:ok, v} -> %{request_id: id, success: true, result: v, async: false, has_more: false}
      {:error, _} = e -> %{request_id: id, success: false, error: "Internal Server Error", cause: e}
      t when is_tuple(t) -> %{request_id: id, success: false, error: "unexpected", cause: t}
      v -> %{request_id: id, success: true, result: v, async: false, has_more: false}
    end
  end

  @doc ":async: ack now, {:async_call, response} later (§9.1)."
  def async(fc, args, receiver, req \\ %{}) do
    spawn(fn -> send(receiver, {:async_call, sync(fc, args, req)}) end)
    %{request_id: req[:request_id] || "r1", success: true, async: true, result: nil}
  end

  @doc ":none: nothing is sent back (§9.1)."
  def none(fc, args, req \\ %{}) do
    spawn(fn -> sync(fc, args, req) end)
    {:ok, :no_response}
  end

  @doc """
  :stream (§9.3): starts a relay whose pid goes to the function as
  stream_pid; the receiver gets {:stream_started, id, relay}, the first
  chunk (the call's value), then one message per chunk. Returns the ack.
  """
  def stream(fc, args, receiver, req \\ %{}) do
    id = req[:request_id] || "r1"

    spawn(fn ->
      relay = self()
      send(receiver, {:stream_started, id, relay})
      first = response(req, remote(fc, args, info(req, %{stream_pid: relay})))

      if first.success do
        send(receiver, {:stream_response, %{request_id: id, result: first, has_more: true}})
        relay_loop(receiver, id, Check.tmo(rpc_timeout(fc)))
      else
        send(receiver, {:stream_response, first})
      end
    end)

    %{request_id: id, success: true, async: true, has_more: true, result: :init}
  end

  defp relay_loop(receiver, id, limit) do
    receive do
      {:result, d} ->
        send(receiver, {:stream_response, %{request_id: id, result: d, has_more: true}})
        relay_loop(receiver, id, limit)

      {:last_result, d} ->
        send(receiver, {:stream_response, %{request_id: id, result: d, has_more: false}})

      :complete ->
        send(receiver, {:stream_response, %{request_id: id, result: nil, has_more: false, end: true}})

      {:error, r} ->
        send(receiver, {:stream_response, %{request_id: id, success: false,
                                             error: "Internal Server Error", cause: r}})

      {:"$gen_cast", :stop} ->
        send(receiver, {:stream_response, %{request_id: id, result: nil, has_more: false, end: true}})
    after
      # the library's pool stops the relay at the config's timeout, silently
      limit -> :ok
    end
  end

  @doc "Collects {:stream_response, r} messages until the stream ends."
  def collect(ms, acc \\ []) do
    receive do
      {:stream_response, r} ->
        if r[:has_more] == false or r[:success] == false,
          do: Enum.reverse([r | acc]),
          else: collect(ms, [r | acc])
    after
      ms -> Enum.reverse([:no_end | acc])
    end
  end
end
