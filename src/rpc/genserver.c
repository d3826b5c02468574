/* stub */ typedef int pga_stub_genserver;
