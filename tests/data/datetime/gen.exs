# Writes vectors.txt: DateTime.from_iso8601/1 and NaiveDateTime.from_iso8601/1
# outcomes from the running Elixir (Calendar.ISO's parser is the same in
# 1.14 and 1.18). One scenario per line:
#   <hex of the input> dt ok <y> <mo> <d> <h> <mi> <s> <us> <precision> <offset>
#   <hex of the input> dt error <reason>
#   <hex of the input> naive ok <y> <mo> <d> <h> <mi> <s> <us> <precision>
#   <hex of the input> naive error <reason>
# (Elixir 1.14 refuses dates past 9999 after the UTC shift, 1.18 does not:
# such inputs are tested in check_args.c, not here.)
# Re-run with `elixir gen.exs > vectors.txt`; random inputs use a fixed seed.
fixed = [
  "2024-01-15T10:30:00+07:00", "2024-01-15T10:30:00Z", "2024-01-15T10:30:00",
  "2024-01-15 10:30:00+07:00", "2024-01-15t10:30:00+07:00", "bad", "",
  "2024-01-15T10:30:00.123+07:00", "2024-01-15T10:30:00,5-02:30",
  "2024-01-15T10:30:00.1234567+01:00", "2024-01-15T10:30:00.+01:00",
  "2024-01-15T10:30:00+00:00", "2024-01-15T10:30:00-00:00",
  "2024-01-15T10:30:00+0000", "2024-01-15T10:30:00-0000", "2024-01-15T10:30:00+00",
  "2024-01-15T10:30:00+0700", "2024-01-15T10:30:00+07", "2024-01-15T10:30:00+07:0",
  "2024-01-15T10:30:00+24:00", "2024-01-15T10:30:00+23:59", "2024-01-15T10:30:00-23:59",
  "2024-01-15T10:30:00+07:60", "2024-01-15T10:30:00++1:00", "2024-01-15T10:30:00+-1:00",
  "2024-01-15T10:30:00+1-:00", "2024-01-15T10:30:00+07:-5", "2024-01-15T10:30:00+07:00Z",
  "2024-01-15T10:30:00Zjunk", "2024-02-29T00:00:00+01:00", "2023-02-29T00:00:00+01:00",
  "2024-13-01T00:00:00+01:00", "2024-00-10T00:00:00+01:00", "2024-04-31T00:00:00+01:00",
  "2024-01-15T24:00:00+01:00", "2024-01-15T23:60:00+01:00", "2024-01-15T23:59:60+01:00",
  "2024-01-01T00:30:00+01:00", "2024-12-31T23:30:00-01:00", "2024-03-01T00:00:00+05:00",
  "2023-03-01T00:00:00+05:00", "0000-01-01T00:00:00+01:00", "-0001-03-01T00:00:00+01:00",
  "+2024-01-15T10:30:00+07:00", "-2024-01-15T10:30:00+07:00",
  "2024-1-15T10:30:00+07:00", "2024/01/15T10:30:00+07:00", "2024-01-15X10:30:00+07:00",
  "20240115T103000+0700", "2024-01-15T10:30+07:00", "2024-01-15T10:30:00.000000+01:00",
  "2024-01-15T10:30:00.999999999Z", "2024-01-15T10:30:00.0Z", "2024-01-15T10:30:00,Z",
  "2024-01-15T10:30:00 +07:00", "2024-01-15T10:30:00+7:00", " 2024-01-15T10:30:00+07:00",
  "2024-01-15T10:30:00.12a+07:00", "2024-01-15T10:30:00+07:00:00", "2000-02-29T23:00:00-01:00",
  "1900-02-28T23:00:00-01:00", "2100-03-01T00:00:00+10:00"
]

:rand.seed(:exsss, {7, 7, 7})
pieces = ["2024", "-", "01", "15", "T", " ", ":", "30", "00", "+", "07", "Z", ".", ",", "5",
          "9", "24", "60", "-00:00", "+0700", "02", "29", "x", "1"]
random =
  for _ <- 1..300 do
    base = "2024-01-15T10:30:00"
    tail = for _ <- 1..:rand.uniform(4), into: "", do: Enum.at(pieces, :rand.uniform(length(pieces)) - 1)
    if :rand.uniform(2) == 1, do: base <> tail, else: String.slice(base, 0, :rand.uniform(19)) <> tail
  end

hex = fn s -> Base.encode16(s, case: :lower) |> then(&if(&1 == "", do: "-", else: &1)) end

IO.puts("# DateTime/NaiveDateTime.from_iso8601/1 from Elixir #{System.version()}; made by gen.exs")
for s <- fixed ++ random do
  case DateTime.from_iso8601(s) do
    {:ok, d, off} ->
      {us, p} = d.microsecond
      IO.puts("#{hex.(s)} dt ok #{d.year} #{d.month} #{d.day} #{d.hour} #{d.minute} #{d.second} #{us} #{p} #{off}")
    {:error, r} -> IO.puts("#{hex.(s)} dt error #{r}")
  end
  case NaiveDateTime.from_iso8601(s) do
    {:ok, d} ->
      {us, p} = d.microsecond
      IO.puts("#{hex.(s)} naive ok #{d.year} #{d.month} #{d.day} #{d.hour} #{d.minute} #{d.second} #{us} #{p}")
    {:error, r} -> IO.puts("#{hex.(s)} naive error #{r}")
  end
end
