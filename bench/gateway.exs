# The gateway benchmark driver: an Elixir node that measures what pga's
# gateway (PhoenixGenApi.Executor.execute_params!/1) costs on top of the
# call it makes, at several caller counts, in one run:
#   direct     the baseline: :erpc.call of :pga_bench_echo.echo/1 on the BEAM
#              target node (bench/target.exs)
#   forward    the two-hop baseline: :erpc.call of a BEAM function on the
#              target that only passes the call on to pga-node's echo/1
#              (the thinnest BEAM gateway: same nodes, same two hops)
#   gateway    :erpc.call of Executor.execute_params!/1 on pga-node, with a
#              FunConfig that routes the request to that same echo/1
#   +telemetry the same, with PhoenixGenApi.Telemetry.attach_executor/2
#              handing every request's start and stop events to a process
#              on this node that discards them
#   +limit     the same, with a global rate limit (on :user_id) set so high
#              that it never refuses: every request is checked and logged
# and prints requests/s, p50 and p99 latency for each, with the ratios
# gateway/direct, gateway/forward, telemetry/gateway and limit/telemetry.
# All paths get the
# same argument, the same callers and the same time, one after the other
# (never at once), so the ratios compare like with like on this machine.
# bench/run.sh starts the nodes and runs this after bench/driver.exs.
#
# Environment:
#   BENCH_BEAM_NODE       the BEAM target node (required)
#   BENCH_PGA_NODE        pga-node (required)
#   BENCH_SECONDS         measured seconds per run (default 5)
#   BENCH_WARMUP_SECONDS  warm-up seconds before each run (default 1)
#   BENCH_CONCURRENCY     caller counts, comma-separated (default 1,8,64)
#   BENCH_GATEWAY_CSV     if set, also write the figures to this file
Code.require_file("common.exs", __DIR__)

defmodule PgaGatewayBench do
  import PgaBench.Common

  @arg "pga bench payload 0123456789abcdef"
  @call_timeout 5_000
  @service "pga_bench"
  @request_type "bench_echo"
  @handler_id "pga-bench"
  @high_limit [%{key: :user_id, max_requests: 10_000_000, window_ms: 60_000}]

  # {key, label, ratio label, key of the ratio's denominator}
  @paths [
    {:direct, "direct (baseline)", nil, nil},
    {:forward, "BEAM forward", "forward/direct", :direct},
    {:gateway, "gateway", "gateway/forward", :forward},
    {:telemetry, "+ telemetry", "telemetry/gateway", :gateway},
    {:limit, "+ global limit", "limit/telemetry", :telemetry}
  ]

  def main do
    beam = env_node("BENCH_BEAM_NODE") || die("BENCH_BEAM_NODE is not set")
    pga = env_node("BENCH_PGA_NODE") || die("BENCH_PGA_NODE is not set")
    seconds = env_number("BENCH_SECONDS", 5)
    warmup = env_number("BENCH_WARMUP_SECONDS", 1)
    concs = env_concurrency("BENCH_CONCURRENCY", [1, 8, 64])

    connect(beam, 50)
    connect(pga, 50)
    sink = spawn_link(fn -> sink(0) end)
    setup_gateway(pga, beam)
    check(:direct, call_fun(:direct, beam, pga))
    check(:forward, call_fun(:forward, beam, pga))
    check(:gateway, call_fun(:gateway, beam, pga))

    print_header(beam, pga, seconds, warmup)

    rows =
      for c <- concs do
        results =
          for {key, _, _, _} <- @paths, into: %{} do
            enter(key, pga, sink)
            fun = call_fun(key, beam, pga)
            _ = measure(key, fun, c, warmup)
            :erlang.garbage_collect()
            sink_reset(sink)
            r = measure(key, fun, c, seconds)
            r = Map.put(r, :events, sink_count(sink, key, r.calls))
            leave(key, pga)
            {key, r}
          end

        print_rows(c, results)
        {c, results}
      end

    print_footer(rows)
    if path = System.get_env("BENCH_GATEWAY_CSV"), do: write_csv(path, rows)
    errors = for {_, rs} <- rows, {_, r} <- rs, do: r.errors
    if Enum.sum(errors) > 0, do: System.halt(1), else: System.halt(0)
  end

  # ---- the paths ----

  defp setup_gateway(pga, beam) do
    fc = %{
      __struct__: PhoenixGenApi.Structs.FunConfig,
      request_type: @request_type,
      service: @service,
      nodes: [beam],
      choose_node_mode: :random,
      timeout: @call_timeout,
      mfa: {:pga_bench_echo, :echo, []},
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
    }

    expect_ok(:rpc.call(pga, PhoenixGenApi.ConfigDb, :add, [fc]), "ConfigDb.add/1")
    # No global limits, no handlers: the gateway path is the bare pipeline.
    expect_ok(:rpc.call(pga, PhoenixGenApi, :set_global_limits, [[]]),
              "set_global_limits([])")
  end

  # Puts pga into the state path key measures (and leave/2 undoes it).
  defp enter(:telemetry, pga, sink), do: attach(pga, sink)

  defp enter(:limit, pga, sink) do
    attach(pga, sink)
    expect_ok(:rpc.call(pga, PhoenixGenApi, :set_global_limits, [@high_limit]),
              "set_global_limits/1")
  end

  defp enter(_, _, _), do: :ok

  defp leave(key, pga) when key in [:telemetry, :limit] do
    expect_ok(:rpc.call(pga, PhoenixGenApi.Telemetry, :detach_all, [@handler_id]),
              "Telemetry.detach_all/1")

    if key == :limit do
      expect_ok(:rpc.call(pga, PhoenixGenApi, :set_global_limits, [[]]),
                "set_global_limits([])")
    end
  end

  defp leave(_, _), do: :ok

  defp attach(pga, sink) do
    expect_ok(:rpc.call(pga, PhoenixGenApi.Telemetry, :attach_executor, [@handler_id, sink]),
              "Telemetry.attach_executor/2")
  end

  # A call of path key: true when it gave the expected answer, else the
  # answer (or {:pga_bench_error, kind, reason}).
  defp call_fun(:direct, beam, _pga) do
    fn ->
      case :erpc.call(beam, :pga_bench_echo, :echo, [@arg], @call_timeout) do
        @arg -> true
        other -> other
      end
    end
  end

  defp call_fun(:forward, beam, pga) do
    fn ->
      case :erpc.call(beam, :pga_bench_echo, :forward, [pga, @arg], @call_timeout) do
        @arg -> true
        other -> other
      end
    end
  end

  defp call_fun(_, _beam, pga) do
    params = %{
      "request_id" => "pga-bench",
      "request_type" => @request_type,
      "service" => @service,
      "user_id" => "u",
      "args" => %{"x" => @arg}
    }

    fn ->
      case :erpc.call(pga, PhoenixGenApi.Executor, :execute_params!, [params], @call_timeout) do
        %{success: true, result: @arg} -> true
        other -> other
      end
    end
  end

  defp check(key, fun) do
    case safe(fun) do
      true -> :ok
      other -> die("#{key}: the first call returned #{inspect(other)}")
    end
  end

  defp expect_ok(:ok, _), do: :ok
  defp expect_ok(other, what), do: die("#{what} returned #{inspect(other)}")

  # The telemetry handler: counts and discards what pga sends it.
  defp sink(n) do
    receive do
      {:pga_bench_count, from} ->
        send(from, {:pga_bench_count, n})
        sink(n)

      :pga_bench_reset ->
        sink(0)

      _ ->
        sink(n + 1)
    end
  end

  defp sink_reset(sink), do: send(sink, :pga_bench_reset)

  # The events the sink got during a run: 2 per call (start, stop) on the
  # telemetry paths, 0 elsewhere. Waits a little for stragglers, since the
  # events travel apart from the replies.
  defp sink_count(sink, key, calls) do
    expected = if key in [:telemetry, :limit], do: 2 * calls, else: 0
    sink_count(sink, expected, 20, nil)
  end

  defp sink_count(_sink, _expected, 0, n), do: n

  defp sink_count(sink, expected, tries, _) do
    send(sink, {:pga_bench_count, self()})

    n =
      receive do
        {:pga_bench_count, n} -> n
      end

    if n >= expected, do: n, else: (Process.sleep(50); sink_count(sink, expected, tries - 1, n))
  end

  # ---- setup ----

  # ---- output ----

  defp print_header(beam, pga, seconds, warmup) do
    IO.puts("")
    IO.puts("pga bench: gateway, Executor.execute_params!/1 against a direct " <>
              ":erpc.call of #{inspect(@arg)}")

    IO.puts(
      "  #{fmt_secs(seconds)} s per run after #{fmt_secs(warmup)} s warm-up; " <>
        "OTP #{:erlang.system_info(:otp_release)}, Elixir #{System.version()}, " <>
        "#{:erlang.system_info(:logical_processors_available)} CPUs"
    )

    IO.puts("  direct (baseline)  #{beam}  :pga_bench_echo.echo/1")
    IO.puts("  BEAM forward       #{beam}  :pga_bench_echo.forward/2 -> #{pga}  " <>
              ":pga_node.echo/1")
    IO.puts("  gateway            #{pga}  Executor.execute_params!/1 -> " <>
              "#{beam}  :pga_bench_echo.echo/1")
    IO.puts("  + telemetry        and Telemetry.attach_executor/2 to a pid on " <>
              "#{node()} (2 events a request)")
    IO.puts("  + global limit     and set_global_limits(#{inspect(@high_limit)})")
    IO.puts("")

    IO.puts(
      "callers  " <>
        String.pad_trailing("path", 19) <>
        "| " <> cols(["req/s", "p50 us", "p99 us"]) <> " | " <>
        String.pad_trailing("ratio", 18) <> " req/s    p50"
    )

    IO.puts(String.duplicate("-", 28) <> "+" <> String.duplicate("-", 30) <>
              "+" <> String.duplicate("-", 33))
  end

  defp print_rows(c, results) do
    for {{key, label, rlabel, denom}, i} <- Enum.with_index(@paths) do
      r = results[key]
      lead = if i == 0, do: String.pad_leading(Integer.to_string(c), 7), else: String.duplicate(" ", 7)

      ratio =
        if denom do
          d = results[denom]
          String.pad_trailing(rlabel, 18) <>
            String.pad_leading(ratio(r.rps, d.rps), 6) <> " " <>
            String.pad_leading(ratio(r.p50, d.p50), 6)
        else
          ""
        end

      IO.puts(lead <> "  " <> String.pad_trailing(label, 19) <> "| " <> stats(r) <> " | " <> ratio)
    end
  end

  defp print_footer(rows) do
    IO.puts("")
    IO.puts("ratios: req/s < 1 means the path serves fewer calls per second " <>
              "than the one it is")
    IO.puts("        compared with; p50 > 1 means it answers slower (same run, " <>
              "same argument, same callers).")

    errs =
      for {c, rs} <- rows, {key, _, _, _} <- @paths, rs[key].errors > 0,
          do: {c, key, rs[key].errors}

    if errs != [] do
      IO.puts("failed calls (callers, path, count): #{inspect(errs)}")
    end

    lost =
      for {c, rs} <- rows, key <- [:telemetry, :limit], rs[key].events != 2 * rs[key].calls,
          do: {c, key, 2 * rs[key].calls, rs[key].events}

    if lost != [] do
      IO.puts("telemetry events expected /= received (callers, path, expected, " <>
                "received): #{inspect(lost)}")
    end
  end

  defp stats(r) do
    cols([Integer.to_string(round(r.rps)), fmt_us(r.p50), fmt_us(r.p99)])
  end

  defp cols([a, b, c]) do
    String.pad_leading(a, 10) <> String.pad_leading(b, 9) <> String.pad_leading(c, 9)
  end

  defp write_csv(path, rows) do
    lines =
      for {c, rs} <- rows, {key, _, _, _} <- @paths do
        r = rs[key]
        Enum.join([key, c, round(r.rps), fmt_us(r.p50), fmt_us(r.p99), r.errors, r.events], ",")
      end

    header = "path,callers,rps,p50_us,p99_us,errors,telemetry_events"
    File.write!(path, Enum.join([header | lines], "\n") <> "\n")
  end
end

PgaGatewayBench.main()
