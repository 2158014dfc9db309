/* The configuration parser: any file is loaded or refused with a
 * message, and what it loads gives options the levels can open with. */
#include "fuzz.h"
#include "cfg_int.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cw_cfg *cfg = malloc(sizeof(*cfg));
	struct cw_l1_opts lo;
	struct cw_err e;
	int rc;

	FUZZ_ASSERT(cfg != NULL);
	rc = cw_cfg_load(cfg, fuzz_file("cw.conf", data, size), &e);
	if (rc == CW_OK) {
		cw_cfg_l1_opts(cfg, cw_clock_system(), &lo);
		FUZZ_ASSERT(lo.path != NULL && lo.max_entries > 0);
		(void)cw_cfg_template(cfg, "bars");
	} else {
		FUZZ_ASSERT(rc == CW_ECONFIG || rc == CW_EIO);
		FUZZ_ASSERT(e.msg[0] != '\0' && strchr(e.msg, '\n') == NULL);
	}
	free(cfg);
	return 0;
}
