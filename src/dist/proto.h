/* Wire numbers of the Erlang distribution protocol (version 6), each with
 * the spec section (../shared/spec/distribution.md) or OTP release. */
#ifndef PGA_DIST_PROTO_H
#define PGA_DIST_PROTO_H

#include <stdint.h>

/* epmd (§2) */
#define EPMD_DEFAULT_PORT 4369
#define EPMD_ALIVE2_REQ 120
#define EPMD_ALIVE2_RESP 121      /* ancient epmd: 16-bit creation */
#define EPMD_ALIVE2_X_RESP 118    /* OTP 23+: 32-bit creation */
#define EPMD_PORT_PLEASE2_REQ 122
#define EPMD_PORT2_RESP 119
#define EPMD_NODE_HIDDEN 72
#define EPMD_NODE_NORMAL 77
#define EPMD_PROTO_TCP4 0
#define DIST_VERSION 6

/* Capability flags (§4), with the release that made them mandatory. */
#define DFLAG_PUBLISHED            UINT64_C(0x1)
#define DFLAG_ATOM_CACHE           UINT64_C(0x2)
#define DFLAG_EXTENDED_REFERENCES  UINT64_C(0x4)        /* OTP 25 */
#define DFLAG_DIST_MONITOR         UINT64_C(0x8)
#define DFLAG_FUN_TAGS             UINT64_C(0x10)       /* OTP 25 */
#define DFLAG_DIST_MONITOR_NAME    UINT64_C(0x20)
#define DFLAG_HIDDEN_ATOM_CACHE    UINT64_C(0x40)
#define DFLAG_NEW_FUN_TAGS         UINT64_C(0x80)       /* OTP 25 */
#define DFLAG_EXTENDED_PIDS_PORTS  UINT64_C(0x100)      /* OTP 25 */
#define DFLAG_EXPORT_PTR_TAG       UINT64_C(0x200)      /* OTP 25 */
#define DFLAG_BIT_BINARIES         UINT64_C(0x400)      /* OTP 25 */
#define DFLAG_NEW_FLOATS           UINT64_C(0x800)      /* OTP 25 */
#define DFLAG_UNICODE_IO           UINT64_C(0x1000)
#define DFLAG_DIST_HDR_ATOM_CACHE  UINT64_C(0x2000)
#define DFLAG_SMALL_ATOM_TAGS      UINT64_C(0x4000)
#define DFLAG_UTF8_ATOMS           UINT64_C(0x10000)    /* OTP 25 */
#define DFLAG_MAP_TAG              UINT64_C(0x20000)    /* OTP 25 */
#define DFLAG_BIG_CREATION         UINT64_C(0x40000)    /* OTP 25 */
#define DFLAG_SEND_SENDER          UINT64_C(0x80000)
#define DFLAG_BIG_SEQTRACE_LABELS  UINT64_C(0x100000)
#define DFLAG_EXIT_PAYLOAD         UINT64_C(0x400000)
#define DFLAG_FRAGMENTS            UINT64_C(0x800000)
#define DFLAG_HANDSHAKE_23         UINT64_C(0x1000000)  /* OTP 25 */
#define DFLAG_UNLINK_ID            UINT64_C(0x2000000)  /* OTP 26 */
#define DFLAG_MANDATORY_25_DIGEST  UINT64_C(0x4000000)  /* shorthand */
#define DFLAG_SPAWN                (UINT64_C(1) << 32)  /* needed by rpc */
#define DFLAG_NAME_ME              (UINT64_C(1) << 33)
#define DFLAG_V4_NC                (UINT64_C(1) << 34)  /* OTP 26 */
#define DFLAG_ALIAS                (UINT64_C(1) << 35)
#define DFLAG_ALTACT_SIG           (UINT64_C(1) << 37)  /* OTP 28, unused */

/* OTP 25's mandatory set; MANDATORY_25_DIGEST stands for all of it. */
#define DFLAG_MANDATORY_25                                                   \
  (DFLAG_EXTENDED_REFERENCES | DFLAG_FUN_TAGS | DFLAG_EXTENDED_PIDS_PORTS |  \
   DFLAG_NEW_FUN_TAGS | DFLAG_EXPORT_PTR_TAG | DFLAG_BIT_BINARIES |          \
   DFLAG_NEW_FLOATS | DFLAG_UTF8_ATOMS | DFLAG_MAP_TAG | DFLAG_BIG_CREATION | \
   DFLAG_HANDSHAKE_23)
/* What pga requires of a peer: the OTP 25 set. SPAWN is wanted but not
 * required, so that ei-based peers (erl_call) can still use rex; calls
 * to such peers go through rex (docs/compat.md). */
#define DFLAG_PGA_REQUIRED DFLAG_MANDATORY_25
/* What pga offers (§4 "yes" rows): 0xD074F5FBC. Never PUBLISHED. */
#define DFLAG_PGA_OFFERED                                                    \
  (DFLAG_MANDATORY_25 | DFLAG_DIST_MONITOR | DFLAG_DIST_MONITOR_NAME |       \
   DFLAG_UNICODE_IO | DFLAG_SMALL_ATOM_TAGS | DFLAG_SEND_SENDER |            \
   DFLAG_EXIT_PAYLOAD | DFLAG_UNLINK_ID | DFLAG_MANDATORY_25_DIGEST |        \
   DFLAG_SPAWN | DFLAG_V4_NC | DFLAG_ALIAS)

/* Handshake message tags (§3). */
#define HS_NAME_V6 'N'
#define HS_NAME_V5 'n'     /* refused */
#define HS_STATUS 's'
#define HS_CHALLENGE_REPLY 'r'
#define HS_CHALLENGE_ACK 'a'
#define HS_COMPLEMENT 'c'  /* refused */

/* After the handshake every packet is Length:32 then 'p' + terms (§5). */
#define DIST_PASS_THROUGH 112

/* Control message operations (§8). */
enum {
  DOP_LINK = 1,
  DOP_SEND = 2,
  DOP_EXIT = 3,
  DOP_UNLINK = 4,
  DOP_REG_SEND = 6,
  DOP_GROUP_LEADER = 7,
  DOP_EXIT2 = 8,
  DOP_SEND_TT = 12,
  DOP_EXIT_TT = 13,
  DOP_REG_SEND_TT = 16,
  DOP_EXIT2_TT = 18,
  DOP_MONITOR_P = 19,
  DOP_DEMONITOR_P = 20,
  DOP_MONITOR_P_EXIT = 21,
  DOP_SEND_SENDER = 22,
  DOP_SEND_SENDER_TT = 23,
  DOP_PAYLOAD_EXIT = 24,
  DOP_PAYLOAD_EXIT_TT = 25,
  DOP_PAYLOAD_EXIT2 = 26,
  DOP_PAYLOAD_EXIT2_TT = 27,
  DOP_PAYLOAD_MONITOR_P_EXIT = 28,
  DOP_SPAWN_REQUEST = 29,
  DOP_SPAWN_REQUEST_TT = 30,
  DOP_SPAWN_REPLY = 31,
  DOP_SPAWN_REPLY_TT = 32,
  DOP_ALIAS_SEND = 33,
  DOP_ALIAS_SEND_TT = 34,
  DOP_UNLINK_ID = 35,
  DOP_UNLINK_ID_ACK = 36
};

/* SPAWN_REPLY flags (§10.2). */
#define SPAWN_REPLY_LINK 0x1
#define SPAWN_REPLY_MONITOR 0x2

#endif
