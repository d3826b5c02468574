# 040_outgoing: pga_node.rpc/4,5 makes calls from the gateway to other
# nodes: results, rpc error shapes, timeouts and peer death (spec §13).
Code.require_file("lib/check.exs", __DIR__)

defmodule Scenario do
  require Check

  def run do
    gw = Check.gw()
    me = node()

    # Two extra nodes, started in parallel: `victim` (killed with SIGKILL in
    # the middle of a call) and `stranger` (another cookie).
    victim_setup = """
    defmodule PgaPeer do
      def wait(pid) do
        send(pid, {:in_call, node()})
        Process.sleep(:infinity)
      end
    end
    """

    opening = [
      victim: Check.open_node("victim", "Process.sleep(:infinity)", setup: victim_setup),
      stranger: Check.open_node("stranger", "Process.sleep(:infinity)", cookie: "another_cookie")
    ]

    peers =
      for {k, o} <- opening, into: %{} do
        try do
          {k, Check.await_node(o)}
        rescue
          e -> {k, {:error, Exception.message(e)}}
        end
      end

    rpc = fn args -> :erpc.call(gw, :pga_node, :rpc, args, Check.tmo(10_000)) end

    Check.eq("rpc back to the caller: :erlang.node", me, fn -> rpc.([me, :erlang, :node, []]) end)
    Check.eq("rpc back: :lists.reverse([1, 2, 3])", [3, 2, 1], fn ->
      rpc.([me, :lists, :reverse, [[1, 2, 3]]])
    end)
    Check.eq("rpc/5 back with a timeout", {:a, "b", 1.5}, fn ->
      rpc.([me, :erlang, :list_to_tuple, [[:a, "b", 1.5]], 5_000])
    end)
    Check.eq("rpc back returns every sample term unchanged", [], fn ->
      for {label, t} <- Check.terms(),
          rpc.([me, Function, :identity, [t]]) !== t,
          do: label
    end, timeout: 30_000)
    Check.eq("rpc back: the called function runs here (message to us)", {:hello, :hello}, fn ->
      r = rpc.([me, :erlang, :send, [self(), :hello]])
      receive do
        :hello -> {r, :hello}
      after
        Check.tmo(2_000) -> {r, :no_message}
      end
    end)
    Check.eq("rpc back: throw gives the thrown value (rpc semantics)", :ball, fn ->
      rpc.([me, :erlang, :throw, [:ball]])
    end)
    Check.match("rpc back: error -> {:badrpc, {:EXIT, {:boom, stack}}}",
      {:badrpc, {:EXIT, {:boom, stack}}} when is_list(stack),
      rpc.([me, :erlang, :error, [:boom]]))
    Check.eq("rpc back: exit -> {:badrpc, {:EXIT, :bye}}", {:badrpc, {:EXIT, :bye}}, fn ->
      rpc.([me, :erlang, :exit, [:bye]])
    end)
    Check.eq("rpc back: undef -> exact {:badrpc, {:EXIT, {:undef, ...}}}",
      {:badrpc, {:EXIT, {:undef, [{:pga_nosuch_mod, :f, [1], []}]}}},
      fn -> rpc.([me, :pga_nosuch_mod, :f, [1]]) end)

    Check.match("rpc/5 timeout -> {:badrpc, :timeout} near the deadline",
      {ms, {:badrpc, :timeout}} when ms >= 250 and ms < 2_500,
      Check.timed(fn -> rpc.([me, :timer, :sleep, [3_000], 300]) end))

    Check.eq("rpc to a node that does not exist -> {:badrpc, :nodedown}", {:badrpc, :nodedown}, fn ->
      rpc.([:"pga_nosuch_node@127.0.0.1", :erlang, :node, []])
    end)

    case peers.stranger do
      {_port, _os, stranger} ->
        Check.eq("rpc to a node with another cookie -> {:badrpc, :nodedown}", {:badrpc, :nodedown}, fn ->
          rpc.([stranger, :erlang, :node, []])
        end)

      {:error, why} ->
        Check.run("rpc to a node with another cookie -> {:badrpc, :nodedown}", fn ->
          {:fail, "peer did not start", why}
        end)
    end

    Check.eq("20 concurrent outgoing calls get their own results", Enum.to_list(1..20), fn ->
      1..20
      |> Enum.map(fn i -> Task.async(fn -> rpc.([me, :erlang, :abs, [-i]]) end) end)
      |> Enum.map(&Task.await(&1, Check.tmo(10_000)))
    end)

    Check.match("an incoming call is served while an outgoing call waits",
      {ms, {:quick}, :ok} when ms < 800,
      (
        slow = Task.async(fn -> rpc.([me, :timer, :sleep, [1_000]]) end)
        Process.sleep(100)
        {ms, v} = Check.timed(fn -> :erpc.call(gw, :pga_node, :echo, [{:quick}]) end)
        {ms, v, Task.await(slow, Check.tmo(5_000))}
      ))

    Check.eq(":erpc.cast of pga_node.rpc reaches us", :from_cast, fn ->
      :ok = :erpc.cast(gw, :pga_node, :rpc, [me, :erlang, :send, [self(), :from_cast]])
      receive do
        :from_cast -> :from_cast
      after
        Check.tmo(3_000) -> :no_message
      end
    end)

    # The peer dies (SIGKILL) while the gateway waits on it: the call must
    # end with nodedown, not hang (pga_node.rpc/4 has no timeout).
    case peers.victim do
      {_port, os, victim} ->
        Check.match("peer killed mid-call -> {:badrpc, :nodedown} within 5 s",
          {:nodedown_in, ms, {:badrpc, :nodedown}} when ms < 5_000,
          (
            waiter = self()
            caller = Task.async(fn -> rpc.([victim, PgaPeer, :wait, [waiter]]) end)
            receive do
              {:in_call, ^victim} -> :ok
            after
              Check.tmo(5_000) -> throw(:peer_never_got_the_call)
            end
            {ms, r} = Check.timed(fn ->
              System.cmd("kill", ["-KILL", os])
              Task.await(caller, Check.tmo(15_000))
            end)
            {:nodedown_in, ms, r}
          ),
          timeout: 30_000)

      {:error, why} ->
        Check.run("peer killed mid-call -> {:badrpc, :nodedown} within 5 s", fn ->
          {:fail, "peer did not start", why}
        end)
    end

    Check.eq("the gateway still serves incoming and outgoing calls", {:pong, me}, fn ->
      {Node.ping(gw), rpc.([me, :erlang, :node, []])}
    end)

    Check.finish()
  end
end

Scenario.run()
