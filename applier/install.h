/*
 * hotpe: patches installed for the whole machine (install.c, status.c), and what revert and
 * uninstall share with them (Windows builds only).
 */
#ifndef HOTPE_INSTALL_H
#define HOTPE_INSTALL_H

#ifdef _WIN32

#include <stddef.h>
#include <stdint.h>

#include "apply.h"
#include "json.h"

/**
 * Apply pf to the processes given (pids; NULL: every process that has its target loaded), as
 * `hotpe apply` does, each one's element into j (NULL: text). @return the exit code.
 */
int hp_install_apply_running(hp_apply_patch *pf, const uint32_t *pids, size_t npids, hp_json *j);

/**
 * After a patch of target with sequence `below` was reverted in the processes pids: the newest
 * installed patch of that target below it (except the file except, when not NULL) is applied
 * there again, and its name goes into live ("" when there is none).
 * @return the exit code of that apply (0 when there was none).
 */
int hp_install_restack(const char *target, uint32_t below, const uint8_t *except,
                       const uint32_t *pids, size_t npids, hp_json *j, char *live, size_t cap);

/**
 * Revert the patch named name in every process where it is live (revert.c), each one's element
 * into j (NULL: text lines), then restack (above). live: as hp_install_restack.
 * @return the exit code.
 */
int hp_revert_everywhere(const char *name, hp_json *j, char *live, size_t cap);

#endif /* _WIN32 */
#endif
