/*
 * journal_int.h: the journal's record reader, shared by the run loader
 * and the summary (journal.c) and the fuzzer. Programs read runs with
 * cw_journal_load_run and cw_journal_summary.
 */
#ifndef CW_JOURNAL_INT_H
#define CW_JOURNAL_INT_H

#include "cw.h"

/* fn gets each valid record's fields (unescaped, NUL-terminated, valid
 * during the call); nonzero stops. CW_ENOTFOUND when there is no
 * journal. */
typedef int cw_journal_fn(void *ctx, const char *const *fields,
    const size_t *lens, size_t n);
int cw_journal_read(const char *path, cw_journal_fn *fn, void *ctx,
    struct cw_journal_counts *counts, struct cw_err *err);

#endif /* CW_JOURNAL_INT_H */
