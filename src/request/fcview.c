/* The building blocks' inputs read from a FunConfig (src/config/
 * funconfig.h), so the pipeline need not name each field. */
#include "config.h"

#include "config/funconfig.h"
#include "request/request_int.h"

void pga_request_args_input_of(const pga_funconfig_t *fc,
                               const pga_request_t *req,
                               const pga_args_limits_t *limits,
                               pga_args_input_t *in) {
  in->arg_types = pga_funconfig_get(fc, PGA_FC_ARG_TYPES);
  in->arg_orders = pga_funconfig_get(fc, PGA_FC_ARG_ORDERS);
  in->req = req;
  in->limits = limits;
}

void pga_request_perm_input_of(const pga_funconfig_t *fc,
                               const pga_request_t *req,
                               pga_perm_input_t *in) {
  in->check_permission = pga_funconfig_get(fc, PGA_FC_CHECK_PERMISSION);
  in->permission_callback = pga_funconfig_get(fc, PGA_FC_PERMISSION_CALLBACK);
  in->arg_orders = pga_funconfig_get(fc, PGA_FC_ARG_ORDERS);
  in->local = pga_funconfig_compiled(fc)->nodes == PGA_FC_NODES_LOCAL;
  in->req = req;
}
