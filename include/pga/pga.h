/* Umbrella header: the whole public C API of pga. */
#ifndef PGA_PGA_H
#define PGA_PGA_H

#include "pga/version.h"
#include "pga/errno.h"
#include "pga/common.h"
#include "pga/term.h"
#include "pga/node.h"
#include "pga/plugin.h"

#endif
