/* pga-node's command line: parsing, the cookie, and usage text. */
#ifndef PGA_NODE_OPTIONS_H
#define PGA_NODE_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "base/log.h"

#define PGA_MAX_PLUGINS 64
/* --max-term-bytes and the config key max_term_bytes accept this range. */
#define PGA_MAX_TERM_MIN ((size_t)64 * 1024)
#define PGA_MAX_TERM_MAX ((size_t)512 * 1024 * 1024)

/* Where the cookie came from (the start-up summary says it). */
typedef enum {
  PGA_COOKIE_FLAG,    /* --cookie */
  PGA_COOKIE_ENV,     /* PGA_COOKIE */
  PGA_COOKIE_FILE,    /* ~/.erlang.cookie */
  PGA_COOKIE_CREATED  /* ~/.erlang.cookie, created now */
} pga_cookie_source_t;

typedef struct pga_cli_s {
  const char *name;         /* --name or --sname value (with its host) */
  int short_names;
  char *cookie;             /* owned */
  pga_cookie_source_t cookie_source;
  char cookie_path[4096];   /* the file, for the FILE sources */
  int host_chosen;          /* --name NAME: pga-node added this host's name */
  char name_buf[512];       /* name with the chosen host */
  const char *data_dir;
  const char *config;
  const char *plugins[PGA_MAX_PLUGINS];
  size_t nplugins;
  pga_log_level_t log_level;
  size_t max_term_bytes;    /* --max-term-bytes; 0 = not given */
  const char *proto_dist;   /* --proto-dist inet_tcp | inet_tls */
  const char *ssl_dist_optfile;
  const char *check_data_dir; /* --check-data-dir DIR: report and exit */
  int help, version;
  /* The distribution's network surface (0/NULL = not given). */
  const char *dist_interface;  /* IPv4 or IPv6 literal */
  int dist_port_min, dist_port_max;
  int dist_port;               /* without epmd */
  int local_services;       /* 1 / 0 from the flags, -1: the file decides */
} pga_cli_t;

/* 0, or -1 with err filled (usage error, exit status 2). */
int pga_cli_parse(int argc, char **argv, pga_cli_t *cli, char *err,
                  size_t errlen);
/* --cookie, else PGA_COOKIE, else ~/.erlang.cookie (created as erl does
 * when missing). 0 or -1 with err filled. */
int pga_cli_cookie(pga_cli_t *cli, const char *flag_value, char *err,
                   size_t errlen);
/* The one-line synopsis (after a usage error). */
void pga_cli_usage(FILE *out);
/* --help: every option, the environment, the files. */
void pga_cli_help(FILE *out);
void pga_cli_free(pga_cli_t *cli);

#endif
