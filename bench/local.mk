## bench: benchmark programs (make bench), never run by make check.
