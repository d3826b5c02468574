/* stub */ typedef int pga_stub_loop_epoll;
