# Shared helpers for the interop scenarios: bounded checks, TAP-style output.
#
# A scenario is an Elixir script run by tests/interop/run.sh on a fresh
# distributed node. It calls Check.* for every check and Check.finish() at the
# end. Each check runs in its own process with a timeout, so a gateway that
# never answers fails that check instead of hanging the run. Output lines:
#
#   ok - NAME
#   not ok - NAME
#   #   detail lines (indented diagnostics)
#   done N            (last line: N checks ran; run.sh treats its absence
#                      as a crashed scenario)
#
# run.sh numbers the lines and prefixes the scenario name.
#
# Environment (set by run.sh):
#   PGA_GW            gateway node name (gw@127.0.0.1)
#   PGA_COOKIE        cluster cookie
#   PGA_ELIXIR        elixir executable, for scenarios that start extra nodes
#   PGA_ERL_CALL      erl_call executable (may be empty)
#   PGA_RUN_DIR       per-run scratch directory
#   PGA_NAME_PREFIX   unique prefix for extra node names
#   PGA_TMO_SCALE     multiplier for every timeout (slow wrappers: valgrind)
#   PGA_GW_OSPID      OS pid of the gateway process (for 900_shutdown)
#   PGA_NODE_HOST     host part of node names (127.0.0.1; this host's short
#                     name in a TLS run, PGA_INTEROP_TLS=1)
#   PGA_NAME_FLAG     --name, or --sname in a TLS run
#   PGA_GW_TLS_ARGS   a TLS run's pga-node arguments (--proto-dist inet_tls
#                     --ssl-dist-optfile FILE), for private gateways

defmodule Check do
  @moduledoc false

  # ---- configuration -----------------------------------------------------

  def gw, do: String.to_atom(env!("PGA_GW"))
  def cookie, do: env!("PGA_COOKIE")
  def run_dir, do: env!("PGA_RUN_DIR")
  def elixir, do: System.get_env("PGA_ELIXIR") || System.find_executable("elixir")

  def env!(var) do
    case System.get_env(var) do
      nil -> raise "#{var} is not set (run the scenarios through tests/interop/run.sh)"
      v -> v
    end
  end

  def scale do
    case Float.parse(System.get_env("PGA_TMO_SCALE") || "1") do
      {f, _} when f > 0 -> f
      _ -> 1.0
    end
  end

  @doc "A timeout in ms, scaled for slow gateways (valgrind)."
  def tmo(ms), do: round(ms * scale())

  @doc "A fresh node name on this run's host, unique across runs and calls."
  def node_name(tag) do
    prefix = System.get_env("PGA_NAME_PREFIX") || "pgat#{System.pid()}"
    :"#{prefix}_#{tag}_#{:erlang.unique_integer([:positive])}@#{node_host()}"
  end

  @doc "Arguments a private pga-node needs to join this run (TLS runs)."
  def gw_tls_args, do: String.split(System.get_env("PGA_GW_TLS_ARGS") || "", " ", trim: true)

  @doc "True in a TLS run (PGA_INTEROP_TLS=1)."
  def tls_run?, do: gw_tls_args() != []

  @doc "The host part of node names (127.0.0.1, or this host in a TLS run)."
  def node_host, do: System.get_env("PGA_NODE_HOST") || "127.0.0.1"

  @doc "elixir's name option for node_name/1 names: --name or --sname."
  def name_flag, do: System.get_env("PGA_NAME_FLAG") || "--name"

  @doc "The node name as elixir's name_flag/0 option wants it."
  def name_arg(name) do
    s = Atom.to_string(name)
    if name_flag() == "--sname", do: s |> String.split("@") |> hd(), else: s
  end

  # ---- running checks ----------------------------------------------------

  @doc """
  Runs `fun` in a fresh process, at most `timeout` ms (scaled). `fun` returns
  :ok or true for a pass; anything else (false, {:fail, why}, {:fail, why,
  got}) fails the check, and so does an exception, exit or timeout.
  """
  def run(name, fun, opts \\ []) do
    timeout = tmo(Keyword.get(opts, :timeout, 5_000))
    parent = self()
    tag = make_ref()

    {pid, mref} =
      spawn_monitor(fun_wrapper(parent, tag, fun))

    result =
      receive do
        {^tag, r} ->
          Process.demonitor(mref, [:flush])
          r

        {:DOWN, ^mref, :process, ^pid, reason} ->
          {:fail, "check process died", reason}
      after
        timeout ->
          Process.exit(pid, :kill)
          Process.demonitor(mref, [:flush])
          {:fail, "timed out after #{timeout} ms"}
      end

    report(name, result)
  end

  defp fun_wrapper(parent, tag, fun) do
    fn ->
      r =
        try do
          fun.()
        catch
          kind, reason ->
            {:fail, "raised #{inspect(kind)}", {reason, __STACKTRACE__}}
        end

      send(parent, {tag, r})
    end
  end

  defp report(name, result) do
    n = Process.get(:check_count, 0) + 1
    Process.put(:check_count, n)

    case result do
      r when r in [:ok, true] ->
        IO.puts("ok - #{name}")
        :ok

      other ->
        Process.put(:check_failed, Process.get(:check_failed, 0) + 1)
        IO.puts("not ok - #{name}")

        case other do
          {:fail, why} ->
            diag(why)

          {:fail, why, got} ->
            diag(why)
            diag("got: " <> show(got))

          x ->
            diag("got: " <> show(x))
        end

        :error
    end
  end

  @doc "A diagnostic line (ignored by the counters)."
  def diag(text) do
    text
    |> to_string()
    |> String.split("\n")
    |> Enum.each(&IO.puts("#   " <> &1))
  end

  @doc "inspect/2 with limits, so an 8 MB term cannot flood the log."
  def show(term), do: inspect(term, limit: 30, printable_limit: 200, width: 100)

  @doc "Passes when `fun.()` returns exactly (===) `expected`."
  def eq(name, expected, fun, opts \\ []) do
    run(
      name,
      fn ->
        got = fun.()

        if got === expected,
          do: :ok,
          else: {:fail, "expected: " <> show(expected), got}
      end,
      opts
    )
  end

  @doc """
  Passes when `expr` (evaluated inside the check process) matches `pattern`
  (guards allowed). Pinned variables work as in `case`.
  """
  defmacro match(name, pattern, expr, opts \\ []) do
    pat_text = Macro.to_string(pattern)

    quote do
      Check.run(
        unquote(name),
        fn ->
          case unquote(expr) do
            unquote(pattern) -> :ok
            other -> {:fail, "expected to match: " <> unquote(pat_text), other}
          end
        end,
        unquote(opts)
      )
    end
  end

  @doc """
  Evaluates `expr` and returns {:returned, value} or {kind, reason} for a
  raise/throw/exit, so exception shapes can be matched exactly.
  """
  defmacro catching(expr) do
    quote do
      try do
        {:returned, unquote(expr)}
      catch
        kind, reason -> {kind, reason}
      end
    end
  end

  @doc "Runs fun, returns {elapsed_ms, value}."
  def timed(fun) do
    t0 = System.monotonic_time(:millisecond)
    v = fun.()
    {System.monotonic_time(:millisecond) - t0, v}
  end

  @doc "Polls `fun` every 50 ms until it returns true or `ms` (scaled) pass."
  def wait_until(fun, ms) do
    deadline = System.monotonic_time(:millisecond) + tmo(ms)
    wait_loop(fun, deadline)
  end

  defp wait_loop(fun, deadline) do
    cond do
      fun.() ->
        true

      System.monotonic_time(:millisecond) > deadline ->
        false

      true ->
        Process.sleep(50)
        wait_loop(fun, deadline)
    end
  end

  @doc """
  A group leader that records every put_chars request and answers ok,
  optionally after `delay_ms` (to show a caller waits for io_reply).
  Returns its pid; `captured(pid)` returns the text so far (a binary).
  """
  def capture_gl(delay_ms \\ 0) do
    spawn(fn -> capture_loop([], delay_ms) end)
  end

  def captured(gl) do
    ref = make_ref()
    send(gl, {:captured, self(), ref})

    receive do
      {^ref, text} -> text
    after
      tmo(2_000) -> :no_answer
    end
  end

  defp capture_loop(acc, delay) do
    receive do
      {:io_request, from, reply_as, req} ->
        {reply, acc} = capture_io(req, acc)
        if delay > 0, do: Process.sleep(delay)
        send(from, {:io_reply, reply_as, reply})
        capture_loop(acc, delay)

      {:captured, from, ref} ->
        send(from, {ref, IO.iodata_to_binary(Enum.reverse(acc))})
        capture_loop(acc, delay)

      :stop ->
        :ok

      _ ->
        capture_loop(acc, delay)
    end
  end

  defp capture_io({:put_chars, enc, chars}, acc), do: {:ok, [to_utf8(enc, chars) | acc]}
  defp capture_io({:put_chars, chars}, acc), do: {:ok, [to_utf8(:latin1, chars) | acc]}

  defp capture_io({:put_chars, enc, m, f, a}, acc),
    do: {:ok, [to_utf8(enc, apply(m, f, a)) | acc]}

  defp capture_io({:requests, reqs}, acc) do
    Enum.reduce(reqs, {:ok, acc}, fn r, {_, a} -> capture_io(r, a) end)
  end

  defp capture_io(_other, acc), do: {{:error, :request}, acc}

  defp to_utf8(:unicode, chars), do: :unicode.characters_to_binary(chars)
  defp to_utf8(_latin1, chars), do: :unicode.characters_to_binary(chars, :latin1)

  # ---- extra nodes ---------------------------------------------------------

  @doc """
  Starts another elixir node running `code` (a string) and waits for it to
  print `peer-ready`. Returns {port, os_pid, node}. The node halts when our
  end of its stdin closes (this node exits), and its OS pid is recorded in
  $PGA_RUN_DIR/pids so run.sh can kill leftovers.
  `opts[:setup]` (code) runs before the ready line, `code` after it.
  Options: :setup, :cookie, :wait (ms for the ready line), :hidden.
  """
  def start_node(tag, code, opts \\ []) do
    tag |> open_node(code, opts) |> await_node(opts)
  end

  @doc "The first half of start_node/3: starts the node, does not wait."
  def open_node(tag, code, opts \\ []) do
    name = node_name(tag)
    c = Keyword.get(opts, :cookie, cookie())
    pids = Path.join(run_dir(), "pids")

    boot = """
    File.write!(#{inspect(pids)}, System.pid() <> "\\n", [:append])
    spawn(fn -> IO.read(:stdio, :line); System.halt(0) end)
    #{Keyword.get(opts, :setup, "")}
    IO.puts("peer-ready " <> System.pid())
    """

    args =
      [name_flag(), name_arg(name), "--cookie", c] ++
        if(Keyword.get(opts, :hidden, false), do: ["--hidden"], else: []) ++
        ["-e", boot <> code]

    port =
      Port.open({:spawn_executable, elixir()}, [
        :binary,
        :exit_status,
        :stderr_to_stdout,
        {:line, 4096},
        args: args,
        env: Keyword.get(opts, :env, [])
      ])

    {port, name}
  end

  @doc "The second half of start_node/3: waits for the ready line."
  def await_node({port, name}, opts \\ []) do
    wait = tmo(Keyword.get(opts, :wait, 20_000))

    case await_line(port, "peer-ready ", wait, []) do
      {:ok, ospid, _} -> {port, ospid, name}
      {:error, why, out} -> raise "peer #{name} did not start: #{inspect(why)} #{inspect(out)}"
    end
  end

  @doc "Collects a port's output lines until it exits; {status, lines}."
  def port_output(port, ms) do
    collect(port, System.monotonic_time(:millisecond) + tmo(ms), [])
  end

  defp collect(port, deadline, acc) do
    left = max(deadline - System.monotonic_time(:millisecond), 0)

    receive do
      {^port, {:data, {_, line}}} -> collect(port, deadline, [line | acc])
      {^port, {:exit_status, st}} -> {st, Enum.reverse(acc)}
    after
      left -> {:timeout, Enum.reverse(acc)}
    end
  end

  defp await_line(port, prefix, wait, acc) do
    receive do
      {^port, {:data, {_, line}}} ->
        if String.starts_with?(line, prefix) do
          {:ok, String.trim(String.replace_prefix(line, prefix, "")), Enum.reverse(acc)}
        else
          await_line(port, prefix, wait, [line | acc])
        end

      {^port, {:exit_status, st}} ->
        {:error, {:exit_status, st}, Enum.reverse(acc)}
    after
      wait -> {:error, :timeout, Enum.reverse(acc)}
    end
  end

  # ---- sample terms ----------------------------------------------------------

  @doc """
  {label, term} pairs covering every external term format a peer may send
  (spec §5, §7): each must come back from an echo exactly (===).
  """
  def terms do
    other = "other@some.host"
    n = byte_size(other)

    foreign_pid =
      :erlang.binary_to_term(
        <<131, 88, 119, n, other::binary, 123::32, 456::32, 0xDEADBEEF::32>>
      )

    # 5-word reference (peers may send up to 5, spec §7)
    foreign_ref5 =
      :erlang.binary_to_term(
        <<131, 90, 5::16, 119, n, other::binary, 0xDEADBEEF::32, 1::32, 2::32, 3::32, 4::32,
          5::32>>
      )

    # V4_PORT_EXT: a port id wider than 32 bits (V4_NC, spec §4)
    foreign_port64 =
      :erlang.binary_to_term(
        <<131, 120, 119, n, other::binary, 1_099_511_627_776::64, 0xDEADBEEF::32>>
      )

    deep_tuple = Enum.reduce(1..1000, :leaf, fn i, acc -> {i, acc} end)
    deep_list = Enum.reduce(1..1000, [], fn _, acc -> [acc] end)
    deep_map = Enum.reduce(1..200, %{}, fn i, acc -> %{i => acc} end)
    me = self()

    [
      {"atom", :hello},
      {"atoms true/false/nil", [true, false, nil]},
      {"empty atom", :""},
      {"UTF-8 atom", :"héllo_日本語"},
      {"255-char ASCII atom", String.to_atom(String.duplicate("a", 255))},
      {"255-char UTF-8 atom", String.to_atom(String.duplicate("é", 255))},
      {"small integers", [0, 1, 255, -1]},
      {"integers around 2^27, 2^31, 2^32",
       [256, 134_217_727, -134_217_728, 2_147_483_647, -2_147_483_648, 2_147_483_648,
        4_294_967_296]},
      {"integers around 2^63, 2^64",
       [
         9_223_372_036_854_775_807,
         -9_223_372_036_854_775_808,
         9_223_372_036_854_775_808,
         18_446_744_073_709_551_616,
         -18_446_744_073_709_551_616
       ]},
      {"bignum 2^100", Integer.pow(2, 100)},
      {"bignum -2^100", -Integer.pow(2, 100)},
      {"LARGE_BIG bignum 2^2100", Integer.pow(2, 2100) + 12345},
      {"LARGE_BIG bignum -(2^2100)", -Integer.pow(2, 2100)},
      {"floats", [0.0, 1.5, -2.25, 3.141592653589793, 1.0e300, -1.0e-300]},
      {"float extremes", [5.0e-324, 1.7976931348623157e308, 2.2250738585072014e-308]},
      {"empty binary", ""},
      {"binary", "hello world"},
      {"binary with NULs and high bytes", <<0, 1, 2, 255, 254, 0>>},
      {"UTF-8 binary", "héllo wörld ✓ 日本語"},
      {"64 KB binary", :binary.copy(<<1, 2, 3, 4>>, 16_384)},
      {"bitstring 3 bits", <<5::3>>},
      {"bitstring 17 bits", <<255, 1::1, 0x7F::8>>},
      {"bitstrings in a list", [<<1::1>>, <<1::7>>, <<1, 2::4>>]},
      {"pid (self)", self()},
      {"pid of a third node (creation 0xDEADBEEF)", foreign_pid},
      {"reference", make_ref()},
      {"monitor reference", :erlang.monitor(:process, self())},
      {"alias reference", :erlang.alias()},
      {"5-word reference of a third node", foreign_ref5},
      {"port", hd(Port.list())},
      {"64-bit port id of a third node", foreign_port64},
      {"export fun", &:lists.reverse/1},
      {"closure with a captured pid", fn x -> {x, me} end},
      {"empty list", []},
      {"[1,2,3] (STRING_EXT)", [1, 2, 3]},
      {"charlist", ~c"hello"},
      {"unicode charlist", ~c"héllo ✓"},
      {"65535 small ints (longest STRING_EXT)", List.duplicate(7, 65_535)},
      {"65536 small ints (LIST_EXT)", List.duplicate(7, 65_536)},
      {"list [256, 1]", [256, 1]},
      {"improper list [1 | 2]", [1 | 2]},
      {"improper list [:a, :b | \"c\"]", [:a, :b | "c"]},
      {"improper list tail a float", [1, 2 | 3.5]},
      {"list of 100000 mixed terms", Enum.map(1..100_000, fn i -> if rem(i, 2) == 0, do: i, else: {i} end)},
      {"empty tuple", {}},
      {"1-tuple", {1}},
      {"tuple", {:ok, "x", 1, 2.0, [3]}},
      {"256-element tuple (LARGE_TUPLE_EXT)", List.to_tuple(Enum.to_list(1..256))},
      {"1000-deep nested tuples", deep_tuple},
      {"1000-deep nested lists", deep_list},
      {"200-deep nested maps", deep_map},
      {"empty map", %{}},
      {"map with mixed keys",
       %{:a => 1, "b" => [2], {3} => %{}, 4.5 => :x, [1, 2] => "l", self() => :pid}},
      {"map with 1000 keys", Map.new(1..1000, fn i -> {i, Integer.to_string(i)} end)},
      {"struct URI", URI.parse("https://user@example.com:8443/p?q=1#f")},
      {"struct DateTime", ~U[2024-02-29 12:34:56.789012Z]},
      {"struct MapSet", MapSet.new([1, :two, "three"])},
      {"struct Range", 1..10//3},
      {"keyword list", [a: 1, b: "two", c: [d: :e]]},
      {"kitchen sink",
       %{
         list: [1, "two", :three, 4.0, {5}, [6 | 7]],
         nested: {[%{"k" => <<1::1>>}], Integer.pow(3, 90), self(), make_ref()},
         text: "ünïcödé"
       }}
    ]
  end

  # ---- end -----------------------------------------------------------------

  @doc "Prints the closing `done N` line and halts (status 0: run.sh counts)."
  def finish do
    IO.puts("done #{Process.get(:check_count, 0)}")
    System.halt(0)
  end
end

# Logger output (including reports a BEAM gateway forwards to the caller's
# node) goes to stderr, so stdout carries only check lines.
Logger.configure_backend(:console, device: :standard_error)
