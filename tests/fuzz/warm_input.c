/* cw-warm's input: any line is a task or refused, and a plan of any
 * lines deduplicates to tasks with distinct keys. */
#include "fuzz.h"
#include "warm_int.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cw_warm_plan p = { 0 };
	const char *s = (const char *)data, *end = s + size;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t len = (size_t)((nl != NULL ? nl : end) - s);
		struct cw_warm_task t;

		if (cw_warm_parse_line(s, len, 2, &t, NULL) == CW_OK)
			FUZZ_ASSERT(t.klen > 0 && t.klen <= CW_KEY_MAX);
		(void)cw_warm_plan_line(&p, s, len, -1, 0, NULL);
		s += len + 1;
	}
	cw_warm_plan_finish(&p);
	for (size_t i = 0; i < p.n; i++)
		for (size_t j = i + 1; j < p.n && j < i + 64; j++)
			FUZZ_ASSERT(p.t[i].klen != p.t[j].klen ||
			    memcmp(p.t[i].key, p.t[j].key, p.t[i].klen) != 0);
	cw_warm_plan_free(&p);
	return 0;
}
