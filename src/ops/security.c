/* PhoenixGenApi.Security (ops-plane.md §8): the fail-closed admin gate,
 * push-token and MFA checks served over RPC. */
#include "base/log.h"
#include "config/file.h"
#include "ops/ops_int.h"

static const char *action_name(unsigned bit) {
  switch (bit) {
    case PGA_ADMIN_CHANGE_DETAIL_ERROR: return "change_detail_error";
    case PGA_ADMIN_UPDATE_RATE_LIMIT_CONFIG: return "update_rate_limit_config";
    case PGA_ADMIN_PUSH_CONFIG: return "push_config";
    case PGA_ADMIN_ENABLE_TRACING: return "enable_tracing";
    case PGA_ADMIN_DISABLE_TRACING: return "disable_tracing";
    default: return "?";
  }
}

int pga__ops_admin_allowed(pga_ops_t *ops, unsigned action_bit) {
  int ok = (ops->admin_actions & action_bit) != 0;
  if (ok)
    pga_log(PGA_LOG_INFO, "[Security] admin action allowed: %s",
            action_name(action_bit));
  else
    pga_log(PGA_LOG_WARN, "[Security] admin action denied: %s",
            action_name(action_bit));
  return ok;
}

static const pga_ops_fn_def_t fns[] = {{NULL, NULL, 0, NULL, 0}};

const pga_ops_area_t pga_ops_area_security = {"security", fns, NULL, NULL};
