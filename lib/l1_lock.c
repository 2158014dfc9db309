/*
 * l1_lock: the writers' lock of the L1 file.
 *
 * One robust, process-shared mutex in the header serialises every
 * writer on the host. Writers hold it for microseconds, so any wait is
 * bounded: a dead owner's lock is recovered (the kernel's EOWNERDEAD, or
 * an owner id that names no live thread, as in a file restored from a
 * copy), a live owner that holds it too long is an error with its pid.
 * Readers never take it.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cw.h"
#include "l1_int.h"

/* The thread holding the lock, from the futex word: its kernel thread id
 * (glibc's robust mutexes keep it there), 0 when free. */
static pid_t
lock_owner(const struct cw_l1 *l1)
{
	return (pid_t)(__atomic_load_n(&l1->hdr->lock.mutex.__data.__lock,
	    __ATOMIC_ACQUIRE) & FUTEX_TID_MASK);
}

static int
thread_alive(pid_t tid)
{
	/* kill() finds a process by any of its threads' ids. */
	return kill(tid, 0) == 0 || errno != ESRCH;
}

int
cw_l1_int_init_mutex(pthread_mutex_t *m)
{
	pthread_mutexattr_t ma;
	int rc;

	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	rc = pthread_mutex_init(m, &ma);
	pthread_mutexattr_destroy(&ma);
	return rc;
}

/*
 * The lock names an owner that no longer exists and that the kernel
 * will never report dead: the file was restored from a copy taken while
 * a writer held it, or written back before a power loss. Only one
 * process may replace the mutex (flock on the file orders them, and
 * each looks again under it); the writers' state is then repaired as
 * after a dead writer, and every waiter is woken to look again.
 */
static void
recover_orphaned_lock(struct cw_l1 *l1, pid_t dead)
{
	pthread_mutex_t *m = &l1->hdr->lock.mutex;

	if (flock(l1->fd, LOCK_EX) != 0)
		return;
	if (lock_owner(l1) == dead && !thread_alive(dead) &&
	    cw_l1_int_init_mutex(m) == 0 && pthread_mutex_lock(m) == 0) {
		cw_l1_int_repair(l1);
		pthread_mutex_unlock(m);
		syscall(SYS_futex, &m->__data.__lock, FUTEX_WAKE, INT_MAX,
		    NULL, NULL, 0);
	}
	flock(l1->fd, LOCK_UN);
}

static int64_t
stuck_until(const struct cw_l1 *l1)
{
	return __atomic_load_n(&l1->lock_stuck_until_s, __ATOMIC_RELAXED);
}

static void
set_stuck_until(struct cw_l1 *l1, int64_t s)
{
	__atomic_store_n(&l1->lock_stuck_until_s, s, __ATOMIC_RELAXED);
}

/* Wait for the lock until a monotonic deadline. ThreadSanitizer does
 * not know pthread_mutex_clocklock and would take every lock taken by it
 * for one not held; under it, the same wait on the realtime clock. */
static int
timed_lock(pthread_mutex_t *m, const struct timespec *deadline)
{
#ifdef L1_TSAN
	struct timespec now_mono, rt;

	clock_gettime(CLOCK_MONOTONIC, &now_mono);
	clock_gettime(CLOCK_REALTIME, &rt);
	rt.tv_sec += deadline->tv_sec - now_mono.tv_sec;
	rt.tv_nsec += deadline->tv_nsec - now_mono.tv_nsec;
	if (rt.tv_nsec < 0) {
		rt.tv_sec--;
		rt.tv_nsec += 1000000000;
	} else if (rt.tv_nsec >= 1000000000) {
		rt.tv_sec++;
		rt.tv_nsec -= 1000000000;
	}
	return pthread_mutex_timedlock(m, &rt);
#else
	return pthread_mutex_clocklock(m, CLOCK_MONOTONIC, deadline);
#endif
}

/*
 * A live owner that holds the lock past the wait (stopped, or stuck) is
 * CW_ETIMEOUT, and for a while after that the handle only tries, so
 * that a batch of fills does not wait once per key.
 */
int
cw_l1_int_lock(struct cw_l1 *l1, struct cw_err *err)
{
	pthread_mutex_t *m = &l1->hdr->lock.mutex;
	struct timespec deadline;
	int rc, recovered = 0;
	pid_t owner;

	if (l1->read_only)
		return cw_err_set(err, CW_EIO, 0,
		    "%s: opened read-only (this needs write access)",
		    l1->path);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	rc = EBUSY;
	/* Only the owner that was stuck is given up on at once: once it
	 * has let go, a lock busy with anyone else is waited for again. */
	if (deadline.tv_sec < stuck_until(l1) &&
	    (rc = pthread_mutex_trylock(m)) == EBUSY &&
	    (owner = lock_owner(l1)) == __atomic_load_n(&l1->lock_stuck_owner,
	    __ATOMIC_RELAXED))
		return cw_err_set(err, CW_ETIMEOUT, 0,
		    "lock %s: still held by process %d", l1->path, (int)owner);
	if (rc == EBUSY) {
		deadline.tv_sec += L1_LOCK_WAIT_MS / 1000;
		deadline.tv_nsec += L1_LOCK_WAIT_MS % 1000 * 1000000;
		if (deadline.tv_nsec >= 1000000000) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000;
		}
		for (;;) {
			if ((rc = pthread_mutex_trylock(m)) != EBUSY)
				break;
			owner = lock_owner(l1);
			if (owner != 0 && !thread_alive(owner) && !recovered) {
				recover_orphaned_lock(l1, owner);
				recovered = 1;
				continue;
			}
			rc = timed_lock(m, &deadline);
			if (rc != ETIMEDOUT)
				break;
			owner = lock_owner(l1);
			if (owner != 0 && !thread_alive(owner) && !recovered)
				continue;	/* died while we waited */
			__atomic_store_n(&l1->lock_stuck_owner, owner,
			    __ATOMIC_RELAXED);
			set_stuck_until(l1, deadline.tv_sec +
			    L1_LOCK_BACKOFF_S);
			return cw_err_set(err, CW_ETIMEOUT, 0,
			    "lock %s: held by process %d for over %d ms",
			    l1->path, (int)owner, L1_LOCK_WAIT_MS);
		}
	}
	if (rc == EOWNERDEAD) {
		/* A writer died holding the lock: the file may be half
		 * written. Make it consistent before anyone else goes on. */
		cw_l1_int_repair(l1);
		pthread_mutex_consistent(m);
		return CW_OK;
	}
	if (rc != 0)
		return cw_err_set(err, CW_EIO, rc, "lock %s", l1->path);
	if (stuck_until(l1) != 0)
		set_stuck_until(l1, 0);
	if (!cw_l1_int_writer_state_sane(l1->hdr))
		cw_l1_int_repair(l1);
	return CW_OK;
}

void
cw_l1_int_unlock(struct cw_l1 *l1)
{
	pthread_mutex_unlock(&l1->hdr->lock.mutex);
}
