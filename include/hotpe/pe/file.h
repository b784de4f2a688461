/*
 * hotpe: reading a whole file into memory, the one way every tool and test does it.
 */
#ifndef HOTPE_FILE_H
#define HOTPE_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "hotpe/status.h"

/**
 * Read all of path into a malloc'd buffer (free() it). Works on files that cannot seek.
 * @param data  out: the bytes (NULL on failure)
 * @param size  out: their count
 * @param err   out (opt): the errno of a failed open or read, else 0
 * @return HP_OK, HP_E_IO, HP_E_NOMEM.
 */
hp_status hp_file_read(const char *path, uint8_t **data, size_t *size, int *err);

#endif
