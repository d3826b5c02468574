# What both benchmark drivers (driver.exs, gateway.exs) share: reading the
# environment, connecting, failing, percentiles and number formatting, so
# the two report figures measured and printed the same way.
defmodule PgaBench.Common do
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
end
