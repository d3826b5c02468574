/* pga-node's command line: options, the cookie (as erl finds it), usage. */
#include "config.h"

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
       OPT_PLUGIN, OPT_LOG_LEVEL, OPT_HELP, OPT_VERSION };

static const struct option long_opts[] = {
    {"name", required_argument, NULL, OPT_NAME},
    {"sname", required_argument, NULL, OPT_SNAME},
    {"cookie", required_argument, NULL, OPT_COOKIE},
    {"data-dir", required_argument, NULL, OPT_DATA_DIR},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"plugin", required_argument, NULL, OPT_PLUGIN},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

void pga_cli_usage(FILE *out) {
  fputs("usage: pga-node (--name NAME@HOST | --sname NAME) [--cookie C]\n"
        "                [--data-dir DIR] [--config FILE] [--plugin PATH]...\n"
        "                [--log-level debug|info|warn|error] [--help] "
        "[--version]\n",
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
    case OPT_HELP: cli->help = 1; return 0;
    case OPT_VERSION: cli->version = 1; return 0;
    default:
      snprintf(err, errlen, "unknown option");
      return -1;
  }
}

int pga_cli_parse(int argc, char **argv, pga_cli_t *cli, char *err,
                  size_t errlen) {
  memset(cli, 0, sizeof *cli);
  cli->log_level = PGA_LOG_INFO;
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
