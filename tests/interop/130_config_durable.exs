# 130_config_durable: what a gateway acknowledged survives kill -9
# (docs/compat.md C27-C31). A private pga-node with --data-dir takes a push
# (with auto-pull registration), a ConfigDb.add + disable and a
# ConfigPuller.add; it is killed with SIGKILL and started again on the same
# data dir: verify answers {:ok, :matched} and everything is back. Then
# damaged journals (garbage appended, last record torn) are reported with
# their offset and skipped, and the gateway starts every time.
Code.require_file("lib/check.exs", __DIR__)
Code.require_file("lib/config_structs.exs", __DIR__)
Code.require_file("lib/config_gw.exs", __DIR__)

defmodule Scenario do
  require Check
  alias PhoenixGenApi.Structs.ServiceConfig
  alias PhoenixGenApi.{ConfigDb, ConfigPuller, ConfigReceiver}
  import ConfigFixtures

  def call(gw, m, f, a), do: :rpc.call(gw, m, f, a, Check.tmo(5_000))
  def push(gw, pc), do: call(gw, ConfigReceiver, :push, [pc, [force: false]])

  # Starts (or restarts) the private gateway; {:ok, gw} or a failure.
  def start(name, data, log) do
    ConfigGw.start(name, ["--data-dir", data, "--log-level", "debug"], log)
  end

  def run do
    ConfigGw.require_binary!()

    me = node()
    name = Check.node_name("durgw")
    data = ConfigGw.path("durable-data")
    log = data <> ".err"
    File.mkdir_p!(data)
    journal = Path.join(data, "config.journal")
    pc = p(me, module: Sup, function: :get_config)
    manual = %ServiceConfig{service: "manual", nodes: [me], module: Sup,
      function: :get_config, args: []}

    {:ok, gw} = start(name, data, log)
    Check.eq("acknowledged: push, ConfigDb.add + disable, ConfigPuller.add",
      [{:ok, :accepted}, :ok, :ok, :ok], fn ->
        [push(name, pc),
         call(name, ConfigDb, :add, [f(me, service: "Test", version: nil)]),
         call(name, ConfigDb, :disable, ["Test", "test_request"]),
         call(name, ConfigPuller, :add, [[manual]])]
      end)

    # ---- kill -9, restart on the same data dir ----
    st = ConfigGw.kill9(gw)
    Check.eq("pga-node killed with SIGKILL", 137, fn -> st end)
    restarted = start(name, data, log)
    Check.match("restarted on the same --data-dir", {:ok, _}, restarted)
    Check.eq("verify -> {:ok, :matched} after kill -9 and restart", {:ok, :matched},
      fn -> call(name, ConfigReceiver, :verify, ["test_service", "1.0.0"]) end)
    Check.eq("ConfigDb has the pushed config", :ok, fn ->
      {ok, fc} = call(name, ConfigDb, :get, ["test_service", "test_request", "1.0.0"])
      true = fc == f(me)
      ok
    end)
    Check.eq("the pushed PushConfig is back as pushed", pc,
      fn -> call(name, ConfigReceiver, :get_pushed_config, ["test_service"]) end)
    Check.eq("the disabled entry is still disabled", {:error, :disabled},
      fn -> call(name, ConfigDb, :get, ["Test", "test_request"]) end)
    Check.eq("puller registrations are back (auto-pull and ConfigPuller.add)",
      ["manual", "test_service"], fn ->
        call(name, ConfigPuller, :get_services, []) |> Map.keys() |> Enum.sort()
      end)
    Check.eq("a push of the same version is skipped (state restored)",
      {:ok, :skipped, :version_matches}, fn -> push(name, pc) end)

    # ---- a damaged journal tail: garbage after the last record ----
    {:ok, gw} = restarted
    Check.eq("push 2.0.0 acknowledged", {:ok, :accepted},
      fn -> push(name, p(me, config_version: "2.0.0")) end)
    ConfigGw.kill9(gw)
    size = File.stat!(journal).size
    File.write!(journal, <<0xFF, 0xFF, 0xFF, 0xF0, "garbage after the last record">>, [:append])
    restarted = start(name, data, log)
    Check.match("garbage appended to the journal: pga-node starts", {:ok, _}, restarted)
    Check.eq("the garbage is reported with its offset; acknowledged records replayed",
      {true, {:ok, :matched}}, fn ->
        {String.contains?(ConfigGw.read_log(log),
           "config.journal: damaged or torn tail at offset #{size} skipped"),
         call(name, ConfigReceiver, :verify, ["test_service", "2.0.0"])}
      end)

    # ---- a torn last record ----
    {:ok, gw} = restarted
    Check.eq("push 3.0.0 acknowledged", {:ok, :accepted},
      fn -> push(name, p(me, config_version: "3.0.0")) end)
    ConfigGw.kill9(gw)
    size = File.stat!(journal).size
    {:ok, fd} = :file.open(journal, [:read, :write, :binary])
    {:ok, _} = :file.position(fd, size - 5)
    :ok = :file.truncate(fd)
    :ok = :file.close(fd)
    restarted = start(name, data, log)
    Check.match("a torn last record: pga-node starts", {:ok, _}, restarted)
    Check.eq("the torn record is reported and skipped; the state before it stands",
      {true, {:ok, :mismatch, "2.0.0"}}, fn ->
        {String.contains?(ConfigGw.read_log(log),
           ~s|config.journal: torn record at offset 28 skipped: service "test_service", version "3.0.0"|),
         call(name, ConfigReceiver, :verify, ["test_service", "3.0.0"])}
      end)

    # ---- a second pga-node on the same data dir is refused ----
    {st2, text} = ConfigGw.run_to_exit(["--data-dir", data])
    Check.eq("a second pga-node on the same --data-dir exits 1 naming it", {1, true},
      fn -> {st2, String.contains?(text, "is in use by another pga-node")} end)

    st = case restarted do
      {:ok, g} -> ConfigGw.stop(g)
      other -> other
    end
    Check.eq("the durable gateway exits 0 on SIGTERM", 0, fn -> st end)
    Check.finish()
  end
end

Scenario.run()
