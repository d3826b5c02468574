#!/usr/bin/env escript
%% Writes vectors.txt: erlang:phash2/2 of many terms, from the running BEAM.
%% One scenario per line: hex of term_to_binary(T) (version byte
%% included), range, expected phash2(T, Range). Re-run with
%% `escript gen.escript > vectors.txt`; random terms use a fixed seed.
-mode(compile).

main(_) ->
    io:format("# erlang:phash2/2 vectors from OTP ~s (~s); made by gen.escript~n",
              [erlang:system_info(otp_release), erlang:system_info(version)]),
    io:format("# hex(term_to_binary(T)) range phash2(T, range)~n"),
    rand:seed(exsss, {17, 4, 2024}),
    Random = [random_term(4) || _ <- lists:seq(1, 400)],
    lists:foreach(fun emit/1, fixed() ++ Random).

ranges() -> [1, 2, 3, 7, 1000, 1 bsl 27, 1 bsl 32].

emit(T) ->
    Hex = string:lowercase(binary:encode_hex(term_to_binary(T))),
    [io:format("~s ~b ~b~n", [Hex, R, erlang:phash2(T, R)]) || R <- ranges()],
    ok.

fixed() ->
    Bins = [<<>>, <<"a">>, <<"user_123">>, <<"user_456">>, <<"req_123">>,
            <<"test_request_id">>, <<"session_789">>,
            binary:copy(<<"x">>, 20), <<"héllo wörld 1234567"/utf8>>,
            <<1, 2, 3>>, <<255, 0, 128>>]
        ++ [binary:part(<<"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ">>, 0, N)
            || N <- lists:seq(1, 40)],
    Bits = [<<1:1>>, <<5:3>>, <<"abc", 5:4>>, <<"0123456789ab", 127:7>>],
    Atoms = [true, false, nil, ok, a, '', 'Elixir.PhoenixGenApi.Structs.Request',
             list_to_atom([233]), list_to_atom([194, 195]),
             list_to_atom([26085, 26412]), list_to_atom([233, 26085, 255]),
             list_to_atom(lists:duplicate(255, $z)),
             list_to_atom(lists:duplicate(200, 1000))],
    Ints = [0, 1, 7, 123, 255, 256, 1000, -1, -255, -256,
            (1 bsl 27) - 1, 1 bsl 27, -(1 bsl 27), -(1 bsl 27) - 1,
            (1 bsl 31) - 1, 1 bsl 31, -(1 bsl 31), 1 bsl 32, (1 bsl 32) + 5,
            -(1 bsl 32), 1 bsl 59, (1 bsl 59) - 1, -(1 bsl 59), 1 bsl 60,
            (1 bsl 63) - 1, 1 bsl 63, -(1 bsl 63), (1 bsl 64) - 1, 1 bsl 64,
            (1 bsl 64) + 1, -(1 bsl 64), 1 bsl 95, 1 bsl 96, -(1 bsl 100) + 3,
            1 bsl 127, 1 bsl 128, 1 bsl 200, -(1 bsl 300), fact(60)],
    Floats = [0.0, -0.0, 1.5, 2.5, -2.5, 1.0, 3.141592653589793, 1.0e300,
              -1.0e-300, 5.0e-324, 123456789.125],
    Lists = [[], [1, 2], "abc", "abcd", "abcde", "abcdefgh", [256], [1, 256, 2],
             [a], [[]], [[], []], [1 | 2], [a | b], [1, 2 | 3], [1, 2 | "xy"],
             [<<"x">>], [1, 2, {x}, 3, 4, 5, 6, 7], [0, 255, -1, 300],
             [1.5, 2], lists:seq(1, 300), [[1, 2], [3]], [1, [2, [3, [4]]]],
             [nil, true], [[] | []], [<<>> | <<>>]],
    Tuples = [{}, {1, 2}, {a, <<"b">>, [c]}, {{}}, {{1}, {2, {3}}},
              {<<"session_789">>, 7}, {[], nil}],
    Maps = [#{}, #{<<"a">> => 1}, #{a => 1}, #{<<"a">> => 1, <<"b">> => 2},
            #{1 => 2, <<"x">> => [1, 2], {t} => #{}},
            #{<<"n">> => #{<<"m">> => #{<<"k">> => [1, "ab"]}}},
            maps:from_list([{integer_to_binary(I), I} || I <- lists:seq(1, 40)]),
            maps:from_list([{I, {I}} || I <- lists:seq(1, 100)]),
            #{<<"session_id">> => <<"session_789">>, <<"user_id">> => <<"user_123">>,
              <<"n">> => 7}],
    Free = {<<"free">>, 7},
    Others = [fun erlang:abs/1, fun lists:map/2, fun() -> ok end,
              fun(X) -> {X, Free} end,
              ext(<<88, 100, 0, 10, "other@host", 1:32, 2:32, 3:32>>),
              ext(<<88, 100, 0, 10, "other@host", 32768:32, 0:32, 1:32>>),
              ext(<<88, 100, 0, 10, "other@host", 99999:32, 7:32, 1:32>>),
              ext(<<90, 0, 3, 100, 0, 10, "other@host", 1:32, 5:32, 6:32, 7:32>>),
              ext(<<90, 0, 5, 100, 0, 10, "other@host", 2:32, 9:32, 8:32, 7:32,
                    6:32, 5:32>>),
              ext(<<89, 100, 0, 10, "other@host", 77:32, 3:32>>),
              ext(<<120, 100, 0, 10, "other@host", 5:64, 1:32>>),
              ext(<<120, 100, 0, 10, "other@host", ((1 bsl 40) + 9):64, 1:32>>),
              ext(<<89, 100, 0, 10, "other@host", 77:32, 3:32>>),
              [ext(<<88, 100, 0, 10, "other@host", 1:32, 2:32, 3:32>>), x],
              {fun erlang:abs/1, 1}],
    %% Deeper than the walker's 64 inline frames: its stack moves to the heap.
    Deep = [nest(300, fun(X) -> [X] end), nest(100, fun(X) -> {X, 1} end),
            nest(70, fun(X) -> #{<<"k">> => X, 1 => 2} end),
            nest(80, fun(X) -> [1, 2, X, 3 | 4] end)],
    Bins ++ Bits ++ Atoms ++ Ints ++ Floats ++ Lists ++ Tuples ++ Maps ++ Others
        ++ Deep.

nest(0, _) -> [];
nest(N, F) -> F(nest(N - 1, F)).

ext(Bin) -> binary_to_term(<<131, Bin/binary>>).

fact(0) -> 1;
fact(N) -> N * fact(N - 1).

random_term(0) -> random_scalar();
random_term(D) ->
    case rand:uniform(8) of
        1 -> list_to_tuple([random_term(D - 1) || _ <- lists:seq(1, rand:uniform(4) - 1)]);
        2 -> [random_term(D - 1) || _ <- lists:seq(1, rand:uniform(5) - 1)];
        3 -> maps:from_list([{random_scalar(), random_term(D - 1)}
                             || _ <- lists:seq(1, rand:uniform(4) - 1)]);
        4 -> [rand:uniform(256) - 1 || _ <- lists:seq(1, rand:uniform(9))];
        5 -> [random_term(D - 1) | random_scalar()];
        _ -> random_scalar()
    end.

random_scalar() ->
    case rand:uniform(9) of
        1 -> rand:uniform(1 bsl 30) - (1 bsl 29);
        2 -> rand:uniform(1 bsl 90) - (1 bsl 89);
        3 -> rand:uniform(256) - 1;
        4 -> (rand:uniform() - 0.5) * 1.0e6;
        5 -> rand:bytes(rand:uniform(30) - 1);
        6 -> lists:nth(rand:uniform(5), [true, false, nil, ok, 'Elixir.Foo']);
        7 -> [];
        8 -> {};
        _ -> list_to_binary(io_lib:format("k~b", [rand:uniform(1000)]))
    end.
