defmodule PgaRemote.MixProject do
  use Mix.Project

  # The Elixir side of pga: a Phoenix channel adapter that forwards
  # PhoenixGenApi requests to a pga gateway node. No hard dependency:
  # Phoenix is looked up at run time (a channel using it has Phoenix).
  def project do
    [
      app: :pga_remote,
      version: "0.1.0",
      elixir: "~> 1.14",
      start_permanent: false,
      deps: []
    ]
  end

  def application, do: [extra_applications: [:logger]]
end
