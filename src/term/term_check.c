/* stub */ typedef int pga_stub_term_check;
