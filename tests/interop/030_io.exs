# 030_io: pga_node.print/1 writes to the caller's group leader, before the
# call returns, for every entry point that carries a group leader (spec §14).
Code.require_file("lib/check.exs", __DIR__)

defmodule Scenario do
  require Check

  # Runs fun with a fresh capturing group leader; returns {result, text}.
  def with_gl(fun, delay \\ 0) do
    gl = Check.capture_gl(delay)
    Process.group_leader(self(), gl)
    r = fun.(gl)
    {r, Check.captured(gl)}
  end

  # For casts: waits (bounded) until the captured text is non-empty.
  def cast_text(fun) do
    gl = Check.capture_gl()
    Process.group_leader(self(), gl)
    r = fun.(gl)
    Check.wait_until(fn -> Check.captured(gl) != "" end, 3_000)
    {r, Check.captured(gl)}
  end

  def run do
    gw = Check.gw()
    text = "héllo\n"

    Check.eq(":rpc.call print: text captured by the caller's group leader", {:ok, text}, fn ->
      with_gl(fn _ -> :rpc.call(gw, :pga_node, :print, [text]) end)
    end)
    Check.eq(":erpc.call print: text captured by the caller's group leader", {:ok, text}, fn ->
      with_gl(fn _ -> :erpc.call(gw, :pga_node, :print, [text]) end)
    end)
    Check.eq(":rpc.block_call print uses the caller's group leader", {:ok, text}, fn ->
      with_gl(fn _ -> :rpc.block_call(gw, :pga_node, :print, [text]) end)
    end)
    Check.eq("old rex message print uses the group leader it names", {{:rex, :ok}, text}, fn ->
      with_gl(fn gl ->
        send({:rex, gw}, {self(), {:call, :pga_node, :print, [text], gl}})
        receive do
          {:rex, _} = m -> m
        after
          Check.tmo(4_000) -> :no_reply
        end
      end)
    end)

    Check.eq("UTF-8 text beyond Latin-1 arrives intact", {:ok, "✓ 日本語 😀\n"}, fn ->
      with_gl(fn _ -> :erpc.call(gw, :pga_node, :print, ["✓ 日本語 😀\n"]) end)
    end)
    long = String.duplicate("0123456789abcdef", 8192) <> "\n"
    Check.eq("a 128 KB print arrives whole", {:ok, long}, fn ->
      with_gl(fn _ -> :erpc.call(gw, :pga_node, :print, [long]) end)
    end)
    Check.eq("empty print -> :ok, nothing captured", {:ok, ""}, fn ->
      with_gl(fn _ -> :erpc.call(gw, :pga_node, :print, [""]) end)
    end)
    Check.eq("20 sequential prints arrive in order", {List.duplicate(:ok, 20), Enum.map_join(1..20, &"line #{&1}\n")}, fn ->
      with_gl(fn _ ->
        for i <- 1..20, do: :erpc.call(gw, :pga_node, :print, ["line #{i}\n"])
      end)
    end)

    # The job finishes only after the io_reply (spec §14): with a group
    # leader that answers after 500 ms, the call cannot return earlier.
    Check.match("the call returns only after the group leader's io_reply",
      {ms, {:ok, "slow\n"}} when ms >= 450,
      Check.timed(fn -> with_gl(fn _ -> :erpc.call(gw, :pga_node, :print, ["slow\n"]) end, 500) end))

    Check.eq("10 concurrent callers each see only their own text", Enum.map(1..10, &{:ok, "caller #{&1}\n"}), fn ->
      1..10
      |> Enum.map(fn i ->
        Task.async(fn -> with_gl(fn _ -> :erpc.call(gw, :pga_node, :print, ["caller #{i}\n"]) end) end)
      end)
      |> Enum.map(&Task.await(&1, Check.tmo(5_000)))
    end)

    Check.eq(":rpc.cast print reaches the caller's group leader", {true, "cast\n"}, fn ->
      cast_text(fn _ -> :rpc.cast(gw, :pga_node, :print, ["cast\n"]) end)
    end)
    Check.eq(":erpc.cast print reaches the caller's group leader", {:ok, "ecast\n"}, fn ->
      cast_text(fn _ -> :erpc.cast(gw, :pga_node, :print, ["ecast\n"]) end)
    end)
    Check.eq("gen_server cast {:cast, m, f, a, gl} to rex prints to gl", {:ok, "rexcast\n"}, fn ->
      cast_text(fn gl -> GenServer.cast({:rex, gw}, {:cast, :pga_node, :print, ["rexcast\n"], gl}) end)
    end)

    Check.finish()
  end
end

Scenario.run()
