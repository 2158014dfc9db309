/*
 * oom.h: out of memory on demand, for a test binary linked with the
 * allocator wrapped (the Makefile's OOM_WRAP: -Wl,--wrap=malloc,...).
 * Include it in one file of the binary. While armed, the first
 * allocation made from a call path (the allocator's caller and two
 * frames above it) that has not failed yet fails; a caller repeats its
 * operation until a run goes through without a new path to fail, so
 * that every place the code allocates fails once.
 */
#ifndef CW_TEST_OOM_H
#define CW_TEST_OOM_H

#include <dlfcn.h>
#include <execinfo.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define OOM_PATHS_MAX 8192

/* The test process's own state: one armed run at a time. */
static struct {
	int armed;		/* failing allocations now */
	int fired;		/* this run has failed one */
	size_t npaths;
	uint64_t paths[OOM_PATHS_MAX];	/* failed already */
} oom;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);

/*
 * Is an allocator's caller (in frames) hiredis? hiredis 0.14 is not safe when its
 * own allocations fail: hi_malloc and kin abort the process
 * (HIREDIS_OOM_HANDLER), and redisBufferWrite keeps a NULL buffer when
 * sdsempty fails and crashes on the next write. Those are hiredis's to
 * fix, so what it allocates itself is never failed; the library's own
 * allocations around it are. Needs the binary's symbols (-rdynamic):
 * without them nothing is spared.
 */
static int
oom_in_hiredis(void *caller)
{
	static const char *const prefix[] = { "redis", "_redis", "__redis",
	    "sds", "hi_" };
	Dl_info di;

	if (dladdr(caller, &di) == 0 || di.dli_sname == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(prefix) / sizeof(prefix[0]); i++)
		if (strncmp(di.dli_sname, prefix[i], strlen(prefix[i])) == 0)
			return 1;
	return 0;
}

/* Should this allocation fail? Once a run, for a call path not failed
 * before. */
static int
oom_now(void)
{
	void *frames[4];
	uint64_t h = 1469598103934665603ULL;
	int n, spared;

	if (!oom.armed || oom.fired)
		return 0;
	oom.armed = 0;	/* backtrace and dladdr may allocate */
	n = backtrace(frames, 4);
	spared = 0;
	for (int i = 1; i < n && !spared; i++)	/* this file's frames too */
		spared = oom_in_hiredis(frames[i]);
	oom.armed = 1;
	if (spared)
		return 0;
	for (int i = 1; i < n; i++)
		h = (h ^ (uint64_t)(uintptr_t)frames[i]) * 1099511628211ULL;
	for (size_t i = 0; i < oom.npaths; i++)
		if (oom.paths[i] == h)
			return 0;
	if (oom.npaths == OOM_PATHS_MAX)
		return 0;
	oom.paths[oom.npaths++] = h;
	oom.fired = 1;
	return 1;
}

void *
__wrap_malloc(size_t n)
{
	return oom_now() ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t size)
{
	return oom_now() ? NULL : __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return oom_now() ? NULL : __real_realloc(p, n);
}

char *
__wrap_strdup(const char *s)
{
	return oom_now() ? NULL : __real_strdup(s);
}

/* Start a run: its first allocation of a new call path will fail. */
static inline void
oom_arm(void)
{
	oom.fired = 0;
	oom.armed = 1;
}

/* End a run: whether an allocation failed in it. */
static inline int
oom_disarm(void)
{
	oom.armed = 0;
	return oom.fired;
}

#endif /* CW_TEST_OOM_H */
