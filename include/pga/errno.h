/* pga error codes: one list drives the enum, pga_strerror and pga_err_name.
 * Append only; never renumber (codes travel in logs and plugin ABIs). */
#ifndef PGA_ERRNO_H
#define PGA_ERRNO_H

#define PGA_ERRNO_MAP(X)                                             \
  X(EINVAL, -1, "invalid argument")                                  \
  X(ENOMEM, -2, "out of memory")                                     \
  X(EBADTERM, -3, "malformed external term")                         \
  X(ETOOBIG, -4, "size limit exceeded")                              \
  X(ERANGE, -5, "value out of range")                                \
  X(ETYPE, -6, "term has another type")                              \
  X(ENOTFOUND, -7, "not found")                                      \
  X(EEXIST, -8, "already exists")                                    \
  X(ECONNRESET, -9, "connection lost")                               \
  X(ETIMEDOUT, -10, "timed out")                                     \
  X(EPROTO, -11, "protocol error")                                   \
  X(EAUTH, -12, "authentication failed")                             \
  X(ESYS, -13, "system call failed")                                 \
  X(ENODEDOWN, -14, "node is down")                                  \
  X(EAGAIN, -15, "try again")                                        \
  X(ECANCELED, -16, "canceled")                                      \
  X(EABI, -17, "incompatible ABI")                                   \
  X(EBUSY, -18, "busy")

typedef enum {
  PGA_OK = 0,
#define PGA_ERRNO_ENUM(name, value, text) PGA_##name = (value),
  PGA_ERRNO_MAP(PGA_ERRNO_ENUM)
#undef PGA_ERRNO_ENUM
} pga_errno_t;

#endif
