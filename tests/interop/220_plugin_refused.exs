# 220_plugin_refused: pga-node refuses a bad --plugin before it serves: it
# exits with status 1 and one stderr line naming the file and the reason,
# prints no ready line and never registers with epmd (docs/plugins.md).
Code.require_file("lib/check.exs", __DIR__)
Code.require_file("lib/plugin.exs", __DIR__)

defmodule Scenario do
  require Check

  # Runs pga-node with args until it exits: {status, stdout lines, stderr}.
  def refused(tag, args) do
    n = PgaPlugin.start(tag, args, wait: false)
    {st, lines} = PgaPlugin.await_exit(n, 30_000)
    {st, lines, File.read!(n.log), n.node}
  end

  def check_refused(name, args, why) do
    Check.match(name,
      {1, [], err, node} when is_binary(err),
      (
        {st, lines, err, node} = refused("bad", args)
        if String.contains?(err, why) and Node.ping(node) == :pang,
          do: {st, lines, err, node},
          else: {st, lines, {:stderr, err, :wanted, why}, node}
      ),
      timeout: 40_000)
  end

  def run do
    bin = PgaPlugin.binary()
    ex = PgaPlugin.plugin("pga_example")
    test = PgaPlugin.plugin("pga_test")
    bad = fn kind -> PgaPlugin.plugin("bad_" <> kind) end

    cond do
      bin == nil or ex == nil or test == nil or bad.("abi") == nil ->
        Check.diag("skipped: no pga-node binary or plugins not built")
        Check.run("refused plugins (skipped: nothing to run)", fn -> :ok end)

      true ->
        missing = Path.join(Check.run_dir(), "no_such_plugin.so")
        text = Path.join(Check.run_dir(), "text_plugin.so")
        File.write!(text, "not an ELF file\n")

        check_refused("a missing file is refused, naming it", ["--plugin", missing],
          "pga-node: plugin #{missing}: cannot load it")
        check_refused("a text file is refused", ["--plugin", text],
          "pga-node: plugin #{text}: cannot load it")
        check_refused("a shared object without the descriptor is refused",
          ["--plugin", bad.("nosym")], "plugin #{bad.("nosym")}: no \"pga_plugin\" symbol")
        check_refused("a plugin for another ABI version is refused",
          ["--plugin", bad.("abi")],
          "plugin #{bad.("abi")}: built for plugin ABI version 2, this pga-node speaks version 1")
        check_refused("a plugin with another binary signature is refused",
          ["--plugin", bad.("sig")], "plugin #{bad.("sig")}: is not binary compatible")
        check_refused("a second plugin with a name already loaded is refused",
          ["--plugin", test, "--plugin", bad.("dup")],
          "plugin #{bad.("dup")}: a plugin named \"pga_test\" is already loaded (from #{test})")
        check_refused("the same file twice is refused", ["--plugin", ex, "--plugin", ex],
          "a plugin named \"pga_example\" is already loaded")
        check_refused("a stream function without request_info is refused",
          ["--plugin", bad.("table")], "a stream function needs request_info")
        check_refused("a failing init hook is refused with its reason",
          ["--plugin", bad.("init")], "its init hook failed: no licence for pga_bad")
        check_refused("a plugin module every gateway refuses (os) is refused",
          ["--plugin", bad.("module")], "module os is refused by every gateway")
        check_refused("a plugin replacing a built-in (pga_node:echo/1) is refused",
          ["--plugin", bad.("clash")], "function pga_node:echo/1 is already served")

        Check.match("with good plugins only, pga-node starts and serves them",
          {3, 0},
          (
            n = PgaPlugin.start("good", ["--plugin", ex])
            r = :rpc.call(n.node, PgaExample.Math, :add, [1, 2], Check.tmo(5_000))
            {r, PgaPlugin.stop(n)}
          ), timeout: 60_000)
    end

    Check.finish()
  end
end

Scenario.run()
