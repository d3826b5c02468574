# 135_config_journal_damage: one damaged journal record costs only itself
# (issue 11; docs/compat.md C28). A private gateway with --data-dir takes
# 50 acknowledged pushes (services s1..s50) and is killed with SIGKILL; four
# bytes are flipped at a place in the journal (three places, each on a
# fresh data dir). pga-node --check-data-dir names the damaged push
# (service, version), exits 1 and changes no file; the restarted gateway
# has the other 49 pushes, intact records after the damage included, and
# ConfigReceiver.status/0 names what it skipped.
Code.require_file("lib/check.exs", __DIR__)
Code.require_file("lib/config_structs.exs", __DIR__)
Code.require_file("lib/config_gw.exs", __DIR__)

defmodule Scenario do
  require Check
  alias PhoenixGenApi.ConfigReceiver
  import ConfigFixtures

  @pushes 50

  def call(gw, m, f, a), do: :rpc.call(gw, m, f, a, Check.tmo(5_000))

  def pc(me, i) do
    s = "s#{i}"
    p(me, service: s, config_version: "v#{i}", fun_configs: [f(me, service: s)])
  end

  # Record offsets of a version 2 journal (src/config/journal.h).
  def records(bin), do: records(bin, 28, [])
  defp records(bin, off, acc) when off + 14 <= byte_size(bin) do
    <<_salt::binary-8, plen::32, llen::16>> = binary_part(bin, off, 14)
    records(bin, off + 22 + llen + plen, [{off, 22 + llen + plen} | acc])
  end
  defp records(_bin, _off, acc), do: Enum.reverse(acc)

  def flip(path, at) do
    bin = File.read!(path)
    <<a::binary-size(at), x::binary-4, rest::binary>> = bin
    File.write!(path, [a, :crypto.exor(x, <<0xA5, 0x5A, 0xC3, 0x3C>>), rest])
  end

  def run_case(me, where) do
    name = Check.node_name("jdmg")
    data = ConfigGw.path("jdmg-data")
    log = data <> ".err"
    File.mkdir_p!(data)
    journal = Path.join(data, "config.journal")
    args = ["--data-dir", data, "--log-level", "debug"]
    {:ok, gw} = ConfigGw.start(name, args, log)
    acks = for i <- 1..@pushes, do: call(name, ConfigReceiver, :push, [pc(me, i), [force: false]])
    Check.eq("#{where}: #{@pushes} pushes acknowledged", List.duplicate({:ok, :accepted}, @pushes),
      fn -> acks end)
    ConfigGw.kill9(gw)

    recs = File.read!(journal) |> records()
    # the record holding the byte at the chosen place, and a spot in it
    {idx, at} =
      case where do
        "middle of the journal" -> pick(recs, div(File.stat!(journal).size, 2))
        "a record header" -> {i, {off, _}} = {10, Enum.at(recs, 10)}; {i, off + 9}
        "the last record's payload" -> {off, size} = List.last(recs); {length(recs) - 1, off + size - 6}
      end
    flip(journal, at)
    damaged = "s#{idx + 1}"
    before = for f <- File.ls!(data), into: %{}, do: {f, File.read!(Path.join(data, f))}

    {out, st} = System.cmd(ConfigGw.binary(), ["--check-data-dir", data], stderr_to_stdout: true)
    Check.eq("#{where}: --check-data-dir exits 1", 1, fn -> st end)
    Check.eq("#{where}: --check-data-dir names the damaged push", true, fn ->
      record_named = ~s|service "#{damaged}", version "v#{idx + 1}"|
      header_hit = where == "a record header" and out =~ "what it changed is unknown"
      (out =~ record_named or header_hit) and out =~ "#{@pushes - 1} records intact"
    end)
    Check.eq("#{where}: --check-data-dir changes no file", before, fn ->
      for f <- File.ls!(data), into: %{}, do: {f, File.read!(Path.join(data, f))}
    end)

    {:ok, gw} = ConfigGw.start(name, args, log)
    services = call(name, ConfigReceiver, :get_all_pushed_services, [])
    Check.eq("#{where}: the other #{@pushes - 1} pushes are back, after the damage too",
      Enum.sort(for i <- 1..@pushes, "s#{i}" != damaged, do: "s#{i}"),
      fn -> services |> Map.keys() |> Enum.sort() end)
    Check.match("#{where}: ConfigReceiver.status/0 names what was skipped",
      [%{service: s, offset: o}] when s in [damaged, :unknown] and is_integer(o),
      call(name, ConfigReceiver, :status, [])[:journal_skipped])
    Check.eq("#{where}: the log names the skipped record", true, fn ->
      ConfigGw.read_log(log) =~ "config.journal: " and ConfigGw.read_log(log) =~ "records replayed (the ones after the damage too)"
    end)
    ConfigGw.stop(gw)
  end

  defp pick(recs, byte) do
    idx = Enum.find_index(recs, fn {off, size} -> byte >= off and byte < off + size end)
    {off, size} = Enum.at(recs, idx)
    # inside the payload (past the record's header and label)
    {idx, min(max(byte, off + div(size, 2)), off + size - 4)}
  end

  def run do
    ConfigGw.require_binary!()
    me = node()
    for where <- ["middle of the journal", "a record header", "the last record's payload"],
        do: run_case(me, where)
    Check.eq("--check-data-dir on a missing directory exits 2", 2, fn ->
      {_, st} = System.cmd(ConfigGw.binary(), ["--check-data-dir", "/nonexistent/pga"],
        stderr_to_stdout: true)
      st
    end)
    Check.finish()
  end
end

Scenario.run()
