/*
 * fault.h: out of memory and failing system calls on demand, for a test
 * binary linked with the allocator and the calls wrapped (the Makefile's
 * FAULT_WRAP: -Wl,--wrap=malloc,...). Include it in one file of the
 * binary. While armed for a kind of fault, the first call of that kind
 * made from a call path (the caller and four frames above it) that has
 * not failed yet fails: an allocation answers NULL, a write, fsync or
 * posix_fallocate ENOSPC (a full disk), any other call EIO. A caller
 * repeats its operation until a run goes through without a new path to
 * fail, so that every place the code allocates, or calls the system,
 * fails once.
 */
#ifndef CW_TEST_FAULT_H
#define CW_TEST_FAULT_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dlfcn.h>
#include <execinfo.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FAULT_PATHS_MAX 8192
#define FAULT_ALLOC 0x1u	/* malloc, calloc, realloc, strdup */
#define FAULT_IO 0x2u		/* open, read, write, fsync, mmap... */

/* The test process's own state: one armed run at a time. */
static struct {
	unsigned armed;		/* the kinds failing now */
	int fired;		/* this run has failed one */
	size_t npaths;
	uint64_t paths[FAULT_PATHS_MAX];	/* failed already */
} fault;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);

/*
 * Is an allocator's caller (in frames) hiredis? hiredis 0.14 is not safe
 * when its own allocations fail: hi_malloc and kin abort the process
 * (HIREDIS_OOM_HANDLER), and redisBufferWrite keeps a NULL buffer when
 * sdsempty fails and crashes on the next write. Those are hiredis's to
 * fix, so what it allocates itself is never failed; the library's own
 * allocations around it are. Needs the binary's symbols (-rdynamic):
 * without them nothing is spared.
 */
static int
fault_in_hiredis(void *caller)
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

/* Should this call, of kind, fail? Once a run, for a call path not
 * failed before. */
static int
fault_now(unsigned kind)
{
	void *frames[6];
	uint64_t h = 1469598103934665603ULL ^ kind;
	unsigned armed = fault.armed;
	int n, spared;

	if (!(armed & kind) || fault.fired)
		return 0;
	fault.armed = 0;	/* backtrace and dladdr allocate, and read */
	n = backtrace(frames, 6);
	spared = 0;
	for (int i = 1; i < n && !spared; i++)	/* this file's frames too */
		spared = fault_in_hiredis(frames[i]);
	fault.armed = armed;
	if (spared)
		return 0;
	for (int i = 1; i < n; i++)
		h = (h ^ (uint64_t)(uintptr_t)frames[i]) * 1099511628211ULL;
	for (size_t i = 0; i < fault.npaths; i++)
		if (fault.paths[i] == h)
			return 0;
	if (fault.npaths == FAULT_PATHS_MAX)
		return 0;
	fault.paths[fault.npaths++] = h;
	fault.fired = 1;
	return 1;
}

void *
__wrap_malloc(size_t n)
{
	return fault_now(FAULT_ALLOC) ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t size)
{
	return fault_now(FAULT_ALLOC) ? NULL : __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return fault_now(FAULT_ALLOC) ? NULL : __real_realloc(p, n);
}

char *
__wrap_strdup(const char *s)
{
	return fault_now(FAULT_ALLOC) ? NULL : __real_strdup(s);
}

/* ---- the system calls ---- */

int __real_open(const char *path, int flags, ...);
ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __real_pread(int fd, void *buf, size_t n, off_t at);
ssize_t __real_write(int fd, const void *buf, size_t n);
int __real_fsync(int fd);
int __real_posix_fallocate(int fd, off_t at, off_t n);
int __real_fstat(int fd, struct stat *st);
int __real_flock(int fd, int op);
int __real_rename(const char *from, const char *to);
int __real_link(const char *from, const char *to);
int __real_mkdir(const char *path, mode_t mode);
void *__real_mmap(void *at, size_t n, int prot, int flags, int fd,
    off_t off);
int __wrap_open(const char *path, int flags, ...);
ssize_t __wrap_read(int fd, void *buf, size_t n);
ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t at);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
int __wrap_fsync(int fd);
int __wrap_posix_fallocate(int fd, off_t at, off_t n);
int __wrap_fstat(int fd, struct stat *st);
int __wrap_flock(int fd, int op);
int __wrap_rename(const char *from, const char *to);
int __wrap_link(const char *from, const char *to);
int __wrap_mkdir(const char *path, mode_t mode);
void *__wrap_mmap(void *at, size_t n, int prot, int flags, int fd,
    off_t off);

/* Fail this call with e? */
static int
io_fails(int e)
{
	if (!fault_now(FAULT_IO))
		return 0;
	errno = e;
	return 1;
}

int
__wrap_open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;

		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	return io_fails(EIO) ? -1 : __real_open(path, flags, mode);
}

ssize_t
__wrap_read(int fd, void *buf, size_t n)
{
	return io_fails(EIO) ? -1 : __real_read(fd, buf, n);
}

ssize_t
__wrap_pread(int fd, void *buf, size_t n, off_t at)
{
	return io_fails(EIO) ? -1 : __real_pread(fd, buf, n, at);
}

ssize_t
__wrap_write(int fd, const void *buf, size_t n)
{
	return io_fails(ENOSPC) ? -1 : __real_write(fd, buf, n);
}

int
__wrap_fsync(int fd)
{
	return io_fails(ENOSPC) ? -1 : __real_fsync(fd);
}

int
__wrap_posix_fallocate(int fd, off_t at, off_t n)
{
	/* It answers the error rather than setting errno. */
	return io_fails(ENOSPC) ? ENOSPC : __real_posix_fallocate(fd, at, n);
}

int
__wrap_fstat(int fd, struct stat *st)
{
	return io_fails(EIO) ? -1 : __real_fstat(fd, st);
}

int
__wrap_flock(int fd, int op)
{
	return io_fails(EIO) ? -1 : __real_flock(fd, op);
}

int
__wrap_rename(const char *from, const char *to)
{
	return io_fails(EIO) ? -1 : __real_rename(from, to);
}

int
__wrap_link(const char *from, const char *to)
{
	return io_fails(EIO) ? -1 : __real_link(from, to);
}

int
__wrap_mkdir(const char *path, mode_t mode)
{
	return io_fails(EIO) ? -1 : __real_mkdir(path, mode);
}

void *
__wrap_mmap(void *at, size_t n, int prot, int flags, int fd, off_t off)
{
	return io_fails(ENOMEM) ? MAP_FAILED : __real_mmap(at, n, prot, flags,
	    fd, off);
}

/* Start a run: its first call of a new path among kinds will fail. */
static inline void
fault_arm(unsigned kinds)
{
	fault.fired = 0;
	fault.armed = kinds;
}

/* End a run: whether a call failed in it. */
static inline int
fault_disarm(void)
{
	fault.armed = 0;
	return fault.fired;
}

#endif /* CW_TEST_FAULT_H */
