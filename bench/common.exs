# What the benchmark drivers (driver.exs, gateway.exs, gateway_cpu.exs)
# share: reading the environment, connecting, failing, the echo call, the
# timed runs, percentiles and number formatting, so they report figures
# measured and printed the same way.
defmodule PgaBench.Common do
  @echo_payload %{"hello" => "world", "n" => 42}

  # The echo every driver measures: true when the payload came back.
  def echo_payload, do: @echo_payload

  def echo_call(node, mod, timeout) do
    :erpc.call(node, mod, :echo, [@echo_payload], timeout) == @echo_payload
  end

  def connect(node, tries) do
    cond do
      Node.connect(node) == true -> :ok
      tries <= 1 -> die("cannot connect to #{node}")
      true -> Process.sleep(200) && connect(node, tries - 1)
    end
  end

  def env_node(var) do
    case System.get_env(var) do
      v when v in [nil, ""] -> nil
      name -> String.to_atom(name)
    end
  end

  def env_number(var, default) do
    case System.get_env(var) do
      v when v in [nil, ""] ->
        default

      s ->
        case Float.parse(s) do
          {x, ""} when x > 0 -> x
          _ -> die("#{var} must be a positive number, not '#{s}'")
        end
    end
  end

  def env_concurrency(var, default) do
    case System.get_env(var) do
      v when v in [nil, ""] ->
        default

      s ->
        for part <- String.split(s, [",", " "], trim: true) do
          case Integer.parse(part) do
            {n, ""} when n > 0 -> n
            _ -> die("#{var}: bad caller count '#{part}'")
          end
        end
    end
  end

  def die(msg) do
    IO.puts(:stderr, "pga-bench: " <> msg)
    System.halt(2)
  end

  # Nearest rank on a sorted tuple.
  def percentile(sorted, n, p) do
    rank = max(1, min(n, ceil(p * n / 100)))
    elem(sorted, rank - 1)
  end

  def fmt_us(nil), do: "-"
  def fmt_us(x), do: :erlang.float_to_binary(x / 1, decimals: 1)

  def fmt_secs(x) when x == trunc(x), do: Integer.to_string(trunc(x))
  def fmt_secs(x), do: :erlang.float_to_binary(x / 1, decimals: 2)

  def ratio(_, nil), do: "-"
  def ratio(nil, _), do: "-"
  def ratio(_, b) when b == 0, do: "-"
  def ratio(a, b), do: :erlang.float_to_binary(a / b, decimals: 2) <> "x"

  # One run: `callers` processes call fun (true = a good answer, anything
  # else counts as a failure) in a loop until the deadline.
  # Throughput is the completed calls over the wall time from the start
  # signal to the last caller's end; latencies are per call.
  def measure(key, fun, callers, seconds) do
    native = :erlang.convert_time_unit(1, :second, :native)
    parent = self()

    pids =
      for _ <- 1..callers do
        spawn_link(fn ->
          receive do
            {:go, deadline} ->
              send(parent, {:done, self(), loop(fun, deadline, [], 0, nil)})
          end
        end)
      end

    t0 = :erlang.monotonic_time()
    deadline = t0 + round(seconds * native)
    for p <- pids, do: send(p, {:go, deadline})

    parts =
      for p <- pids do
        receive do
          {:done, ^p, part} -> part
        end
      end

    wall = :erlang.monotonic_time() - t0
    lats = parts |> Enum.map(&elem(&1, 0)) |> :lists.append() |> :lists.sort()
    n = length(lats)
    errors = parts |> Enum.map(&elem(&1, 1)) |> Enum.sum()
    first_error = Enum.find_value(parts, &elem(&1, 2))

    if first_error do
      IO.puts(:stderr, "pga-bench: #{key}: #{errors} failed calls; first: " <>
                "#{inspect(first_error)}")
    end

    sorted = List.to_tuple(lats)
    us = fn x -> x * 1_000_000 / native end

    %{
      calls: n,
      errors: errors,
      rps: if(wall > 0, do: n * native / wall, else: 0.0),
      p50: if(n > 0, do: us.(percentile(sorted, n, 50)), else: nil),
      p99: if(n > 0, do: us.(percentile(sorted, n, 99)), else: nil)
    }
  end

  defp loop(fun, deadline, lats, errors, first_error) do
    t0 = :erlang.monotonic_time()

    if t0 >= deadline do
      {lats, errors, first_error}
    else
      result = safe(fun)
      t1 = :erlang.monotonic_time()

      if result == true do
        loop(fun, deadline, [t1 - t0 | lats], errors, first_error)
      else
        loop(fun, deadline, lats, errors + 1, first_error || result)
      end
    end
  end

  def safe(fun) do
    fun.()
  catch
    kind, reason -> {:pga_bench_error, kind, reason}
  end
end
