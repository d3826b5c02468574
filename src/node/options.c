/* pga-node's command line: options, the cookie (as erl finds it), usage. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/options.h"
#include "pga/pga.h"

enum { OPT_NAME = 256, OPT_SNAME, OPT_COOKIE, OPT_DATA_DIR, OPT_CONFIG,
       OPT_PLUGIN, OPT_LOG_LEVEL, OPT_HELP, OPT_VERSION, OPT_DIST_INTERFACE,
       OPT_DIST_PORT_MIN, OPT_DIST_PORT_MAX, OPT_DIST_PORT, OPT_LOCAL,
       OPT_NO_LOCAL };

static const struct option long_opts[] = {
    {"name", required_argument, NULL, OPT_NAME},
    {"sname", required_argument, NULL, OPT_SNAME},
    {"cookie", required_argument, NULL, OPT_COOKIE},
    {"data-dir", required_argument, NULL, OPT_DATA_DIR},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"plugin", required_argument, NULL, OPT_PLUGIN},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"dist-interface", required_argument, NULL, OPT_DIST_INTERFACE},
    {"dist-port-min", required_argument, NULL, OPT_DIST_PORT_MIN},
    {"dist-port-max", required_argument, NULL, OPT_DIST_PORT_MAX},
    {"dist-port", required_argument, NULL, OPT_DIST_PORT},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {"local-services", no_argument, NULL, OPT_LOCAL},
    {"no-local-services", no_argument, NULL, OPT_NO_LOCAL},
    {NULL, 0, NULL, 0},
};

void pga_cli_usage(FILE *out) {
  fputs("usage: pga-node (--name NAME@HOST | --sname NAME) [--cookie C]\n"
        "                [--data-dir DIR] [--config FILE] [--plugin PATH]...\n"
        "                [--log-level debug|info|warn|error]\n"
        "                [--dist-interface ADDR] [--dist-port-min N "
        "[--dist-port-max M]]\n"
        "                [--dist-port N] [--help] [--version]\n",
        out);
}

static int set_name(pga_cli_t *cli, const char *v, int short_names,
                    char *err, size_t errlen) {
  if (cli->name) {
    snprintf(err, errlen, "give one of --name and --sname, once");
    return -1;
  }
  if (!*v || strlen(v) > 255) {
    snprintf(err, errlen, "invalid node name '%s'", v);
    return -1;
  }
  cli->name = v;
  cli->short_names = short_names;
  return 0;
}

/* A TCP port 1..65535 given to option. */
static int set_port(int *out, const char *option, const char *v, char *err,
                    size_t errlen) {
  char *end;
  errno = 0;
  long n = strtol(v, &end, 10);
  if (errno || end == v || *end || n < 1 || n > 65535) {
    snprintf(err, errlen, "%s: expected a port 1..65535, got '%s'", option,
             v);
    return -1;
  }
  *out = (int)n;
  return 0;
}

static int set_interface(pga_cli_t *cli, const char *v, char *err,
                         size_t errlen) {
  unsigned char addr[sizeof(struct in6_addr)];
  if (inet_pton(AF_INET, v, addr) != 1 && inet_pton(AF_INET6, v, addr) != 1) {
    snprintf(err, errlen, "--dist-interface: '%s' is not an IPv4 or IPv6 "
             "address", v);
    return -1;
  }
  cli->dist_interface = v;
  return 0;
}

/* The port options together, as erl takes inet_dist_listen_min/max and
 * -erl_epmd_port: a range needs its start, and a fixed port without epmd
 * excludes a range. */
static int check_dist_ports(const pga_cli_t *cli, char *err, size_t errlen) {
  if (cli->dist_port && (cli->dist_port_min || cli->dist_port_max)) {
    snprintf(err, errlen, "--dist-port (no epmd) cannot be combined with "
             "--dist-port-min/--dist-port-max");
    return -1;
  }
  if (cli->dist_port_max && !cli->dist_port_min) {
    snprintf(err, errlen, "--dist-port-max needs --dist-port-min");
    return -1;
  }
  if (cli->dist_port_max && cli->dist_port_max < cli->dist_port_min) {
    snprintf(err, errlen, "--dist-port-max %d is below --dist-port-min %d",
             cli->dist_port_max, cli->dist_port_min);
    return -1;
  }
  return 0;
}

static int one_option(pga_cli_t *cli, int opt, const char *v,
                      const char **cookie, char *err, size_t errlen) {
  switch (opt) {
    case OPT_NAME: return set_name(cli, v, 0, err, errlen);
    case OPT_SNAME: return set_name(cli, v, 1, err, errlen);
    case OPT_COOKIE: *cookie = v; return 0;
    case OPT_DATA_DIR: cli->data_dir = v; return 0;
    case OPT_CONFIG: cli->config = v; return 0;
    case OPT_PLUGIN:
      if (cli->nplugins == PGA_MAX_PLUGINS) {
        snprintf(err, errlen, "at most %d --plugin options", PGA_MAX_PLUGINS);
        return -1;
      }
      cli->plugins[cli->nplugins++] = v;
      return 0;
    case OPT_LOG_LEVEL:
      if (pga_log_parse_level(v, &cli->log_level) == 0) return 0;
      snprintf(err, errlen, "unknown log level '%s'", v);
      return -1;
    case OPT_DIST_INTERFACE: return set_interface(cli, v, err, errlen);
    case OPT_DIST_PORT_MIN:
      return set_port(&cli->dist_port_min, "--dist-port-min", v, err, errlen);
    case OPT_DIST_PORT_MAX:
      return set_port(&cli->dist_port_max, "--dist-port-max", v, err, errlen);
    case OPT_DIST_PORT:
      return set_port(&cli->dist_port, "--dist-port", v, err, errlen);
    case OPT_HELP: cli->help = 1; return 0;
    case OPT_VERSION: cli->version = 1; return 0;
    case OPT_LOCAL: cli->local_services = 1; return 0;
    case OPT_NO_LOCAL: cli->local_services = 0; return 0;
    default:
      snprintf(err, errlen, "unknown option");
      return -1;
  }
}

int pga_cli_parse(int argc, char **argv, pga_cli_t *cli, char *err,
                  size_t errlen) {
  memset(cli, 0, sizeof *cli);
  cli->log_level = PGA_LOG_INFO;
  cli->local_services = -1;
  const char *cookie = NULL;
  opterr = 0;
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
    if (opt == '?') {
      snprintf(err, errlen, "unknown or incomplete option '%s'",
               argv[optind - 1]);
      return -1;
    }
    if (one_option(cli, opt, optarg, &cookie, err, errlen) != 0) return -1;
  }
  if (optind < argc) {
    snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
    return -1;
  }
  if (cli->help || cli->version) return 0;
  if (check_dist_ports(cli, err, errlen) != 0) return -1;
  if (!cli->name) {
    snprintf(err, errlen, "--name or --sname is required");
    return -1;
  }
  return pga_cli_cookie(cli, cookie, err, errlen);
}

/* erl's own rule for a missing ~/.erlang.cookie: 20 random capitals,
 * mode 0400. */
static char *create_cookie(const char *path, char *err, size_t errlen) {
  unsigned char raw[20];
  char *cookie = malloc(sizeof raw + 1);
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (!cookie || fd < 0 || read(fd, raw, sizeof raw) != sizeof raw) {
    if (fd >= 0) close(fd);
    free(cookie);
    snprintf(err, errlen, "cannot create a cookie");
    return NULL;
  }
  close(fd);
  for (size_t i = 0; i < sizeof raw; i++) cookie[i] = (char)('A' + raw[i] % 26);
  cookie[sizeof raw] = '\0';
  fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
  if (fd < 0 || write(fd, cookie, sizeof raw) != sizeof raw) {
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    free(cookie);
    return NULL;
  }
  close(fd);
  return cookie;
}

static char *read_cookie_file(char *err, size_t errlen) {
  const char *home = getenv("HOME");
  if (!home) {
    snprintf(err, errlen, "no cookie: give --cookie, PGA_COOKIE or HOME");
    return NULL;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/.erlang.cookie", home);
  FILE *f = fopen(path, "r");
  if (!f) return create_cookie(path, err, errlen);
  char buf[1025];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  buf[strcspn(buf, "\r\n")] = '\0';
  return strdup(buf);
}

int pga_cli_cookie(pga_cli_t *cli, const char *flag_value, char *err,
                   size_t errlen) {
  const char *env = getenv("PGA_COOKIE");
  if (flag_value)
    cli->cookie = strdup(flag_value);
  else if (env && *env)
    cli->cookie = strdup(env);
  else
    cli->cookie = read_cookie_file(err, errlen);
  if (!cli->cookie) return -1;
  if (strlen(cli->cookie) > 1024) {
    snprintf(err, errlen, "cookie longer than 1024 bytes");
    return -1;
  }
  return 0;
}

void pga_cli_free(pga_cli_t *cli) {
  free(cli->cookie);
  cli->cookie = NULL;
}
