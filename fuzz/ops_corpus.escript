#!/usr/bin/env escript
%% Writes the seeds of fuzz_ops (fuzz/fuzz_ops.c) into fuzz/corpus/ops:
%% each file is a selector byte followed by term_to_binary(Term) (with
%% its version byte 131, as the other corpora). Run from the source tree:
%%   escript fuzz/ops_corpus.escript
%% Selectors: 0 trace args, 1 trace messages, 2 call flows, 3 eval/text,
%% 4 relay operation lists, 5 term order.
-mode(compile).

main(_) ->
    Dir = "fuzz/corpus/ops",
    ok = filelib:ensure_dir(Dir ++ "/"),
    Seeds = [{0, N, T} || {N, T} <- trace_args()] ++
            [{1, N, T} || {N, T} <- trace_msg()] ++
            [{2, N, T} || {N, T} <- callflow()] ++
            [{3, N, T} || {N, T} <- eval()] ++
            [{4, N, T} || {N, T} <- relay()] ++
            [{5, N, T} || {N, T} <- order()],
    lists:foreach(
      fun({Sel, Name, T}) ->
              File = io_lib:format("~s/~b_~s.bin", [Dir, Sel, Name]),
              ok = file:write_file(File, [Sel, term_to_binary(T)])
      end, Seeds).

trace_args() ->
    [{"all", all},
     {"symbolic", [processes, new, existing_ports]},
     {"pid", self()},
     {"bad_target", [all, nope]},
     {"mfa3", {'Elixir.PhoenixGenApi.Executor', 'execute!', 2}},
     {"mfa_list", [{'Elixir.M', f}, {m, '_', '_'}, all]},
     {"mfa_bigint", [{m, f, 1 bsl 70}, {m, f, -(1 bsl 70)}]},
     {"flags", [call, return_to, timestamp, arity]},
     {"match_spec", [{'_', [], [{return_trace}]}]},
     {"options", {[all], [{m, f, 1}], [call, silent], true}},
     {"improper", [all | processes]}].

trace_msg() ->
    [{"ts", 1609556645000006},
     {"mfa_args", {m, f, [1, 2]}},
     {"flags", [call, timestamp]},
     {"return_trace", [{['$1'], [{'>', '$1', 0}], [{message, x}, {return_trace}]}]},
     {"rate_steps", [1, 2, 1000, 5, 1500, 0, 2000]},
     {"request_id", <<"req-1">>}].

fun_config(Extra) ->
    maps:merge(#{'__struct__' => 'Elixir.PhoenixGenApi.Structs.FunConfig',
                 service => <<"chat">>, request_type => <<"send">>,
                 version => <<"1.0.0">>, check_permission => false,
                 before_execute => nil, after_execute => nil, retry => nil,
                 response_type => sync, choose_node_mode => random,
                 timeout => 5000, nodes => local,
                 mfa => {'Elixir.Chat', send, []}}, Extra).

callflow() ->
    [{"fc_local", fun_config(#{})},
     {"fc_remote", fun_config(#{check_permission => {arg, <<"user_id">>},
                                before_execute => {'Elixir.Hooks', before},
                                after_execute => {'Elixir.Hooks', 'after', [1, 2]},
                                retry => {same_node, 3}, response_type => async,
                                choose_node_mode => {sticky, <<"user_id">>},
                                nodes => ['a@h', 'b@h']})},
     {"fc_odd", fun_config(#{check_permission => any_authenticated,
                             retry => [bad], response_type => stream,
                             nodes => {'Elixir.Resolver', nodes, []}})},
     {"role", {role, [admin, moderator]}},
     {"retry_all", {all_nodes, 2}},
     {"retry_int", 3},
     {"custom_mfa", {'Elixir.MyPerm', check}}].

eval() ->
    Limit = #{key => user_id, max_requests => 100, window_ms => 60000},
    Big = maps:from_list([{list_to_atom("k" ++ integer_to_list(I)), I}
                          || I <- lists:seq(1, 40)]),
    [{"failed_entry", #{id => 1, service => <<"svc">>, request_type => <<"get">>,
                        version => <<"1.0">>, source => pull,
                        reason => [<<"bad">>, <<"worse">>]}},
     {"limits", [Limit, Limit#{key => ip_address}]},
     {"rl_config", #{global => [Limit],
                     api => [Limit#{service => <<"s">>, request_type => <<"t">>}]}},
     {"charlist", "h\x{e9}llo"},
     {"chardata", [<<"a">>, 98, <<"c">>]},
     {"uptime", {1609556645000, 0}},
     {"status", #{status => degraded, checked_at_ms => 1736937000123}},
     {"big_map", Big}].

relay() ->
    G = <<"g">>,
    [{"strict", [{0, G, <<"alice">>, 2}, {2, G, <<"bob">>, 100},
                 {4, G, <<"alice">>, <<"bob">>}, {5, G, <<"alice">>, <<"bob">>},
                 {10, G, <<"bob">>}, {6, G, <<"alice">>, <<"bob">>},
                 {11, G, <<>>, 1736937000123456}, {3, G, <<"bob">>}, {1, G}]},
     {"public", [{0, <<"p">>, <<"a">>, 0}, {2, <<"p">>, <<"b">>, 5},
                 {2, <<"p">>, <<"c">>, 5}, {7, <<>>, <<>>, 5},
                 {8, <<>>, <<>>, 1}, {10, <<"p">>, <<"b">>}, {11, <<"p">>}]},
     {"private", [{0, <<"q">>, <<"a">>, 1}, {2, <<"q">>, <<"b">>, 6},
                  {9, <<>>, <<>>, 2}, {2, <<"q">>, <<"b">>, 7},
                  {4, <<"q">>, <<"a">>, <<"b">>}, {11, <<"q">>}]},
     {"long_id", [{0, binary:copy(<<"x">>, 1100), <<"u">>, 0},
                  {0, G, binary:copy(<<"y">>, 1025), 0}]}].

%% A reference on gw@h with these id words (NEWER_REFERENCE_EXT, 1-5
%% words: peers of different OTP releases send different counts).
ref(Words) ->
    binary_to_term(<<131, 90, (length(Words)):16, 119, 4, "gw@h", 1:32,
                     << <<W:32>> || W <- Words >>/binary>>).

order() ->
    [{"refs", [ref([5, 1, 9]), ref([1, 2]), ref([3]), ref([3, 0, 0]),
               ref([1, 2, 3, 4, 5])]},
     {"numbers", [1, 1.0, 2, 1 bsl 64, -(1 bsl 64), 1.8446744073709552e19,
                  -9223372036854775808, 9.223372036854776e18]},
     {"kinds", [make_ref(), self(), {a}, #{}, [], [1], <<1:3>>, atom,
                fun erlang:self/0]},
     {"map_keys", #{1 => a, 1.0 => b, a => c, <<"x">> => d, {t} => e}},
     {"lists", [[1 | 2], [1], [1, 2], "ab", [97 | 98]]},
     {"atoms", ['\x{e9}', 'Elixir.A', a, 'ab', '']}].
