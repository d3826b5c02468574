/* Stub: limiter area of the ops plane (to be written). */
#include "ops/ops_int.h"

static const pga_ops_fn_def_t fns[] = {{NULL, NULL, 0, NULL, 0}};

const pga_ops_area_t pga_ops_area_limiter = {"limiter", fns, NULL, NULL};
