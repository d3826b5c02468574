/* stub */ typedef int pga_stub_handshake_out;
