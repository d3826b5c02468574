/* pga version numbers, at compile time and at run time. */
#ifndef PGA_VERSION_H
#define PGA_VERSION_H

#define PGA_VERSION_MAJOR 0
#define PGA_VERSION_MINOR 1
#define PGA_VERSION_PATCH 0
#define PGA_VERSION_STRING "0.1.0"

/* 0xMMmmpp, so versions compare as numbers. */
#define PGA_VERSION_HEX \
  ((PGA_VERSION_MAJOR << 16) | (PGA_VERSION_MINOR << 8) | PGA_VERSION_PATCH)
#define PGA_VERSION_AT_LEAST(maj, min, pat) \
  (PGA_VERSION_HEX >= (((maj) << 16) | ((min) << 8) | (pat)))

#endif
