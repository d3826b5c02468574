## tests/interop: real erl/elixir nodes against the real pga-node.
