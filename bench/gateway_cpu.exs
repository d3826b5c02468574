# The gateway CPU benchmark driver (`make bench-gateway`): an Elixir node
# that makes the same calls on every gateway in one run and reports what
# each gateway's OS process spent on them, as CPU time per request
# (utime + stime from /proc/PID/stat, read before and after, so the
# drivers' and the service node's CPU stay out), next to the rate:
#   BEAM     the BEAM gateway stand-in (bench/beam_gateway.exs)
#   pga      pga-node
#   library  optional: an Elixir node running PhoenixGenApi itself
#            (bench/library_gateway.exs), when run.sh found it in ERL_LIBS
# The figures, one after the other, each target in turn (never at once):
#   echo     :erpc.call of echo/1 (the call of bench/driver.exs)
#   execute  Executor.execute!/1 with a Request struct, routed to the
#            service node's :pga_bench_echo.reply/1 ({:ok, arg})
#   params   Executor.execute_params!/1, the same request as params
#   stream   Executor.execute_params!/1 of a :stream FunConfig whose service
#            function sends BENCH_STREAM_CHUNKS chunks; per relayed chunk
#   push     ConfigReceiver.push/2 (force) of one PushConfig with
#            BENCH_PUSH_SIZE FunConfigs, BENCH_PUSHES times, one at a time
# bench/run.sh starts the nodes and this script.
#
# Environment:
#   BENCH_SERVICE_NODE     the service node the FunConfigs route to (required)
#   BENCH_BEAM_GW_NODE     the BEAM stand-in gateway
#   BENCH_PGA_NODE, BENCH_PGA_OSPID   pga-node and its OS pid
#   BENCH_LIBRARY_NODE     the library gateway (optional)
#   BENCH_TARGETS          which of beam,pga,library to measure (default all)
#   BENCH_ONLY             which figures (default echo,execute,params,stream,push)
#   BENCH_CALLERS          concurrent callers (default 64; push: always 1)
#   BENCH_REQUESTS         requests (stream: chunks) per figure (default 100000)
#   BENCH_WARMUP_REQUESTS  requests before each measurement (default 10000)
#   BENCH_STREAM_CHUNKS    chunks per stream (default 1000)
#   BENCH_PUSHES           pushes measured (default 100), BENCH_PUSH_SIZE (1000)
#   BENCH_SECONDS          load mode: no warm-up, each figure runs this many
#                          seconds on each target instead of a request count
#                          (steady load for `perf record -p PID`)
#   BENCH_CLK_TCK          clock ticks per second of /proc (default 100)
#   BENCH_GATEWAY_CPU_CSV  if set, also write the figures to this file
Code.require_file("common.exs", __DIR__)

defmodule PgaGatewayCpu do
  import PgaBench.Common

  @service "pga_bench"
  @push_service "pga_bench_push"
  @arg "pga bench payload 0123456789abcdef"
  @timeout 30_000
  @exec PhoenixGenApi.Executor
  @figures [:echo, :execute, :params, :stream, :push]
  @target_keys [:beam, :pga, :library]

  def main do
    svc = env_node("BENCH_SERVICE_NODE") || die("BENCH_SERVICE_NODE is not set")

    opts = %{
      callers: env_count("BENCH_CALLERS", 64),
      requests: env_count("BENCH_REQUESTS", 100_000),
      warmup: env_count("BENCH_WARMUP_REQUESTS", 10_000),
      chunks: env_count("BENCH_STREAM_CHUNKS", 1000),
      pushes: env_count("BENCH_PUSHES", 100),
      push_size: env_count("BENCH_PUSH_SIZE", 1000),
      seconds: System.get_env("BENCH_SECONDS") not in [nil, ""] && env_number("BENCH_SECONDS", 0),
      clk_tck: env_count("BENCH_CLK_TCK", 100),
      svc: svc
    }

    figures = env_keys("BENCH_ONLY", @figures)
    targets = targets(env_keys("BENCH_TARGETS", @target_keys))
    if targets == [], do: die("no gateway to measure (BENCH_TARGETS, BENCH_*_NODE)")
    connect(svc, 50)
    for t <- targets, do: setup(t, opts)
    print_header(targets, figures, opts)

    rows =
      for f <- figures do
        results =
          for t <- targets, into: %{} do
            check(f, t, opts)
            {t.key, measure(f, t, opts)}
          end

        print_row(f, targets, results, opts)
        {f, results}
      end

    print_footer(targets, rows)
    if path = System.get_env("BENCH_GATEWAY_CPU_CSV"), do: write_csv(path, rows)
    errors = for {_, rs} <- rows, {_, r} <- rs, do: r.errors
    System.halt(if Enum.sum(errors) > 0, do: 1, else: 0)
  end

  # ---- the targets ----

  # In the order of @target_keys, whatever the order of BENCH_TARGETS.
  defp targets(keys) do
    for key <- @target_keys, key in keys, t = target(key), t != nil, do: t
  end

  defp target(:beam) do
    if node = env_node("BENCH_BEAM_GW_NODE") do
      beam_target(:beam, "BEAM", node, "the BEAM gateway stand-in (bench/beam_gateway.exs)")
    end
  end

  defp target(:library) do
    if node = env_node("BENCH_LIBRARY_NODE") do
      connect(node, 50)
      vsn = :erpc.call(node, Application, :spec, [:phoenix_gen_api, :vsn])
      beam_target(:library, "library", node, "PhoenixGenApi #{vsn} (bench/library_gateway.exs)")
    end
  end

  defp target(:pga) do
    if node = env_node("BENCH_PGA_NODE") do
      connect(node, 50)
      ospid = env_count("BENCH_PGA_OSPID", nil) || die("BENCH_PGA_OSPID is not set")
      %{key: :pga, label: "pga", node: node, ospid: ospid, echo: :pga_node, what: "pga-node"}
    end
  end

  defp beam_target(key, label, node, what) do
    connect(node, 50)
    ospid = String.to_integer(:erpc.call(node, System, :pid, []))
    %{key: key, label: label, node: node, ospid: ospid, echo: :pga_bench_echo, what: what}
  end

  # ---- setup: the FunConfigs the figures call ----

  defp fun_config(svc, service, request_type, over) do
    Map.merge(
      %{
        __struct__: PhoenixGenApi.Structs.FunConfig,
        request_type: request_type,
        service: service,
        nodes: [svc],
        choose_node_mode: :random,
        timeout: @timeout,
        mfa: {:pga_bench_echo, :reply, []},
        arg_types: %{"x" => :string},
        arg_orders: ["x"],
        response_type: :sync,
        request_info: false,
        check_permission: false,
        permission_callback: nil,
        version: nil,
        disabled: false,
        retry: nil,
        before_execute: nil,
        after_execute: nil,
        hook_timeout: 5000
      },
      Map.new(over)
    )
  end

  defp push_config(svc, service, fun_configs) do
    %{
      __struct__: PhoenixGenApi.Structs.PushConfig,
      service: service,
      nodes: [svc],
      config_version: "1",
      fun_configs: fun_configs,
      module: nil,
      function: nil,
      version_module: nil,
      version_function: nil,
      args: [],
      version_args: [],
      push_token: nil
    }
  end

  defp setup(t, opts) do
    fcs = [
      fun_config(opts.svc, @service, "bench_echo", []),
      fun_config(opts.svc, @service, "bench_stream",
        mfa: {:pga_bench_echo, :stream, []},
        response_type: :stream,
        request_info: true,
        arg_types: %{"n" => :num},
        arg_orders: ["n"]
      )
    ]

    push(t, push_config(opts.svc, @service, fcs))
    |> expect_accepted(t, "the benchmark's FunConfigs")
  end

  defp push(t, config) do
    :erpc.call(t.node, PhoenixGenApi.ConfigReceiver, :push, [config, [force: true]], @timeout)
  end

  defp expect_accepted({:ok, :accepted}, _, _), do: :ok

  defp expect_accepted(other, t, what),
    do: die("#{t.label}: the push of #{what} returned #{inspect(other)}")

  # The PushConfig of the push figure (built once, pushed many times).
  defp big_push(opts) do
    Process.get(:pga_bench_big_push) ||
      (
        fcs =
          for i <- 1..opts.push_size do
            fun_config(opts.svc, @push_service, "bench_push_#{i}", [])
          end

        p = push_config(opts.svc, @push_service, fcs)
        Process.put(:pga_bench_big_push, p)
        p
      )
  end

  # ---- the calls: {:ok, units} or what went wrong ----

  defp call_fun(:echo, t, _opts) do
    fn -> if echo_call(t.node, t.echo, @timeout), do: {:ok, 1}, else: :wrong_echo end
  end

  defp call_fun(:execute, t, _opts) do
    req = %{
      __struct__: PhoenixGenApi.Structs.Request,
      request_id: "pga-bench",
      request_type: "bench_echo",
      service: @service,
      user_id: "u",
      device_id: "d",
      args: %{"x" => @arg},
      user_roles: nil,
      version: nil
    }

    fn ->
      case :erpc.call(t.node, @exec, :execute!, [req], @timeout) do
        %{success: true, result: @arg} -> {:ok, 1}
        other -> other
      end
    end
  end

  defp call_fun(:params, t, _opts) do
    params = params("bench_echo", %{"x" => @arg})

    fn ->
      case :erpc.call(t.node, @exec, :execute_params!, [params], @timeout) do
        %{success: true, result: @arg} -> {:ok, 1}
        other -> other
      end
    end
  end

  defp call_fun(:stream, t, opts) do
    params = params("bench_stream", %{"n" => opts.chunks})

    call =
      if t.key == :library,
        do: fn -> :erpc.call(t.node, :pga_bench_library, :stream_params, [params, self()], @timeout) end,
        else: fn -> :erpc.call(t.node, @exec, :execute_params!, [params], @timeout) end

    fn ->
      case call.() do
        %{success: true, has_more: true} -> collect_stream(opts.chunks)
        other -> other
      end
    end
  end

  defp call_fun(:push, t, opts) do
    config = big_push(opts)

    fn ->
      case push(t, config) do
        {:ok, :accepted} -> {:ok, 1}
        other -> other
      end
    end
  end

  defp params(request_type, args) do
    %{
      "request_id" => "pga-bench",
      "request_type" => request_type,
      "service" => @service,
      "user_id" => "u",
      "device_id" => "d",
      "args" => args
    }
  end

  # A stream's messages: stream_started, the first chunk (the call's own
  # Response), the chunks, the last. Units = the stream_response messages.
  defp collect_stream(chunks) do
    receive do
      {:stream_started, "pga-bench", _} -> collect_chunks(chunks, 0)
    after
      @timeout -> :no_stream_started
    end
  end

  defp collect_chunks(chunks, n) do
    receive do
      {:stream_response, %{success: true, has_more: true}} ->
        collect_chunks(chunks, n + 1)

      {:stream_response, %{success: true, result: :done}} when n == chunks + 1 ->
        {:ok, n + 1}

      {:stream_response, other} ->
        {:bad_stream_end, n, other}
    after
      @timeout -> {:stream_stalled, n}
    end
  end

  defp check(figure, t, opts) do
    case safe(call_fun(figure, t, opts)) do
      {:ok, _} -> :ok
      other -> die("#{t.label}: #{figure}: the first call returned #{inspect(other)}")
    end
  end

  # ---- measuring ----

  # Units one call makes: a request, a push, or the messages of a stream.
  defp units_per_call(:stream, opts), do: opts.chunks + 2
  defp units_per_call(_, _), do: 1

  defp callers(:push, _), do: 1
  defp callers(_, opts), do: opts.callers

  defp measure(figure, t, opts) do
    fun = call_fun(figure, t, opts)
    callers = callers(figure, opts)
    per_call = units_per_call(figure, opts)

    plan =
      if opts.seconds do
        IO.puts(:stderr, "pga-bench: load: #{figure} on #{t.label} (OS pid #{t.ospid}) " <>
                  "for #{fmt_secs(opts.seconds)} s, #{callers} callers")
        {:seconds, opts.seconds}
      else
        warm = if figure == :push, do: 2, else: opts.warmup
        _ = run(fun, callers, {:calls, calls_per_caller(warm, callers, per_call)})
        {:calls, calls_per_caller(needed(figure, opts), callers, per_call)}
      end

    :erlang.garbage_collect()
    cpu0 = cpu_ticks(t.ospid)
    t0 = :erlang.monotonic_time()
    r = run(fun, callers, plan)
    wall = :erlang.monotonic_time() - t0
    cpu1 = cpu_ticks(t.ospid)
    wall_s = :erlang.convert_time_unit(wall, :native, :microsecond) / 1_000_000
    cpu_s = (cpu1 - cpu0) / opts.clk_tck

    if r.first_error do
      IO.puts(:stderr, "pga-bench: #{t.label}: #{figure}: #{r.errors} failed calls; " <>
                "first: #{inspect(r.first_error)}")
    end

    Map.merge(r, %{wall_s: wall_s, cpu_s: cpu_s, callers: callers})
  end

  defp needed(:push, opts), do: opts.pushes
  defp needed(_, opts), do: opts.requests

  defp calls_per_caller(units, callers, per_call), do: max(1, ceil(units / (callers * per_call)))

  # callers processes call fun, each calls times or until the deadline.
  defp run(fun, callers, plan) do
    parent = self()

    pids =
      for _ <- 1..callers do
        spawn_link(fn ->
          receive do
            {:go, stop} -> send(parent, {:done, self(), loop(fun, stop, 0, 0, 0, nil)})
          end
        end)
      end

    stop =
      case plan do
        {:calls, n} -> {:calls, n}
        {:seconds, s} -> {:until, :erlang.monotonic_time() + round(s * :erlang.convert_time_unit(1, :second, :native))}
      end

    for p <- pids, do: send(p, {:go, stop})

    parts =
      for p <- pids do
        receive do
          {:done, ^p, part} -> part
        end
      end

    %{
      units: parts |> Enum.map(&elem(&1, 0)) |> Enum.sum(),
      calls: parts |> Enum.map(&elem(&1, 1)) |> Enum.sum(),
      errors: parts |> Enum.map(&elem(&1, 2)) |> Enum.sum(),
      first_error: Enum.find_value(parts, &elem(&1, 3))
    }
  end

  defp loop(fun, stop, units, calls, errors, first_error) do
    if done?(stop, calls + errors) do
      {units, calls, errors, first_error}
    else
      case safe(fun) do
        {:ok, n} -> loop(fun, stop, units + n, calls + 1, errors, first_error)
        other -> loop(fun, stop, units, calls, errors + 1, first_error || other)
      end
    end
  end

  defp done?({:calls, n}, made), do: made >= n
  defp done?({:until, deadline}, _), do: :erlang.monotonic_time() >= deadline

  # utime + stime of an OS process, all its threads, in clock ticks.
  defp cpu_ticks(ospid) do
    stat = File.read!("/proc/#{ospid}/stat")
    # The command name (field 2) may hold spaces: count after its last ")".
    {at, 1} = :binary.matches(stat, ")") |> List.last()
    fields = String.split(binary_part(stat, at + 1, byte_size(stat) - at - 1))
    String.to_integer(Enum.at(fields, 11)) + String.to_integer(Enum.at(fields, 12))
  end

  # ---- environment ----

  defp env_count(var, default) do
    case System.get_env(var) do
      v when v in [nil, ""] ->
        default

      s ->
        case Integer.parse(s) do
          {n, ""} when n > 0 -> n
          _ -> die("#{var} must be a positive integer, not '#{s}'")
        end
    end
  end

  defp env_keys(var, all) do
    case System.get_env(var) do
      v when v in [nil, ""] ->
        all

      s ->
        for part <- String.split(s, [",", " "], trim: true) do
          Enum.find(all, &(Atom.to_string(&1) == part)) ||
            die("#{var}: '#{part}' is none of #{Enum.join(all, ", ")}")
        end
    end
  end

  # ---- output ----

  defp print_header(targets, figures, opts) do
    IO.puts("")
    IO.puts("pga bench: gateway CPU per request (utime+stime of each gateway's OS process, " <>
              "/proc/PID/stat, before and after)")

    amount =
      if opts.seconds,
        do: "load mode: #{fmt_secs(opts.seconds)} s per figure and target, no warm-up",
        else: ">= #{opts.requests} requests per figure after #{opts.warmup} warm-up"

    IO.puts("  #{amount}; #{opts.callers} callers (push: 1); OTP " <>
              "#{:erlang.system_info(:otp_release)}, Elixir #{System.version()}, " <>
              "#{:erlang.system_info(:logical_processors_available)} CPUs")

    for t <- targets do
      IO.puts("  #{String.pad_trailing(t.label, 8)} #{t.node} (OS pid #{t.ospid}): #{t.what}")
    end

    IO.puts("  service  #{opts.svc}: :pga_bench_echo.reply/1 and stream/2 (bench/target.exs)")
    if :stream in figures, do: IO.puts("  stream: #{opts.chunks} chunks a stream")

    if :push in figures,
      do: IO.puts("  push: one PushConfig of #{opts.push_size} FunConfigs (force), #{opts.pushes} times")

    if Enum.any?(targets, &(&1.key == :library)) and :stream in figures do
      IO.puts("  library stream: relayed once more inside the library node " <>
                "(its receiver is the erpc worker; see bench/library_gateway.exs)")
    end

    IO.puts("")
    IO.puts(header_line(targets))
    IO.puts(String.duplicate("-", String.length(header_line(targets))))
  end

  defp header_line(targets) do
    String.pad_trailing("figure", 30) <> String.pad_trailing("metric", 14) <>
      Enum.map_join(targets, "", &String.pad_leading(&1.label, 11)) <>
      Enum.map_join(ratio_pairs(targets), "", fn {a, b} ->
        String.pad_leading("#{a.label}/#{b.label}", 14)
      end)
  end

  # The ratios shown: pga against each other target.
  defp ratio_pairs(targets) do
    case Enum.find(targets, &(&1.key == :pga)) do
      nil -> []
      pga -> for t <- targets, t.key != :pga, do: {pga, t}
    end
  end

  defp figure_label(:echo, _), do: "echo (erpc)"
  defp figure_label(:execute, _), do: "execute!/1 Request"
  defp figure_label(:params, _), do: "execute_params!/1"
  defp figure_label(:stream, opts), do: "stream, #{opts.chunks} a stream"
  defp figure_label(:push, opts), do: "push #{opts.push_size} FunConfigs"

  # {metric label, value of a result}
  defp metrics(:push) do
    [
      {"wall ms/push", fn r -> per(r.wall_s * 1000, r.calls) end},
      {"CPU ms/push", fn r -> per(r.cpu_s * 1000, r.calls) end}
    ]
  end

  defp metrics(figure) do
    unit = if figure == :stream, do: "chunk", else: "req"

    [
      {"#{unit}/s", fn r -> per(r.units, r.wall_s) end},
      {"CPU us/#{unit}", fn r -> per(r.cpu_s * 1_000_000, r.units) end}
    ]
  end

  defp per(_, 0), do: nil
  defp per(_, z) when z == 0.0, do: nil
  defp per(a, b), do: a / b

  defp print_row(figure, targets, results, opts) do
    lead = "#{figure_label(figure, opts)}, #{callers(figure, opts)} c."

    for {{label, value}, i} <- Enum.with_index(metrics(figure)) do
      first = if i == 0, do: lead, else: ""

      cells =
        Enum.map_join(targets, "", fn t -> String.pad_leading(fmt_value(value.(results[t.key])), 11) end)

      ratios =
        Enum.map_join(ratio_pairs(targets), "", fn {a, b} ->
          String.pad_leading(ratio(value.(results[a.key]), value.(results[b.key])), 14)
        end)

      IO.puts(String.pad_trailing(first, 30) <> String.pad_trailing(label, 14) <> cells <> ratios)
    end

    # CPU comes in clock ticks: the total says how exact a figure is.
    counts =
      Enum.map_join(targets, ", ", fn t ->
        r = results[t.key]
        "#{t.label} #{r.units} in #{fmt_secs(Float.round(r.cpu_s, 2))} s CPU"
      end)

    IO.puts(String.pad_trailing("", 30) <> "(measured: #{counts})")
  end

  defp fmt_value(nil), do: "-"
  defp fmt_value(x) when x >= 1000, do: Integer.to_string(round(x))
  defp fmt_value(x) when x >= 100, do: :erlang.float_to_binary(x / 1, decimals: 1)
  defp fmt_value(x), do: :erlang.float_to_binary(x / 1, decimals: 2)

  defp print_footer(targets, rows) do
    IO.puts("")

    if ratio_pairs(targets) != [] do
      IO.puts("ratios pga/other: on a rate (req/s, chunk/s) > 1 means pga serves more; " <>
                "on CPU and wall time < 1")
      IO.puts("means pga spends less. CPU is counted in clock ticks of /proc (10 ms at 100 Hz); " <>
                "a BEAM's figure")
      IO.puts("includes its schedulers' busy waiting.")
    end

    errs =
      for {f, rs} <- rows, {k, r} <- rs, r.errors > 0, do: {f, k, r.errors}

    if errs != [], do: IO.puts("failed calls (figure, target, count): #{inspect(errs)}")
  end

  defp write_csv(path, rows) do
    lines =
      for {f, rs} <- rows, {k, r} <- rs do
        Enum.join([f, k, r.callers, r.calls, r.units, r.errors,
                   :erlang.float_to_binary(r.wall_s, decimals: 3),
                   :erlang.float_to_binary(r.cpu_s / 1, decimals: 2)], ",")
      end

    header = "figure,target,callers,calls,units,errors,wall_s,cpu_s"
    File.write!(path, Enum.join([header | lines], "\n") <> "\n")
  end
end

PgaGatewayCpu.main()
