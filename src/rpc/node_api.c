/* stub */ typedef int pga_stub_node_api;
