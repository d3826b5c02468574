# Captures the seed corpora of fuzz/fuzz_handshake.c and fuzz/fuzz_ctrl.c
# from a real node: this script starts a private epmd and a distributed
# Elixir node (the "real" node), then plays two fake nodes against it over
# plain sockets and records what the real node sends:
#
#   fakeb  accepts the real node's connection: the real node's name and
#          challenge-reply messages, then every control message the real
#          node sends it while this script makes it call, send, link,
#          monitor, exit... towards fakeb;
#   fakea  connects to the real node: its status, challenge and ack
#          messages, and the replies to a SPAWN_REQUEST fakea sends.
#
# A few more seeds are built with :erlang.term_to_binary for the forms the
# real node does not send here (the _TT variants, rex calls with a user
# group leader, handshake statuses other than ok).
#
# Usage (from the source tree; rewrites the .bin files it owns):
#   elixir fuzz/capture_corpus.exs [fuzz/corpus]
#
# The handshake seeds are messages without their 2-byte length prefix (tag
# byte first); the ctrl seeds are packet bodies after the 'p' byte: 131 +
# control tuple [+ 131 + payload], as pga_ctrl_parse() takes them.
import Bitwise

defmodule Capture do
  @host "127.0.0.1"
  @cookie "pga_capture_cookie"
  @dflag_atom_cache 0x2
  @dflag_dist_hdr_atom_cache 0x2000
  @dflag_fragments 0x800000
  @dop_names %{
    1 => "link", 2 => "send", 3 => "exit", 4 => "unlink", 6 => "reg_send",
    7 => "group_leader", 8 => "exit2", 12 => "send_tt", 13 => "exit_tt",
    16 => "reg_send_tt", 18 => "exit2_tt", 19 => "monitor_p",
    20 => "demonitor_p", 21 => "monitor_p_exit", 22 => "send_sender",
    23 => "send_sender_tt", 24 => "payload_exit", 25 => "payload_exit_tt",
    26 => "payload_exit2", 27 => "payload_exit2_tt",
    28 => "payload_monitor_p_exit", 29 => "spawn_request",
    30 => "spawn_request_tt", 31 => "spawn_reply", 32 => "spawn_reply_tt",
    33 => "alias_send", 34 => "alias_send_tt", 35 => "unlink_id",
    36 => "unlink_id_ack"
  }

  # Run by hand, the script starts a private epmd and runs itself again as
  # the distributed real node (erl reads ERL_EPMD_PORT only at boot).
  def main(out_dir) do
    if Node.alive?() do
      capture(out_dir)
    else
      epmd_port = start_epmd()

      try do
        {_, rc} =
          System.cmd(System.find_executable("elixir"),
                     ["--name", "capture@#{@host}", "--cookie", @cookie,
                      __ENV__.file, out_dir],
                     env: [{"ERL_EPMD_PORT", "#{epmd_port}"}],
                     into: IO.stream(:stdio, :line), stderr_to_stdout: true)
        if rc != 0, do: System.halt(rc)
      after
        System.cmd("epmd", ["-port", "#{epmd_port}", "-kill"])
      end
    end
  end

  defp capture(out_dir) do
    hs_dir = Path.join(out_dir, "handshake")
    ctrl_dir = Path.join(out_dir, "ctrl")
    File.mkdir_p!(hs_dir)
    File.mkdir_p!(ctrl_dir)
    {hs1, ctrl1} = real_connects_to_fakeb()
    {hs2, ctrl2} = fakea_connects_to_real()
    write_all(hs_dir, hs1 ++ hs2 ++ built_handshake())
    ctrl = Enum.uniq_by(ctrl1 ++ ctrl2, fn {_, bin} -> bin end)
    write_all(ctrl_dir, numbered(ctrl) ++ built_ctrl())
  end

  # ---- a private epmd ----

  defp start_epmd do
    {:ok, l} = :gen_tcp.listen(0, ip: {127, 0, 0, 1})
    {:ok, port} = :inet.port(l)
    :gen_tcp.close(l)
    {_, 0} = System.cmd("epmd", ["-daemon", "-relaxed_command_check",
                                 "-port", "#{port}"])
    wait_epmd(port, 50)
    port
  end

  defp wait_epmd(port, 0), do: raise("epmd did not start on #{port}")

  defp wait_epmd(port, n) do
    case :gen_tcp.connect({127, 0, 0, 1}, port, []) do
      {:ok, s} -> :gen_tcp.close(s)
      _ -> Process.sleep(100) && wait_epmd(port, n - 1)
    end
  end

  # ALIVE2_REQ for a fake node listening on port; the returned socket keeps
  # the registration alive.
  defp epmd_register(alive, port) do
    epmd = String.to_integer(System.get_env("ERL_EPMD_PORT"))
    {:ok, s} = :gen_tcp.connect({127, 0, 0, 1}, epmd, [:binary, active: false])
    body = <<120, port::16, 77, 0, 6::16, 5::16, byte_size(alive)::16,
             alive::binary, 0::16>>
    :ok = :gen_tcp.send(s, <<byte_size(body)::16, body::binary>>)
    {:ok, <<118, 0, _creation::32>>} = :gen_tcp.recv(s, 6, 5000)
    s
  end

  # ---- side 1: the real node connects to fakeb ----

  defp real_connects_to_fakeb do
    fakeb = :"fakeb@#{@host}"
    {:ok, l} = :gen_tcp.listen(0, [:binary, active: false, packet: 2,
                                   ip: {127, 0, 0, 1}])
    {:ok, port} = :inet.port(l)
    reg = epmd_register("fakeb", port)
    parent = self()
    spawn(fn -> send(parent, {:connected, Node.connect(fakeb)}) end)
    {:ok, s} = :gen_tcp.accept(l, 5000)

    {:ok, name = <<?N, flags::64, _creation::32, _::binary>>} = recv(s)
    :ok = :gen_tcp.send(s, "sok")
    our_challenge = 0x1234ABCD
    our_flags = flags &&& bnot(@dflag_atom_cache ||| @dflag_dist_hdr_atom_cache
                               ||| @dflag_fragments)
    nm = Atom.to_string(fakeb)
    :ok = :gen_tcp.send(s, <<?N, our_flags::64, our_challenge::32,
                             0x5EED0001::32, byte_size(nm)::16, nm::binary>>)
    {:ok, reply = <<?r, their_challenge::32, digest::binary-16>>} = recv(s)
    ^digest = digest(our_challenge)
    :ok = :gen_tcp.send(s, <<?a, digest(their_challenge)::binary>>)
    :ok = :inet.setopts(s, packet: 4)
    receive do
      {:connected, true} -> :ok
    after
      5000 -> raise "the real node did not connect to fakeb"
    end

    collector = spawn_link(fn -> collect(s, parent) end)
    :ok = :gen_tcp.controlling_process(s, collector)
    send(collector, :go)
    provoke(fakeb)
    send({:pga_capture_end, fakeb}, :end)

    packets =
      receive do
        {:collected, ps} -> ps
      after
        10_000 -> raise "no end marker from the real node"
      end

    :gen_tcp.close(reg)
    :gen_tcp.close(l)
    {[{"name_otp25", name}, {"reply_otp25", reply}], packets}
  end

  # Makes the real node send fakeb one of each signal it can.
  defp provoke(fakeb) do
    pid = remote_pid(fakeb, 42)
    alias_ref = remote_ref(fakeb)

    # erpc and rpc calls: SPAWN_REQUEST (+ DEMONITOR_P on timeout).
    catch_all(fn -> :erpc.call(fakeb, :m, :f, [1, 2], 200) end)
    catch_all(fn -> :rpc.call(fakeb, :lists, :reverse, [[1, 2, 3]], 200) end)
    catch_all(fn -> :erpc.cast(fakeb, :m, :f, ["bin", 1.5]) end)
    # A gen_server call to rex: MONITOR_P by name, REG_SEND, DEMONITOR_P.
    catch_all(fn ->
      GenServer.call({:rex, fakeb}, {:call, :m, :f, [], self()}, 200)
    end)
    send({:rex, fakeb}, {:hello, %{"k" => [1, 2]}})
    # To a pid: SEND_SENDER, LINK, UNLINK_ID, EXIT2, GROUP_LEADER.
    send(pid, {:msg, "payload", 1 <<< 70})
    Process.link(pid)
    Process.unlink(pid)
    Process.exit(pid, :kill)
    Process.exit(pid, {:shutdown, :reason})
    :erlang.group_leader(self(), pid)
    # Monitors by pid and by name, and their removal.
    r = Process.monitor(pid)
    Process.demonitor(r)
    r = Process.monitor({:some_name, fakeb})
    Process.demonitor(r)
    # A linked process dying: PAYLOAD_EXIT with its reason.
    spawn(fn ->
      Process.link(pid)
      exit({:boom, [1, 2, 3]})
    end)
    # ALIAS_SEND to a reference on fakeb.
    send(alias_ref, {:reply, :ok})
    Process.sleep(200)
  end

  defp catch_all(f) do
    f.()
  catch
    _, _ -> :ok
  end

  defp collect(s, parent) do
    receive do
      :go -> :ok
    end

    collect(s, parent, [])
  end

  defp collect(s, parent, acc) do
    case :gen_tcp.recv(s, 0, 10_000) do
      {:ok, ""} ->
        collect(s, parent, acc)

      {:ok, <<?p, body::binary>>} ->
        if end_marker?(body) do
          send(parent, {:collected, Enum.reverse(acc)})
        else
          collect(s, parent, [{op_name(body), body} | acc])
        end

      other ->
        raise "fakeb: #{inspect(other)}"
    end
  end

  defp end_marker?(body) do
    {ctrl, _} = :erlang.binary_to_term(body, [:used])
    match?({6, _, _, :pga_capture_end}, ctrl)
  end

  defp op_name(body) do
    {ctrl, _} = :erlang.binary_to_term(body, [:used])
    Map.get(@dop_names, elem(ctrl, 0), "op#{elem(ctrl, 0)}")
  end

  # ---- side 2: fakea connects to the real node ----

  defp fakea_connects_to_real do
    {:port, port, _version} = :erl_epmd.port_please(~c"capture", {127, 0, 0, 1})
    {:ok, s} = :gen_tcp.connect({127, 0, 0, 1}, port,
                                [:binary, active: false, packet: 2])
    fakea = "fakea@#{@host}"
    # The real node's own flags, without the atom cache and fragments (as
    # pga offers), so that it uses pass-through packets.
    flags = real_flags() &&& bnot(@dflag_atom_cache ||| @dflag_dist_hdr_atom_cache
                                  ||| @dflag_fragments)
    :ok = :gen_tcp.send(s, <<?N, flags::64, 0x5EED0002::32,
                             byte_size(fakea)::16, fakea::binary>>)
    {:ok, status} = recv(s)
    {:ok, challenge = <<?N, _::64, their_challenge::32, _::binary>>} = recv(s)
    our_challenge = 0x0BADCAFE
    :ok = :gen_tcp.send(s, <<?r, our_challenge::32,
                             digest(their_challenge)::binary>>)
    {:ok, ack = <<?a, digest::binary-16>>} = recv(s)
    ^digest = digest(our_challenge)
    :ok = :inet.setopts(s, packet: 4)

    # A SPAWN_REQUEST from fakea, as erpc sends it: the real node answers
    # with SPAWN_REPLY and, when the job ends, PAYLOAD_MONITOR_P_EXIT.
    me = remote_pid(String.to_atom(fakea), 7)
    req = remote_ref(String.to_atom(fakea))
    call_ref = remote_ref(String.to_atom(fakea))
    ctrl = {29, req, me, me, {:erpc, :execute_call, 4}, [:monitor]}
    args = [call_ref, :erlang, :node, []]
    :ok = :gen_tcp.send(s, [?p, :erlang.term_to_binary(ctrl),
                            :erlang.term_to_binary(args)])
    replies = drain(s, [])
    :gen_tcp.close(s)

    {[{"status_ok", status}, {"challenge_otp25", challenge}, {"ack_otp25", ack}],
     replies}
  end

  defp drain(s, acc) do
    case :gen_tcp.recv(s, 0, 1000) do
      {:ok, ""} -> drain(s, acc)
      {:ok, <<?p, body::binary>>} -> drain(s, [{op_name(body), body} | acc])
      _ -> Enum.reverse(acc)
    end
  end

  # The flags this node offers, as its name message carries them: read back
  # from the name message a connection to a throwaway listener gets.
  defp real_flags do
    {:ok, l} = :gen_tcp.listen(0, [:binary, active: false, packet: 2,
                                   ip: {127, 0, 0, 1}])
    {:ok, port} = :inet.port(l)
    reg = epmd_register("fakec", port)
    spawn(fn -> Node.connect(:"fakec@#{@host}") end)
    {:ok, s} = :gen_tcp.accept(l, 5000)
    {:ok, <<?N, flags::64, _::binary>>} = recv(s)
    :gen_tcp.close(s)
    :gen_tcp.close(reg)
    :gen_tcp.close(l)
    flags
  end

  defp recv(s), do: :gen_tcp.recv(s, 0, 5000)

  defp digest(challenge) do
    :erlang.md5([@cookie, Integer.to_string(challenge)])
  end

  # ---- terms of the fake nodes ----

  # NEW_PID_EXT and NEWER_REFERENCE_EXT on another node.
  defp remote_pid(node, id) do
    n = Atom.to_string(node)
    :erlang.binary_to_term(<<131, 88, 119, byte_size(n), n::binary, id::32,
                             0::32, 0x5EED0001::32>>)
  end

  defp remote_ref(node) do
    n = Atom.to_string(node)
    <<a::32, b::32, c::32>> = :crypto.strong_rand_bytes(12)
    :erlang.binary_to_term(<<131, 90, 3::16, 119, byte_size(n), n::binary,
                             0x5EED0001::32, a::32, b::32, c::32>>)
  end

  # ---- built seeds ----

  defp built_handshake do
    name = "peer@#{@host}"
    [
      {"status_ok_simultaneous", "sok_simultaneous"},
      {"status_nok", "snok"},
      {"status_not_allowed", "snot_allowed"},
      {"status_alive", "salive"},
      {"status_named", <<"snamed:", byte_size(name)::16, name::binary,
                         0x5EED0003::32>>},
      {"name_v5_refused", <<?n, 5::16, 0x3FFFFF::32, name::binary>>},
      {"complement_refused", <<?c, 0x0D::32, 0x5EED0003::32>>}
    ]
  end

  defp built_ctrl do
    pid = self()
    ref = make_ref()
    ref2 = make_ref()
    gl = Process.group_leader()
    tok = {0, :tok, 1, pid, 2}
    t = &:erlang.term_to_binary/1

    [
      {"built_spawn_request",
       t.({29, ref, pid, gl, {:erpc, :execute_call, 4}, [:monitor]}) <>
         t.([ref2, :m, :f, [1, 2]])},
      {"built_spawn_request_tt",
       t.({30, ref, pid, gl, {:erpc, :execute_call, 4}, [:monitor, :link], tok}) <>
         t.([ref2, :pga_node, :echo, [%{"hello" => "world", "n" => 42}]])},
      {"built_reg_send_rex_call",
       t.({6, pid, :"", :rex}) <>
         t.({:"$gen_call", {pid, ref}, {:call, :m, :f, [], :user}})},
      {"built_reg_send_tt",
       t.({16, pid, :"", :rex, tok}) <>
         t.({:"$gen_call", {pid, [:alias | ref]}, {:call, :m, :f, [1], gl}})},
      {"built_monitor_p_name", t.({19, pid, :rex, ref})},
      {"built_monitor_p_exit", t.({21, pid, pid, ref, :noproc})},
      {"built_spawn_reply", t.({31, ref, pid, 3, pid})},
      {"built_spawn_reply_error", t.({32, ref, pid, 0, :badopt, tok})},
      {"built_send_tt", t.({12, :"", pid, tok}) <> t.("message")},
      {"built_exit_tt", t.({13, pid, pid, tok, :normal})},
      {"built_alias_send_tt", t.({34, pid, ref, tok}) <> t.({ref, :reply})},
      {"built_unlink_id_ack_big", t.({36, 1 <<< 64, pid, pid})}
    ]
  end

  # ---- files ----

  defp numbered(list) do
    list
    |> Enum.with_index(1)
    |> Enum.map(fn {{name, bin}, i} ->
      {"live_" <> String.pad_leading("#{i}", 2, "0") <> "_" <> name, bin}
    end)
  end

  defp write_all(dir, files) do
    for {name, bin} <- files do
      path = Path.join(dir, name <> ".bin")
      File.write!(path, bin)
      IO.puts("#{path} (#{byte_size(bin)} bytes)")
    end
  end
end

Capture.main(List.first(System.argv()) || "fuzz/corpus")
