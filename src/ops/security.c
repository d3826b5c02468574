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

static const struct {
  const char *atom;
  unsigned bit;
} actions[] = {{"change_detail_error", PGA_ADMIN_CHANGE_DETAIL_ERROR},
               {"update_rate_limit_config", PGA_ADMIN_UPDATE_RATE_LIMIT_CONFIG},
               {"push_config", PGA_ADMIN_PUSH_CONFIG},
               {"enable_tracing", PGA_ADMIN_ENABLE_TRACING},
               {"disable_tracing", PGA_ADMIN_DISABLE_TRACING}};

/* admin_action_allowed?/1: only the five known actions pass the guard. */
static pga_outcome_t fn_admin_action_allowed(pga_ops_t *ops, pga_call_t *call,
                                             const pga_term_t *argv,
                                             pga_tb_t *out) {
  (void)call;
  for (size_t i = 0; i < sizeof actions / sizeof *actions; i++)
    if (pga_term_is_atom(&argv[0], actions[i].atom)) {
      pga_tb_bool(out, pga__ops_admin_allowed(ops, actions[i].bit));
      return PGA_RETURN;
    }
  return pga__ops_function_clause(out);
}

/* valid_push_token?/1 (§8.3); without a config plane no token is set. */
static pga_outcome_t fn_valid_push_token(pga_ops_t *ops, pga_call_t *call,
                                         const pga_term_t *argv,
                                         pga_tb_t *out) {
  (void)call;
  int ok = ops->cfg ? pga_config_push_token_valid(ops->cfg, &argv[0])
                    : pga_term_is_atom(&argv[0], "nil") ||
                          pga_term_type(&argv[0]) == PGA_T_BINARY;
  pga_tb_bool(out, ok);
  return PGA_RETURN;
}

/* validate_mfa/1 (§8.4): :ok or {:error, {:mfa_not_allowed, x}}. */
static pga_outcome_t fn_validate_mfa(pga_ops_t *ops, pga_call_t *call,
                                     const pga_term_t *argv, pga_tb_t *out) {
  (void)call;
  /* No config plane: fail closed (pga-node always has one). */
  if (ops->cfg && pga_config_mfa_valid(ops->cfg, &argv[0]))
    return pga__ops_ok(out);
  pga_log(PGA_LOG_WARN, "[Security] MFA denied");
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, "error");
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, "mfa_not_allowed");
  pga_tb_term(out, &argv[0]);
  return PGA_RETURN;
}

static const pga_ops_fn_def_t fns[] = {
    {PGA_OPS_MOD_SECURITY, "admin_action_allowed?", 1,
     fn_admin_action_allowed, PGA_FN_INLINE},
    {PGA_OPS_MOD_SECURITY, "valid_push_token?", 1, fn_valid_push_token,
     PGA_FN_INLINE},
    {PGA_OPS_MOD_SECURITY, "validate_mfa", 1, fn_validate_mfa, PGA_FN_INLINE},
    {NULL, NULL, 0, NULL, 0}};

const pga_ops_area_t pga_ops_area_security = {"security", fns, NULL, NULL};
