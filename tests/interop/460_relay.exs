# 460_relay: relay groups on the gateway (ops-plane.md §7; acceptance cases
# 50-58 of §10). Members are forwarder processes on this node and on a
# second Elixir node that is halted mid-way (its members leave through
# DOWN :noconnection). handle_relay runs directly and through the executor
# with a `nodes: :local` FunConfig. Everything created is removed at the end.
Code.require_file("lib/check.exs", __DIR__)
Code.require_file("lib/config_structs.exs", __DIR__)

defmodule Scenario do
  require Check
  alias PhoenixGenApi.Structs.FunConfig

  @relay PhoenixGenApi.Relay
  @server PhoenixGenApi.RelayServer

  # Forwards every message to `to` as {:fwd, self(), msg}.
  @forwarder """
  defmodule Fwd do
    def start(to), do: spawn(fn -> loop(to) end)
    defp loop(to), do: (receive do m -> send(to, {:fwd, self(), m}) end; loop(to))
  end
  """
  Code.eval_string(@forwarder)

  def rpc(f, args), do: :rpc.call(Check.gw(), @relay, f, args, Check.tmo(5000))
  def srv(f, args), do: :rpc.call(Check.gw(), @server, f, args, Check.tmo(5000))

  def fwd, do: apply(Fwd, :start, [self()])
  def remote_fwd(peer), do: :rpc.call(peer, Fwd, :start, [self()])

  def resp(id, over) do
    Map.merge(%{__struct__: PhoenixGenApi.Structs.Response, request_id: id, result: nil,
      success: false, error: nil, async: false, has_more: false, can_retry: false},
      Map.new(over))
  end

  def req(rid, uid, args),
    do: %{__struct__: PhoenixGenApi.Structs.Request, request_id: rid, request_type: "relay_msg",
          service: "relay_svc", user_id: uid, device_id: nil, args: args, user_roles: nil,
          version: nil}

  # The {:relay_message, _} each pid forwarded within ms.
  def relayed(pids, ms \\ 1000) do
    deadline = System.monotonic_time(:millisecond) + Check.tmo(ms)
    Enum.map(pids, fn pid ->
      left = max(deadline - System.monotonic_time(:millisecond), 0)
      receive do
        {:fwd, ^pid, {:relay_message, r}} -> r
      after
        left -> :none
      end
    end)
  end

  def member?(gid, uid) do
    case rpc(:get_group_info, [gid]) do
      {:ok, %{members: m}} -> Map.has_key?(m, uid)
      _ -> false
    end
  end

  # Polls until fun.() is true or ms pass; the elapsed ms, or :timeout.
  def within(ms, fun) do
    t0 = System.monotonic_time(:millisecond)
    deadline = t0 + Check.tmo(ms)
    Stream.repeatedly(fn -> fun.() end)
    |> Enum.reduce_while(nil, fn ok, _ ->
      now = System.monotonic_time(:millisecond)
      cond do
        ok -> {:halt, now - t0}
        now > deadline -> {:halt, :timeout}
        true -> Process.sleep(5); {:cont, nil}
      end
    end)
  end

  def run do
    if System.get_env("PGA_NODE") == "standin" do
      Check.diag("skipped: the BEAM stand-in has no relay")
      Check.finish()
    end

    {_port, _ospid, peer} = Check.start_node("relay_peer", "Process.sleep(:infinity)",
      setup: @forwarder)
    status_and_case_58()
    case_50_create()
    guards()
    case_51_to_53()
    relay_cases(peer)
    case_57_cleanup()
    peer_killed(peer)
    via_executor()
    cleanup()
    Check.finish()
  end

  def status_and_case_58 do
    Check.eq("status before any group", %{status: :ok, group_count: 0, groups: [],
      monitored_memberships: 0}, fn -> srv(:status, []) end)
    [p1, p2] = [fwd(), fwd()]
    :ok = rpc(:create_group, ["g58", :public, "c", p1])
    {:ok, :active} = rpc(:join_group, ["g58", "j", p2])
    Check.eq("58: status after creator + 1 joiner", %{status: :ok, group_count: 1,
      groups: [%{group_id: "g58", group_type: :public, member_count: 2, active_count: 2}],
      monitored_memberships: 1}, fn -> srv(:status, []) end)
    :ok = rpc(:delete_group, ["g58"])
    Check.eq("delete_group keeps the monitor until its DOWN", 1,
      fn -> srv(:status, []).monitored_memberships end)
    Process.exit(p2, :kill)
    Check.match("the DOWN clears it", n when is_integer(n),
      within(1000, fn -> srv(:status, []).monitored_memberships == 0 end))
    Process.exit(p1, :kill)
  end

  def case_50_create do
    p = fwd()
    Check.eq("50: create_group", :ok, fn -> rpc(:create_group, ["group_1", :public, "user_1", p]) end)
    Check.run("50: get_group_info: MapSet roles, DateTime, monitor_ref nil", fn ->
      {:ok, info} = rpc(:get_group_info, ["group_1"])
      %{group_id: "group_1", group_type: :public, members: %{"user_1" => m}} = info
      %{roles: roles, status: :active, joined_at: %DateTime{} = at, monitor_ref: nil} = m
      true = roles == MapSet.new([:admin])
      true = MapSet.member?(roles, :admin)
      true = abs(DateTime.diff(DateTime.utc_now(), at, :second)) < 60
      {_, 6} = at.microsecond
      true = map_size(info) == 3 and map_size(m) == 4
    end)
    Check.eq("50: creating it again", {:error, :already_exists},
      fn -> rpc(:create_group, ["group_1", :private, "x", p]) end)
    Check.eq("Relay.table/0", :phoenix_gen_api_relay_groups, fn -> rpc(:table, []) end)
    :ok = rpc(:delete_group, ["group_1"])
  end

  def guards do
    p = self()
    for {name, f, args} <- [
          {"non-binary group id", :create_group, [:g, :public, "u", p]},
          {"unknown type", :create_group, ["g", :secret, "u", p]},
          {"non-pid", :create_group, ["g", :public, "u", "pid"]},
          {"join with non-binary user", :join_group, ["g", 1, p]},
          {"leave with non-binary group", :leave_group, [nil, "u"]},
          {"accept with a charlist", :accept_member, ["g", 'a', "t"]}
        ] do
      Check.match("Relay guard: #{name} -> function_clause",
        {:badrpc, {:EXIT, {:function_clause, _}}}, rpc(f, args))
    end
    Check.match("RelayServer without guards: storing a bad pid -> badarg",
      {:badrpc, {:EXIT, {:badarg, _}}}, srv(:create_group, ["g", :public, "u", "pid"]))
    Check.eq("RelayServer: a non-binary id is simply not found", {:error, :not_found},
      fn -> srv(:get_group_info, [:nope]) end)
  end

  def case_51_to_53 do
    [a, b, c] = [fwd(), fwd(), fwd()]
    :ok = rpc(:create_group, ["pub", :public, "admin", a])
    :ok = rpc(:create_group, ["priv", :private, "admin", a])
    :ok = rpc(:create_group, ["strict", :strict_private, "admin", a])
    Check.eq("51: public join -> active", {:ok, :active}, fn -> rpc(:join_group, ["pub", "new_user", b]) end)
    Check.run("51: joiner has roles MapSet[:member] and a monitor_ref", fn ->
      {:ok, %{members: %{"new_user" => m}}} = rpc(:get_group_info, ["pub"])
      true = m.roles == MapSet.new([:member]) and is_reference(m.monitor_ref)
    end)
    Check.eq("51: private join -> pending", {:ok, :pending}, fn -> rpc(:join_group, ["priv", "new_user", b]) end)
    Check.eq("51: strict join -> pending", {:ok, :pending}, fn -> rpc(:join_group, ["strict", "new_user", b]) end)
    Check.eq("51: unknown group", {:error, :not_found}, fn -> rpc(:join_group, ["nope", "u", b]) end)
    Check.eq("51: creator joins own group", {:error, :already_member}, fn -> rpc(:join_group, ["pub", "admin", a]) end)
    Check.eq("51: pending joins again", {:error, :already_member}, fn -> rpc(:join_group, ["priv", "new_user", b]) end)

    :ok = rpc(:create_group, ["g_leave2", :public, "admin", a])
    Check.eq("52: leave stranger", {:error, :user_not_in_group}, fn -> rpc(:leave_group, ["g_leave2", "stranger"]) end)
    Check.eq("52: leave unknown group", {:error, :not_found}, fn -> rpc(:leave_group, ["no_group", "u"]) end)
    Check.eq("52: delete unknown group", {:error, :not_found}, fn -> rpc(:delete_group, ["nonexistent_group"]) end)

    {:ok, :pending} = rpc(:join_group, ["strict", "member", c])
    :ok = rpc(:accept_member, ["strict", "admin", "member"])
    Check.eq("53: non-admin active member accepts", {:error, :not_admin},
      fn -> rpc(:accept_member, ["strict", "member", "new_user"]) end)
    Check.eq("53: ghost actor", {:error, :user_not_in_group}, fn -> rpc(:accept_member, ["strict", "ghost", "new_user"]) end)
    Check.eq("53: admin accepts", :ok, fn -> rpc(:accept_member, ["strict", "admin", "new_user"]) end)
    Check.eq("53: accepting an active member", {:error, :user_not_pending},
      fn -> rpc(:accept_member, ["strict", "admin", "new_user"]) end)
    Check.eq("53: mute on public", {:error, :not_strict_private}, fn -> rpc(:mute_member, ["pub", "admin", "new_user"]) end)
    {:ok, :pending} = rpc(:join_group, ["strict", "pend", c])
    Check.eq("53: mute a pending member", {:error, :cannot_mute}, fn -> rpc(:mute_member, ["strict", "admin", "pend"]) end)
    Check.eq("53: non-admin mutes", {:error, :not_admin}, fn -> rpc(:mute_member, ["strict", "member", "new_user"]) end)
    Check.eq("53: unmute an active member", {:error, :not_muted}, fn -> rpc(:unmute_member, ["strict", "admin", "new_user"]) end)
    Check.eq("53: mute then unmute", {:ok, :ok},
      fn -> {rpc(:mute_member, ["strict", "admin", "new_user"]), rpc(:unmute_member, ["strict", "admin", "new_user"])} end)
    for g <- ["pub", "priv", "strict", "g_leave2"], do: :ok = rpc(:delete_group, [g])
    for p <- [a, b, c], do: Process.exit(p, :kill)
  end

  def relay_cases(peer) do
    [a, c] = [fwd(), fwd()]
    b = remote_fwd(peer)
    :ok = rpc(:create_group, ["relay_pub", :public, "user_1", a])
    {:ok, :active} = rpc(:join_group, ["relay_pub", "user_2", b])
    msg = req("req_1", "user_1", %{"group_id" => "relay_pub", "message" => "hello"})
    Check.eq("54: handle_relay answers relayed", resp("req_1", success: true,
      result: %{"status" => "relayed", "recipients_count" => 2}), fn -> rpc(:handle_relay, [msg, nil]) end)
    got = relayed([a, b]) # forwarders report to this process, not the check's
    Check.run("54: both members (local and on another node) receive it", fn ->
      [r1, r2] = got
      %{__struct__: PhoenixGenApi.Structs.Response, request_id: "req_1", success: true, error: nil,
        async: false, has_more: false, can_retry: false,
        result: %{"group_id" => "relay_pub", "from_user_id" => "user_1", "message" => "hello",
                  "timestamp" => ts}} = r1
      true = r1 == r2 and map_size(r1.result) == 4
      true = ts =~ ~r/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/
      {:ok, _, 0} = DateTime.from_iso8601(ts)
      true
    end)

    :ok = rpc(:create_group, ["relay_strict", :strict_private, "admin", a])
    {:ok, :pending} = rpc(:join_group, ["relay_strict", "pend", c])
    {:ok, :pending} = rpc(:join_group, ["relay_strict", "muted", c])
    :ok = rpc(:accept_member, ["relay_strict", "admin", "muted"])
    :ok = rpc(:mute_member, ["relay_strict", "admin", "muted"])
    for {name, uid, gid, text} <- [
          {"pending sender", "pend", "relay_strict", "Pending membership: wait for acceptance"},
          {"muted sender", "muted", "relay_strict", "You are muted and cannot send messages"},
          {"stranger", "stranger", "relay_strict", "Not a member of this group"},
          {"unknown group", "admin", "no_such_group", "Group not found"}
        ] do
      Check.eq("55: #{name}", resp("r55", error: text),
        fn -> rpc(:handle_relay, [req("r55", uid, %{"group_id" => gid, "message" => "m"}), nil]) end)
    end
    Check.eq("55: no group_id", resp("r55", error: "Group not found"),
      fn -> rpc(:handle_relay, [req("r55", "admin", %{}), nil]) end)
    Check.match("handle_relay with a non-map request crashes like the library",
      {:badrpc, {:EXIT, {{:badmap, 1}, _}}}, rpc(:handle_relay, [1, nil]))

    :ok = rpc(:create_group, ["relay_priv", :private, "admin", a])
    {:ok, :pending} = rpc(:join_group, ["relay_priv", "acc", b])
    :ok = rpc(:accept_member, ["relay_priv", "admin", "acc"])
    {:ok, :pending} = rpc(:join_group, ["relay_priv", "pend", c])
    flush()
    Check.eq("56: private relay counts admin + accepted", 2, fn ->
      rpc(:handle_relay, [req("r56", "admin", %{"group_id" => "relay_priv", "message" => "x"}), nil]).result["recipients_count"]
    end)
    got = relayed([a, b, c], 300)
    Check.match("56: the pending member receives nothing",
      [%{request_id: "r56"}, %{request_id: "r56"}, :none], got)
    %{success: true} = rpc(:handle_relay, [req("r57", "admin", %{"group_id" => "relay_strict", "message" => "y"}), nil])
    got = relayed([a, c, c], 500)
    Check.match("the muted member receives, the pending one does not",
      [%{request_id: "r57"}, %{request_id: "r57"}, :none], got)
    Process.put(:relay_pids, {a, b, c})
  end

  def flush do
    receive do
      _ -> flush()
    after
      0 -> :ok
    end
  end

  def case_57_cleanup do
    {a, _, _} = Process.get(:relay_pids)
    [k, n] = [fwd(), spawn(fn -> receive do :stop -> :ok end end)]
    :ok = rpc(:create_group, ["g57", :public, "creator", k])
    {:ok, :active} = rpc(:join_group, ["g57", "killed", k])
    {:ok, :active} = rpc(:join_group, ["g57", "normal", n])
    Process.exit(k, :kill)
    Check.match("57: killed member leaves within 100 ms", t when is_integer(t),
      within(100, fn -> not member?("g57", "killed") end))
    send(n, :stop)
    Check.match("57: normally exiting member leaves within 100 ms", t when is_integer(t),
      within(100, fn -> not member?("g57", "normal") end))
    Check.eq("57: the (dead) creator stays", true, fn -> member?("g57", "creator") end)
    Process.exit(spawn(fn -> Process.sleep(:infinity) end), :kill)
    Check.match("57: killing a pid in no group leaves the relay running", %{status: :ok},
      srv(:status, []))
    Check.eq("57: re-joining after leave works", {:ok, :active},
      fn -> rpc(:join_group, ["g57", "back", a]) end)
    :ok = rpc(:delete_group, ["g57"])
  end

  def peer_killed(peer) do
    {a, b, _} = Process.get(:relay_pids)
    before = srv(:status, []).monitored_memberships
    Check.eq("peer member is in relay_pub", true, fn -> member?("relay_pub", "user_2") end)
    :rpc.cast(peer, System, :halt, [0])
    Check.match("members on a halted node leave (DOWN :noconnection)", t when is_integer(t),
      within(5000, fn -> not member?("relay_pub", "user_2") and not member?("relay_priv", "acc") end))
    Check.eq("their monitors are gone", before - 2, fn -> srv(:status, []).monitored_memberships end)
    flush()
    Check.eq("relay after the loss counts only the live members", 1, fn ->
      rpc(:handle_relay, [req("r58", "user_1", %{"group_id" => "relay_pub", "message" => "z"}), nil]).result["recipients_count"]
    end)
    got = relayed([a])
    Check.match("the creator still receives", [%{request_id: "r58"}], got)
    _ = b
  end

  def via_executor do
    gw = Check.gw()
    fc = %FunConfig{request_type: "relay_msg", service: "relay_svc", nodes: :local,
      choose_node_mode: :random, timeout: 5000, mfa: {@relay, :handle_relay, []},
      arg_types: nil, arg_orders: [], response_type: :sync}
    Check.eq("ConfigDb.add of the :local relay FunConfig", :ok,
      fn -> :rpc.call(gw, PhoenixGenApi.ConfigDb, :add, [fc]) end)
    {a, _, _} = Process.get(:relay_pids)
    flush()
    params = fn uid, gid ->
      %{"request_id" => "rx", "request_type" => "relay_msg", "service" => "relay_svc",
        "user_id" => uid, "args" => %{"group_id" => gid, "message" => "via executor"}}
    end
    exec = fn p -> :erpc.call(gw, PhoenixGenApi.Executor, :execute_params!, [p], Check.tmo(10_000)) end
    Check.eq("executor runs the built-in handle_relay", resp("rx", success: true,
      result: %{"status" => "relayed", "recipients_count" => 1}),
      fn -> exec.(params.("user_1", "relay_pub")) end)
    got = relayed([a])
    Check.match("members receive the executor's relay",
      [%{request_id: "rx", result: %{"from_user_id" => "user_1", "message" => "via executor"}}],
      got)
    Check.eq("a refused sender through the executor gets the relay's own error Response",
      resp("rx", error: "Not a member of this group"), fn -> exec.(params.("stranger", "relay_pub")) end)
    Check.eq("an unknown group through the executor: Group not found",
      resp("rx", error: "Group not found"), fn -> exec.(params.("user_1", "nope")) end)
    Check.eq("config removed", :ok,
      fn -> :rpc.call(gw, PhoenixGenApi.ConfigDb, :delete, ["relay_svc", "relay_msg"]) end)
  end

  def cleanup do
    {a, b, c} = Process.get(:relay_pids)
    for g <- ["relay_pub", "relay_strict", "relay_priv"], do: rpc(:delete_group, [g])
    for p <- [a, b, c], do: Process.exit(p, :kill)
    Check.match("no group left, every monitor released", %{group_count: 0, monitored_memberships: 0},
      (within(2000, fn -> srv(:status, []).monitored_memberships == 0 end); srv(:status, [])))
  end
end

Scenario.run()
