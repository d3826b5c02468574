/* stub */ typedef int pga_stub_dict;
