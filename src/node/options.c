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
       OPT_NO_LOCAL, OPT_MAX_TERM, OPT_PROTO_DIST,
       OPT_SSL_DIST_OPTFILE, OPT_CHECK_DATA_DIR };

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
    {"max-term-bytes", required_argument, NULL, OPT_MAX_TERM},
    {"proto-dist", required_argument, NULL, OPT_PROTO_DIST},
    {"ssl-dist-optfile", required_argument, NULL, OPT_SSL_DIST_OPTFILE},
    {"check-data-dir", required_argument, NULL, OPT_CHECK_DATA_DIR},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {"local-services", no_argument, NULL, OPT_LOCAL},
    {"no-local-services", no_argument, NULL, OPT_NO_LOCAL},
    {NULL, 0, NULL, 0},
};

void pga_cli_usage(FILE *out) {
  fputs("usage: pga-node (--name NAME@HOST | --sname NAME) [--cookie C]\n"
        "                [--data-dir DIR] [--config FILE] [--plugin PATH]...\n"
        "                [--[no-]local-services] "
        "[--log-level debug|info|warn|error]\n"
        "                [--dist-interface ADDR] [--dist-port-min N "
        "[--dist-port-max M]]\n"
        "                [--dist-port N] [--max-term-bytes N[k|m]]\n"
        "                [--proto-dist inet_tcp|inet_tls] "
        "[--ssl-dist-optfile FILE]\n"
        "                [-h|--help] [-V|--version]\n"
        "       pga-node --check-data-dir DIR\n",
        out);
}

void pga_cli_help(FILE *out) {
  pga_cli_usage(out);
  fputs(
      "\n"
      "PhoenixGenApi's gateway as an Erlang C node: joins the cluster as a\n"
      "hidden node and serves the library's config plane, executor and\n"
      "operator API, and C plugins. Prints \"pga-node ready NAME@HOST\" on\n"
      "stdout once it serves; logs go to stderr.\n"
      "\n"
      "Options:\n"
      "  --name NAME@HOST     long node name, as erl -name (NAME alone: this\n"
      "                       host's fully qualified name is added)\n"
      "  --sname NAME         short node name, as erl -sname\n"
      "  --cookie C           the distribution cookie\n"
      "  --data-dir DIR       keep the config store, pushes and puller\n"
      "                       registrations in DIR (created if missing)\n"
      "  --config FILE        JSON configuration: the library's settings\n"
      "                       under its names (see pga-node(1))\n"
      "  --plugin PATH        load a C plugin before serving (repeat for\n"
      "                       more, up to 64)\n"
      "  --local-services     store the plugins' FunConfigs in this gateway\n"
      "                       as nodes: :local configs (the default)\n"
      "  --no-local-services  do not (overrides local_services of --config)\n"
      "  --log-level LEVEL    debug, info (default), warn or error\n"
      "  --dist-interface ADDR\n"
      "                       listen for distribution on this address only\n"
      "                       (IPv4 or IPv6 literal; default 0.0.0.0)\n"
      "  --dist-port-min N, --dist-port-max M\n"
      "                       listen on the first free port of N..M\n"
      "                       (published through epmd)\n"
      "  --dist-port N        no epmd: listen on N and reach every peer on\n"
      "                       port N of its host (as erl -erl_epmd_port N)\n"
      "  --max-term-bytes N   the largest term a message may carry, in bytes\n"
      "                       (k, m: KiB, MiB; 64k..512m, default 64m):\n"
      "                       bigger arguments are refused with badarg\n"
      "  --proto-dist inet_tcp|inet_tls\n"
      "                       the distribution over plain TCP (default) or\n"
      "                       TLS, as erl -proto_dist\n"
      "  --ssl-dist-optfile FILE\n"
      "                       TLS settings: the file BEAM nodes take with\n"
      "                       -ssl_dist_optfile ([{server, Opts}, {client,\n"
      "                       Opts}].)\n"
      "  --check-data-dir DIR report what DIR's snapshot and journal hold and\n"
      "                       what is damaged, change nothing, exit 0 clean,\n"
      "                       1 damaged, 2 unreadable (no other option needed)\n"
      "  -h, --help           this text, then exit\n"
      "  -V, --version        the version, then exit\n"
      "\n"
      "Environment:\n"
      "  PGA_COOKIE           the cookie when --cookie is not given\n"
      "  ERL_EPMD_PORT        epmd's port (default 4369); with no epmd\n"
      "                       answering, pga-node starts one (epmd -daemon)\n"
      "  NOTIFY_SOCKET        set by systemd (Type=notify): READY=1 is sent\n"
      "                       there once the node serves\n"
      "\n"
      "Files:\n"
      "  ~/.erlang.cookie     the cookie when neither --cookie nor PGA_COOKIE\n"
      "                       is given (created as erl creates it)\n"
      "  DIR/config.snapshot, DIR/config.journal, DIR/config.lock\n"
      "                       the durable state of --data-dir DIR\n"
      "\n"
      "Exit status: 0 after SIGTERM/SIGINT, 1 when the node cannot start,\n"
      "2 for a usage or configuration error. See pga-node(1).\n",
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

/* N, Nk or Nm (KiB, MiB) within PGA_MAX_TERM_MIN..PGA_MAX_TERM_MAX. */
static int set_max_term(pga_cli_t *cli, const char *v, char *err,
                        size_t errlen) {
  char *end;
  errno = 0;
  unsigned long long n = strtoull(v, &end, 10);
  unsigned long long unit = 1;
  if (*end == 'k' || *end == 'K') unit = 1024, end++;
  else if (*end == 'm' || *end == 'M') unit = 1024 * 1024, end++;
  if (errno || end == v || *end || v[0] == '-' || n > PGA_MAX_TERM_MAX ||
      n * unit < PGA_MAX_TERM_MIN || n * unit > PGA_MAX_TERM_MAX) {
    snprintf(err, errlen,
             "invalid --max-term-bytes '%s' (want %zu..%zu bytes, or "
             "with a k or m suffix)",
             v, PGA_MAX_TERM_MIN, PGA_MAX_TERM_MAX);
    return -1;
  }
  cli->max_term_bytes = (size_t)(n * unit);
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
    case OPT_MAX_TERM: return set_max_term(cli, v, err, errlen);
    case OPT_HELP: case 'h': cli->help = 1; return 0;
    case OPT_VERSION: case 'V': cli->version = 1; return 0;
    case OPT_LOCAL: cli->local_services = 1; return 0;
    case OPT_PROTO_DIST:
      if (strcmp(v, "inet_tcp") && strcmp(v, "inet_tls")) {
        snprintf(err, errlen, "--proto-dist: '%s' is not inet_tcp or inet_tls",
                 v);
        return -1;
      }
      cli->proto_dist = v;
      return 0;
    case OPT_SSL_DIST_OPTFILE: cli->ssl_dist_optfile = v; return 0;
    case OPT_NO_LOCAL: cli->local_services = 0; return 0;
    case OPT_CHECK_DATA_DIR: cli->check_data_dir = v; return 0;
    default:
      snprintf(err, errlen, "unknown option");
      return -1;
  }
}

/* --name NAME without a host: as erl -name, this host's fully qualified
 * name is added, and a host name without a domain is refused. */
static int long_name_host(pga_cli_t *cli, char *err, size_t errlen) {
  char host[256] = "";
  if (gethostname(host, sizeof host - 1) != 0 || !strchr(host, '.')) {
    snprintf(err, errlen,
             "--name %s: this host's name \"%s\" is not fully qualified, "
             "so there is no long node name (erl -name refuses it too); "
             "give --name %s@HOST (e.g. %s@127.0.0.1) or --sname %s",
             cli->name, host, cli->name, cli->name, cli->name);
    return -1;
  }
  snprintf(cli->name_buf, sizeof cli->name_buf, "%s@%s", cli->name, host);
  cli->name = cli->name_buf;
  cli->host_chosen = 1;
  return 0;
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
  while ((opt = getopt_long(argc, argv, "hV", long_opts, NULL)) != -1) {
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
  if (cli->help || cli->version || cli->check_data_dir) return 0;
  if (check_dist_ports(cli, err, errlen) != 0) return -1;
  if (!cli->name) {
    snprintf(err, errlen, "--name or --sname is required");
    return -1;
  }
  if (!cli->short_names && !strchr(cli->name, '@') &&
      long_name_host(cli, err, errlen) != 0)
    return -1;
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

static char *read_cookie_file(pga_cli_t *cli, char *err, size_t errlen) {
  const char *home = getenv("HOME");
  if (!home) {
    snprintf(err, errlen, "no cookie: give --cookie, PGA_COOKIE or HOME");
    return NULL;
  }
  char *path = cli->cookie_path;
  snprintf(path, sizeof cli->cookie_path, "%s/.erlang.cookie", home);
  FILE *f = fopen(path, "r");
  cli->cookie_source = f ? PGA_COOKIE_FILE : PGA_COOKIE_CREATED;
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
  if (flag_value) {
    cli->cookie = strdup(flag_value);
    cli->cookie_source = PGA_COOKIE_FLAG;
  } else if (env && *env) {
    cli->cookie = strdup(env);
    cli->cookie_source = PGA_COOKIE_ENV;
  } else {
    cli->cookie = read_cookie_file(cli, err, errlen);
  }
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
