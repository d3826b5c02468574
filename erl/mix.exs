defmodule PgaRemote.MixProject do
  use Mix.Project

  @source "https://github.com/ohhi-vn/phoenix_gen_api"

  # The Elixir side of pga: a Phoenix channel adapter that forwards
  # PhoenixGenApi requests to pga gateway nodes, IEx helpers and a
  # telemetry bridge. No hard dependency: Phoenix and :telemetry are used
  # when the host application has them.
  def project do
    [
      app: :pga_remote,
      version: "0.1.0",
      elixir: "~> 1.14",
      start_permanent: false,
      deps: [],
      description:
        "Phoenix channel adapter, IEx helpers and telemetry bridge for pga, " <>
          "PhoenixGenApi's gateway as an Erlang C node.",
      package: package(),
      docs: [main: "readme", extras: ["README.md"]]
    ]
  end

  def application do
    [
      extra_applications: [:logger],
      mod: {PhoenixGenApi.Remote.Application, []}
    ]
  end

  defp package do
    [
      licenses: ["MPL-2.0"],
      links: %{"PhoenixGenApi" => @source},
      files: ~w(lib mix.exs README.md .formatter.exs)
    ]
  end
end
