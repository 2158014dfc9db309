/*
 * cfg_int.h: the query templates' packed form, shared by cfg.c, which
 * builds it, and the ClickHouse source, which keeps a copy of it.
 */
#ifndef CW_CFG_INT_H
#define CW_CFG_INT_H

#include <stddef.h>

#include "cw.h"

/* In "type\0template\0type\0template\0..." of len bytes, the template of
 * type, or NULL. */
const char *cw_cfg_templates_find(const char *packed, size_t len,
    const char *type);

/* ---- a configuration's templates ---- */

/* The query template configured for a key type, or NULL. */
const char *cw_cfg_template(const struct cw_cfg *cfg, const char *type);

#endif /* CW_CFG_INT_H */
