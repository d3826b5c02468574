/* Text of the pool and config-plane shell helpers (pools.c,
 * failed_print.c; ops-plane.md §5), apart from serving so unit tests can
 * check it. Each appends its block to t; those reading foreign terms
 * return -1 with the exception the library raises written to raised (the
 * lines before it stay). */
#ifndef PGA_OPS_PRINT_INT_H
#define PGA_OPS_PRINT_INT_H

#include "ops/render.h"
#include "request/plane.h"

/* pool_status(). */
void pga__ops_pool_text(pga_ops_text_t *t, const pga_pool_status_t *async,
                        const pga_pool_status_t *stream);
/* cache_status(): ConfigDb.count() and get_all_services() results. */
void pga__ops_cache_text(pga_ops_text_t *t, const pga_term_t *count,
                         const pga_term_t *services);
/* failed_configs_print(opts) over ConfigFailed.list(opts)'s entries. */
int pga__ops_failed_text(pga_ops_text_t *t, const pga_term_t *opts,
                         const pga_term_t *entries, pga_tb_t *raised);
/* failed_configs_summary() over ConfigFailed.summary(). */
int pga__ops_failed_summary_text(pga_ops_text_t *t,
                                 const pga_term_t *summary,
                                 pga_tb_t *raised);

#endif
