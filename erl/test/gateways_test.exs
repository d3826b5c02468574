defmodule PgaRemoteGatewaysTest do
  use ExUnit.Case, async: false
  alias PhoenixGenApi.Remote.Gateways

  @gws [:a@h, :b@h, :c@h, :d@h]
  @keys for i <- 1..2000, do: "user-#{i}"

  def fun_gateways, do: [:x@h, :y@h]

  setup do
    for n <- @gws ++ [:"nowhere@127.0.0.1"], do: Gateways.mark_up(n)
    :ok
  end

  test "resolve: a node, a list, an MFA, a capture, the application environment" do
    assert Gateways.resolve(:a@h) == [:a@h]
    assert Gateways.resolve([:a@h, :b@h, :a@h]) == [:a@h, :b@h]
    assert Gateways.resolve({__MODULE__, :fun_gateways, []}) == [:x@h, :y@h]
    assert Gateways.resolve(&__MODULE__.fun_gateways/0) == [:x@h, :y@h]
    Application.put_env(:pga_remote, :gateway, [:b@h])
    assert Gateways.resolve({:app_env, :pga_remote, :gateway}) == [:b@h]
    Application.delete_env(:pga_remote, :gateway)

    assert_raise ArgumentError, ~r/no pga gateway configured/, fn ->
      Gateways.resolve({:app_env, :pga_remote, :gateway})
    end

    assert_raise ArgumentError, fn -> Gateways.resolve(["a@h"]) end
  end

  test "rendezvous order: the same key always gets the same first gateway" do
    for k <- Enum.take(@keys, 50) do
      assert Gateways.order(@gws, k) == Gateways.order(Enum.reverse(@gws), k)
    end
  end

  test "keys are spread over every gateway" do
    counts = Enum.frequencies_by(@keys, &hd(Gateways.order(@gws, &1)))
    assert map_size(counts) == 4
    for {_, n} <- counts, do: assert(n in 350..650)
  end

  test "removing a gateway moves only its own keys, to their second choice" do
    for k <- @keys do
      [first, second | _] = Gateways.order(@gws, k)
      after_removal = hd(Gateways.order(@gws -- [:c@h], k))
      if first == :c@h, do: assert(after_removal == second), else: assert(after_removal == first)
    end
  end

  test "a gateway marked down goes last until its mark expires" do
    k = "user-1"
    [first | rest] = Gateways.order(@gws, k)
    Application.put_env(:pga_remote, :down_ms, 100)
    Gateways.mark_down(first)
    assert Gateways.plan(@gws, k) == rest ++ [first]
    Process.sleep(150)
    assert hd(Gateways.plan(@gws, k)) == first
  after
    Application.delete_env(:pga_remote, :down_ms)
  end

  test "a gateway that cannot be reached is skipped and marked down" do
    bad = :"nowhere@127.0.0.1"
    key = Enum.find(@keys, &(hd(Gateways.order([bad, node()], &1)) == bad))
    assert Gateways.call([bad, node()], key, :erlang, :node, [], 5_000) == node()
    assert Gateways.down?(bad)
  end

  test "with no gateway left the last error is raised" do
    assert_raise ErlangError, fn ->
      Gateways.call([:"nowhere@127.0.0.1"], "k", :erlang, :node, [], 5_000)
    end
  end
end
