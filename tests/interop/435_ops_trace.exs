# 435_ops_trace: trace messages on requests (ops-plane.md §9.2). A private
# gateway (admin_actions enable/disable_tracing) stores a FunConfig whose
# target is a function on a service node; requests are executed while this
# node traces them with `tracer: self()`: function patterns give :call and
# :return_from, process traces :spawn, one :call per pipeline phase and
# :exit; stop_trace ends the messages, and a dead tracer's entries go.
# Each check runs in its own process, which is the tracer: its death at
# the end of the check clears what it left.
Code.require_file("lib/check.exs", __DIR__)
Code.require_file("lib/config_structs.exs", __DIR__)
Code.require_file("lib/config_gw.exs", __DIR__)

defmodule Scenario do
  require Check

  @top PhoenixGenApi
  @exec PhoenixGenApi.Executor
  @phases [:config_lookup, :hooks_before, :permission, :rate_limit,
           :argument_validation, :node_selection, :execution, :hooks_after, :response]

  @service """
  defmodule Svc do
    def hello(name), do: {:ok, "hi " <> name}
  end
  """

  def call(gw, m, f, a), do: :rpc.call(gw, m, f, a, Check.tmo(5_000))

  def params(id), do: %{"request_id" => id, "request_type" => "hello", "service" => "svc",
    "user_id" => "u1", "device_id" => "d1", "args" => %{"name" => "A"}}

  def execute(gw, id), do: :erpc.call(gw, @exec, :execute_params!, [params(id)], Check.tmo(10_000))

  def msgs(acc \\ [], ms \\ 500) do
    receive do
      m -> msgs([m | acc], ms)
    after
      Check.tmo(ms) -> Enum.reverse(acc)
    end
  end

  # Clears what earlier checks' tracers left (their DOWN may still be on
  # its way).
  def reset(gw) do
    {:ok, _} = call(gw, @top, :stop_trace_functions, [])
    {:ok, _} = call(gw, @top, :stop_trace, [])
  end

  def phases(ms, tag, pid, id) do
    for {^tag, ^pid, :call, {:phoenix_gen_api, phase, [^id]}} <- ms, do: phase
  end

  def functions(gw) do
    Check.match("trace_functions + execute: :call then :return_from (meta-trace terms)",
      {:ok, [{:call, {Svc, :hello, ["A"]}}, {:return_from, {Svc, :hello, 1}, {:ok, "hi A"}}], true}, (
      reset(gw)
      me = self()
      {:ok, %{pattern_results: %{"{Svc, :hello, :_}" => 1}}} =
        call(gw, @top, :trace_functions, [{Svc, :hello}, [tracer: me, flags: [:call, :return_trace]]])
      %{success: true, result: "hi A"} = execute(gw, "f1")
      ms = msgs()
      pids = for {:trace_ts, p, _, _, _} <- ms, do: p
      pids = pids ++ for {:trace_ts, p, _, _, _, _} <- ms, do: p
      got = Enum.flat_map(ms, fn
        {:trace_ts, _, :call, mfa, {_, _, _}} -> [{:call, mfa}]
        {:trace_ts, _, :return_from, mfa, r, {_, _, _}} -> [{:return_from, mfa, r}]
        _ -> []
      end)
      # (trace_functions also traces every process with its flags: :call phases)
      {:ok, got, length(Enum.uniq(pids)) == 1 and phases(ms, :trace, hd(pids), "f1") == @phases}))

    Check.match("a match spec with {:return_trace} asks for :return_from too",
      {:ok, [{Svc, :hello, 1}]}, (
      reset(gw)
      ms = [{:_, [], [{:return_trace}]}]
      {:ok, _} = call(gw, @top, :trace_functions, [{Svc, :hello, 1}, [tracer: self(), flags: [], match_spec: ms]])
      execute(gw, "f2")
      {:ok, for({:trace_ts, _, :return_from, mfa, _, _} <- msgs(), do: mfa)}))

    Check.eq("a pattern with another arity sends nothing", [], fn ->
      reset(gw)
      {:ok, _} = call(gw, @top, :trace_functions, [{Svc, :hello, 2}, [tracer: self(), flags: [:return_trace]]])
      execute(gw, "f3")
      msgs()
    end)

    Check.eq("stop_trace_functions + stop_trace: no more messages", {1, 1, []}, fn ->
      reset(gw)
      {:ok, _} = call(gw, @top, :trace_functions, [{Svc, :hello}, [tracer: self(), flags: [:call, :return_trace]]])
      {:ok, %{results: %{"{:_, :_, :_}" => nf}}} = call(gw, @top, :stop_trace_functions, [])
      {:ok, %{results: %{":all" => np}}} = call(gw, @top, :stop_trace, [])
      execute(gw, "f4")
      {nf, np, msgs()}
    end)
  end

  def processes(gw) do
    Check.match("trace_processes(:all, [:procs, :call]): spawn, every phase, exit",
      {:ok, true, @phases, true}, (
      reset(gw)
      {:ok, %{targets: [:all]}} = call(gw, @top, :trace_processes, [:all, [tracer: self(), flags: [:procs, :call]]])
      execute(gw, "p1")
      ms = msgs()
      case ms do
        [{:trace, parent, :spawn, pid, {@exec, :execute!, [%{request_id: "p1"}]}} | rest] ->
          {:ok, is_pid(parent) and node(parent) == gw and node(pid) == gw,
           phases(rest, :trace, pid, "p1"), List.last(rest) == {:trace, pid, :exit, :normal}}
        other -> {:unexpected, other}
      end))

    Check.match(":timestamp gives :trace_ts forms",
      {:ok, [:config_lookup | _]}, (
      reset(gw)
      {:ok, _} = call(gw, @top, :trace_processes, [:all, [tracer: self(), flags: [:call, :timestamp]]])
      execute(gw, "p2")
      {:ok, for({:trace_ts, _, :call, {:phoenix_gen_api, ph, ["p2"]}, {_, _, _}} <- msgs(), do: ph)}))

    Check.eq("without :call and :procs nothing is sent; stop_trace ends the rest", {[], []}, fn ->
      reset(gw)
      {:ok, _} = call(gw, @top, :trace_processes, [:all, [tracer: self(), flags: [:timestamp]]])
      execute(gw, "p3")
      a = msgs()
      {:ok, _} = call(gw, @top, :trace_processes, [:all, [tracer: self(), flags: [:procs, :call]]])
      {:ok, %{results: %{":all" => 1}}} = call(gw, @top, :stop_trace, [:all, []])
      execute(gw, "p4")
      {a, msgs()}
    end)
  end

  def dead_tracer(gw) do
    Check.eq("a tracer that dies: its entries are cleared", {:ok, 0, 0}, fn ->
      reset(gw)
      t = spawn(fn -> Process.sleep(:infinity) end)
      {:ok, _} = call(gw, @top, :trace_functions, [{Svc, :hello}, [tracer: t, flags: [:call]]])
      Process.exit(t, :kill)
      Process.sleep(Check.tmo(300))
      {:ok, %{results: %{"{:_, :_, :_}" => nf}}} = call(gw, @top, :stop_trace_functions, [])
      {:ok, %{results: %{":all" => np}}} = call(gw, @top, :stop_trace, [])
      {:ok, nf, np}
    end)

    Check.eq("a live tracer's entries stay (control)", {:ok, 1, 1}, fn ->
      reset(gw)
      {:ok, _} = call(gw, @top, :trace_functions, [{Svc, :hello}, [tracer: self(), flags: [:call]]])
      Process.sleep(Check.tmo(300))
      {:ok, %{results: %{"{:_, :_, :_}" => nf}}} = call(gw, @top, :stop_trace_functions, [])
      {:ok, %{results: %{":all" => np}}} = call(gw, @top, :stop_trace, [])
      {:ok, nf, np}
    end)
  end

  def run do
    ConfigGw.require_binary!()

    {_port, _ospid, svc} = Check.start_node("svc", "Process.sleep(:infinity)", setup: @service)
    gw = ConfigGw.start_with_config("tracegw", ~s({"admin_actions": ["enable_tracing", "disable_tracing"]}))
    fc = ConfigFixtures.f(svc, service: "svc", request_type: "hello", version: nil,
      mfa: {Svc, :hello, []}, arg_types: %{"name" => :string}, arg_orders: ["name"])
    Check.eq("the FunConfig is stored", :ok, fn -> call(gw.node, PhoenixGenApi.ConfigDb, :add, [fc]) end)

    functions(gw.node)
    processes(gw.node)
    dead_tracer(gw.node)
    # shutdown with a monitored tracer and its entries still there
    {:ok, _} = call(gw.node, @top, :trace_functions, [{Svc, :hello}, [tracer: self(), flags: [:call]]])
    execute(gw.node, "s1")
    st = ConfigGw.stop(gw)
    Check.eq("SIGTERM while tracing: exit 0", 0, fn -> st end)
    Check.finish()
  end
end

Scenario.run()
