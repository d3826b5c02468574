/* Validation (spec §2): FunConfig and PushConfig checks with the library's
 * exact messages and order, the MFA allow/deny lists, same_service?, and
 * the version and retry normalisations. Pure functions of their inputs. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "config/plane_int.h"
#include "pga/errno.h"

const char *const pga_fc_messages[PGA_FC_NCHECKS] = {
    "request_type must be a non-empty string",
    "service must not be nil",
    "nodes must be a valid list, MFA tuple, or :local",
    "choose_node_mode must be :random, :hash, {:hash, key}, :round_robin, "
    "or {:sticky, key}",
    "timeout must be a positive integer between 100 and 300000, or :infinity",
    "mfa must be a valid {module, function, args} tuple",
    "argument validation failed",
    "response_type must be :sync, :async, :stream, or :none",
    "check_permission must be false, :any_authenticated, {:arg, arg_name}, "
    "or {:role, roles}",
    "permission_callback must be nil or a valid {module, function, args} "
    "tuple",
    "request_info must be a boolean",
    "version must be a valid version string (e.g., '1.0.0')",
    "retry must be nil, a positive number, {:same_node, number}, or "
    "{:all_nodes, number}",
    "before_execute must be nil or a valid {module, function} or "
    "{module, function, args} tuple",
    "after_execute must be nil or a valid {module, function} or "
    "{module, function, args} tuple",
    "hook_timeout must be a positive integer"};

const char *const pga_pc_messages[PGA_PC_NCHECKS] = {
    "service must not be nil",
    "nodes must be a non-empty list of atoms or strings",
    "config_version must be a non-empty string",
    "fun_configs must be a non-empty list of FunConfig structs",
    "all fun_configs must have the same service name as the push config",
    "all fun_configs must have valid versions"};

/* The ten type atoms config validation accepts (§1.3). */
static const char *const arg_type_names[] = {
    "string", "num", "boolean", "list_string", "list_num",
    "list_uuid", "list_map", "map", "any", "uuid"};

static int atom_in(const pga_term_t *t, const char *const *set, size_t n) {
  return pga__atom_index(t, set, n) >= 0;
}

static int is_arg_type(const pga_term_t *t) {
  return atom_in(t, arg_type_names,
                 sizeof arg_type_names / sizeof *arg_type_names);
}

/* Every element satisfies pred; the list must be proper. */
static int all_elements(const pga_term_t *list,
                        int (*pred)(const pga_term_t *)) {
  pga_term_iter_t it;
  pga_term_t el;
  if (!pga__proper_list(list, NULL) || pga_term_iter_init(&it, list) != 0)
    return 0;
  while (pga_term_iter_next(&it, &el))
    if (!pred(&el)) return 0;
  return 1;
}

static int atom_or_binary(const pga_term_t *t) {
  return pga__is_atom(t) || pga__is_binary(t);
}

/* {atom, atom, list}: the shape of mfa and of an MFA node source. */
static int is_mfa(const pga_term_t *t) {
  pga_term_t el[3];
  return pga__tuple_of(t, 3, el) && pga__is_atom(&el[0]) &&
         pga__is_atom(&el[1]) && pga__is_list(&el[2]);
}

static int valid_nodes(const pga_term_t *t) {
  pga_term_iter_t it;
  pga_term_t el, tail;
  size_t n = 0;
  if (pga_term_is_atom(t, "local") || is_mfa(t)) return 1;
  /* a proper non-empty list of atoms and binaries, in one walk */
  if (!pga__is_list(t) || pga_term_iter_init(&it, t) != 0) return 0;
  while (pga_term_iter_next(&it, &el)) {
    if (!atom_or_binary(&el)) return 0;
    n++;
  }
  pga_term_iter_tail(&it, &tail);
  return n > 0 && pga_term_type(&tail) == PGA_T_NIL;
}

static int tagged_binary(const pga_term_t *t, const char *tag) {
  pga_term_t el[2];
  return pga__tuple_of(t, 2, el) && pga_term_is_atom(&el[0], tag) &&
         pga__is_binary(&el[1]);
}

static int valid_choose_node_mode(const pga_term_t *t) {
  static const char *const modes[] = {"random", "hash", "round_robin"};
  return atom_in(t, modes, 3) || tagged_binary(t, "hash") ||
         tagged_binary(t, "sticky");
}

/* Extended form: the first tuple whose first element is :type decides
 * (Keyword lookup semantics); it must be {:type, one_of_the_ten}. */
static int valid_keyword_spec(const pga_term_t *list) {
  pga_term_iter_t it;
  pga_term_t el, first;
  size_t arity;
  if (!pga__proper_list(list, NULL) || pga_term_iter_init(&it, list) != 0)
    return 0;
  while (pga_term_iter_next(&it, &el)) {
    if (pga_term_tuple_arity(&el, &arity) != 0 || arity == 0 ||
        pga_term_tuple_get(&el, 0, &first) != 0 ||
        !pga_term_is_atom(&first, "type"))
      continue;
    pga_term_t v;
    return arity == 2 && pga_term_tuple_get(&el, 1, &v) == 0 && is_arg_type(&v);
  }
  return 0;
}

static int valid_arg_spec(const pga_term_t *spec) {
  pga_term_t el[2];
  if (is_arg_type(spec)) return 1;
  if (pga__tuple_of(spec, 2, el)) return is_arg_type(&el[0]);
  if (pga__is_list(spec)) return valid_keyword_spec(spec);
  return 0;
}

static int all_specs_valid(const pga_term_t *types) {
  pga__map_iter_t it;
  pga_term_t k, v;
  if (pga__map_iter_init(&it, types) != 0) return 0;
  while (pga__map_iter_next(&it, &k, &v))
    if (!valid_arg_spec(&v)) return 0;
  return 1;
}

/* arg_orders as a list naming exactly the keys of types, once each.
 * O(n^2) in the number of names, bounded by the struct size caps. */
static int orders_match_keys(const pga_term_t *types, const pga_term_t *orders,
                             size_t size) {
  pga__map_iter_t mi;
  pga_term_iter_t it;
  pga_term_t name, v, tail;
  pga_term_t keys_s[32];
  unsigned char used_s[32];
  size_t n = 0, k = 0;
  int ok = 0;
  /* One view per key, so each name costs a scan of views, not a map walk;
   * a name's key is the first equal one (map_get's), and a second name
   * finding a used key is a repeated name. */
  pga_term_t *keys = size <= 32 ? keys_s : malloc(size * sizeof *keys);
  unsigned char *used = size <= 32 ? used_s : calloc(size, 1);
  if (!keys || !used) goto out;
  if (size <= 32) memset(used_s, 0, sizeof used_s);
  if (pga__map_iter_init(&mi, types) != 0) goto out;
  while (k < size && pga__map_iter_next(&mi, &keys[k], &v)) k++;
  if (pga_term_iter_init(&it, orders) != 0) goto out;
  while (pga_term_iter_next(&it, &name)) {
    size_t j = 0;
    if (++n > size) goto out;
    while (j < k && !pga__term_same(&keys[j], &name)) j++;
    if (j == k || used[j]) goto out;
    used[j] = 1;
  }
  pga_term_iter_tail(&it, &tail);
  ok = n == size && pga_term_type(&tail) == PGA_T_NIL;
out:
  if (keys != keys_s) free(keys);
  if (used != used_s) free(used);
  return ok;
}

/* The arg_types / arg_orders table of §1.3. */
static int valid_args(const pga_term_t *types, const pga_term_t *orders) {
  size_t size;
  int orders_empty = pga__is_nil(orders) || pga_term_type(orders) == PGA_T_NIL;
  if (pga__is_nil(types)) return orders_empty;
  if (pga_term_map_size(types, &size) != 0) return 0;
  if (size == 0) return orders_empty;
  if (!all_specs_valid(types)) return 0;
  if (pga_term_type(orders) == PGA_T_NIL || pga_term_is_atom(orders, "map"))
    return 1;
  return pga_term_type(orders) == PGA_T_LIST &&
         orders_match_keys(types, orders, size);
}

static int valid_check_permission(const pga_term_t *t) {
  pga_term_t el[2];
  if (pga_term_is_atom(t, "false") || pga_term_is_atom(t, "any_authenticated"))
    return 1;
  if (tagged_binary(t, "arg")) return 1;
  return pga__tuple_of(t, 2, el) && pga_term_is_atom(&el[0], "role") &&
         pga__is_list(&el[1]);
}

static int is_boolean(const pga_term_t *t) {
  static const char *const booleans[] = {"true", "false"};
  return atom_in(t, booleans, 2);
}

int pga_version_effective(const pga_term_t *v) {
  return pga__is_nonempty_binary(v) && !pga__binary_is(v, "0.0.0");
}

static int valid_version(const pga_term_t *v) {
  return pga__is_nil(v) || pga_version_effective(v);
}

static int valid_retry(const pga_term_t *t) {
  pga_term_t el[2];
  if (pga__is_nil(t)) return 1;
  if (pga__is_number(t)) return pga__number_positive(t);
  return pga__tuple_of(t, 2, el) &&
         (pga_term_is_atom(&el[0], "same_node") ||
          pga_term_is_atom(&el[0], "all_nodes")) &&
         pga__is_number(&el[1]) && pga__number_positive(&el[1]);
}

static int valid_hook_timeout(const pga_term_t *t) {
  pga_term_type_t ty = pga_term_type(t);
  return (ty == PGA_T_INTEGER || ty == PGA_T_BIGINT) &&
         pga__number_positive(t);
}

/* {atom, atom, list} from the compiled form (is_mfa's reading). */
static int call_is_mfa(const pga_funconfig_t *fc, const pga_fc_call_t *c) {
  if (c->arity != 3) return 0;
  pga_term_t a = pga_funconfig_slice(fc, c->a, c->a_len);
  return pga__is_list(&a);
}

/* is_optional_callback's reading, from the compiled form. */
static int call_optional(const pga_funconfig_t *fc, const pga_fc_call_t *c,
                         pga_fc_field_t field) {
  pga_term_t t = pga_funconfig_get(fc, field);
  return c->arity == 2 || call_is_mfa(fc, c) || pga__is_nil(&t);
}

/* The §2.1 checks; the compiled form (already built) answers the ones it
 * decides alone. */
unsigned pga__funconfig_validate(const pga_funconfig_t *fc) {
#define F(field) (tmp = pga_funconfig_get(fc, PGA_FC_##field), &tmp)
  const pga_fc_compiled_t *c = pga_funconfig_compiled(fc);
  pga_term_t tmp, types, orders;
  unsigned bad = 0;
  types = pga_funconfig_get(fc, PGA_FC_ARG_TYPES);
  orders = pga_funconfig_get(fc, PGA_FC_ARG_ORDERS);
  int ok[PGA_FC_NCHECKS] = {
      pga__is_nonempty_binary(F(REQUEST_TYPE)),
      !pga__is_nil(F(SERVICE)),
      valid_nodes(F(NODES)),
      valid_choose_node_mode(F(CHOOSE_NODE_MODE)),
      c->timeout == PGA_FC_TIMEOUT_INFINITY ||
          (c->timeout == PGA_FC_TIMEOUT_INT && c->timeout_ms >= 100 &&
           c->timeout_ms <= 300000),
      call_is_mfa(fc, &c->mfa),
      valid_args(&types, &orders),
      c->response != PGA_FC_RESP_OTHER,
      valid_check_permission(F(CHECK_PERMISSION)),
      call_optional(fc, &c->permission_callback, PGA_FC_PERMISSION_CALLBACK),
      is_boolean(F(REQUEST_INFO)),
      valid_version(F(VERSION)),
      valid_retry(F(RETRY)),
      call_optional(fc, &c->before, PGA_FC_BEFORE_EXECUTE),
      call_optional(fc, &c->after, PGA_FC_AFTER_EXECUTE),
      valid_hook_timeout(F(HOOK_TIMEOUT))};
#undef F
  for (unsigned i = 0; i < PGA_FC_NCHECKS; i++)
    if (!ok[i]) bad |= 1u << i;
  return bad;
}

void pga_messages_encode(pga_tb_t *tb, const char *const *msgs, unsigned mask,
                         unsigned n) {
  unsigned count = 0;
  for (unsigned i = 0; i < n; i++) count += (mask >> i) & 1u;
  pga_tb_list_head(tb, count);
  for (unsigned i = 0; i < n; i++)
    if (mask & (1u << i)) pga_tb_string(tb, msgs[i]);
  pga_tb_nil(tb);
}

int pga_same_service(const pga_term_t *a, const pga_term_t *b) {
  char ta[PGA_ATOM_BUF], tb[PGA_ATOM_BUF];
  const char *d;
  size_t n;
  int aa = pga__is_atom(a) && !pga__is_nil(a);
  int ba = pga__is_atom(b) && !pga__is_nil(b);
  if (pga__is_binary(a) && pga__is_binary(b)) return pga__term_same(a, b);
  if (aa && ba) return pga__term_same(a, b);
  if (aa && pga_term_get_binary(b, &d, &n) == 0)
    return pga_term_get_atom(a, ta, sizeof ta) == 0 && strlen(ta) == n &&
           memcmp(ta, d, n) == 0;
  if (ba && pga_term_get_binary(a, &d, &n) == 0)
    return pga_term_get_atom(b, tb, sizeof tb) == 0 && strlen(tb) == n &&
           memcmp(tb, d, n) == 0;
  return 0;
}

/* Every element of a proper fun_configs list decoded and satisfies pred
 * (vs the push's service). */
static int all_fun_configs(const pga_fc_scan_t *scan, const pga_term_t *svc,
                           int (*pred)(const pga_funconfig_t *,
                                       const pga_term_t *)) {
  if (!scan->proper || !scan->all_decoded) return 0;
  for (size_t i = 0; i < scan->nfcs; i++)
    if (!pred(scan->fcs[i], svc)) return 0;
  return 1;
}

static int fc_same_service(const pga_funconfig_t *fc, const pga_term_t *svc) {
  pga_term_t s = pga_funconfig_get(fc, PGA_FC_SERVICE);
  return pga_same_service(&s, svc);
}

/* Rule 6 of §2.2: invalid as a whole AND without a usable version. */
static int fc_version_ok(const pga_funconfig_t *fc, const pga_term_t *svc) {
  (void)svc;
  pga_term_t v = pga_funconfig_get(fc, PGA_FC_VERSION);
  return pga_funconfig_check(fc) == 0 || pga__is_nonempty_binary(&v);
}

unsigned pga_pushconfig_check(const pga__rec_t *pc) {
  pga_term_t fcs = pga__rec_get(pc, PGA_PC_FUN_CONFIGS);
  pga_fc_scan_t scan;
  unsigned bad;
  if (pga_fc_scan(&fcs, &scan) != 0) return (1u << PGA_PC_NCHECKS) - 1;
  bad = pga_pushconfig_check_scanned(pc, &scan);
  pga_fc_scan_free(&scan);
  return bad;
}

unsigned pga_pushconfig_check_scanned(const pga__rec_t *pc,
                                      const pga_fc_scan_t *scan) {
  pga_term_t svc = pga__rec_get(pc, PGA_PC_SERVICE);
  pga_term_t nodes = pga__rec_get(pc, PGA_PC_NODES);
  pga_term_t cv = pga__rec_get(pc, PGA_PC_CONFIG_VERSION);
  size_t n = 0;
  int ok[PGA_PC_NCHECKS] = {
      !pga__is_nil(&svc),
      pga__proper_list(&nodes, &n) && n > 0 &&
          all_elements(&nodes, atom_or_binary),
      pga__is_nonempty_binary(&cv),
      scan->proper && scan->n > 0 && scan->all_structs,
      all_fun_configs(scan, &svc, fc_same_service),
      all_fun_configs(scan, &svc, fc_version_ok)};
  unsigned bad = 0;
  for (unsigned i = 0; i < PGA_PC_NCHECKS; i++)
    if (!ok[i]) bad |= 1u << i;
  return bad;
}

int pga_funconfig_normalize_version(pga_funconfig_t *fc) {
  pga_term_t v = pga_funconfig_get(fc, PGA_FC_VERSION);
  if (pga__is_nil(&v) || pga_version_effective(&v)) return 0;
  return pga_funconfig_set(fc, PGA_FC_VERSION, &pga__t_nil);
}

int pga_funconfig_enforce_service(pga_funconfig_t *fc,
                                  const pga_term_t *expected) {
  pga_term_t s = pga_funconfig_get(fc, PGA_FC_SERVICE);
  if (pga_same_service(&s, expected)) return 0;
  return pga_funconfig_set(fc, PGA_FC_SERVICE, expected);
}

/* §2.3: always-denied modules win over any allowlist. */
int pga_mfa_allowed(const pga_term_t *mfa, const pga_term_t *allowlist) {
  static const char *const denied[] = {"os", "file", "code", "erlang",
                                       "net", "rpc", "global", "inet"};
  pga_term_t el[3], entry, pair[2];
  pga_term_iter_t it;
  if (!pga__tuple_of(mfa, 3, el)) return 0;
  if (atom_in(&el[0], denied, sizeof denied / sizeof *denied)) return 0;
  if (!allowlist) return 1;
  if (!pga__proper_list(allowlist, NULL) ||
      pga_term_iter_init(&it, allowlist) != 0)
    return 0;
  while (pga_term_iter_next(&it, &entry)) {
    if (pga_term_equal(&entry, &el[0])) return 1;
    if (pga__tuple_of(&entry, 2, pair) && pga_term_equal(&pair[0], &el[0]) &&
        pga_term_equal(&pair[1], &el[1]))
      return 1;
  }
  return 0;
}

/* trunc(n) of a positive number as an integer term. */
static void put_trunc(pga_tb_t *tb, const pga_term_t *n) {
  double d;
  if (pga_term_type(n) == PGA_T_FLOAT && pga_term_get_double(n, &d) == 0 &&
      d < 9.2e18 && d > -9.2e18)
    pga_tb_int(tb, (int64_t)d);
  else
    pga_tb_term(tb, n);
}

void pga_normalize_retry(pga_tb_t *tb, const pga_term_t *retry) {
  pga_term_t el[2];
  if (pga__is_number(retry)) {
    pga_tb_tuple(tb, 2);
    pga_tb_atom(tb, "all_nodes");
    put_trunc(tb, retry);
  } else if (pga__tuple_of(retry, 2, el) && pga__is_number(&el[1]) &&
             (pga_term_is_atom(&el[0], "same_node") ||
              pga_term_is_atom(&el[0], "all_nodes"))) {
    pga_tb_tuple(tb, 2);
    pga_tb_term(tb, &el[0]);
    put_trunc(tb, &el[1]);
  } else {
    pga_tb_term(tb, retry);
  }
}
