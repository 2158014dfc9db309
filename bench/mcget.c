/*
 * mcget: a plain memcached client over its text protocol, the peer
 * that cw-get - is measured beside in make bench.
 *
 * usage: mcget PORT set <KEY<TAB>VALUE lines
 *        mcget PORT get <KEYS >KEY<TAB>VALUE lines
 *
 * set stores each line's value under its key; get asks for the keys
 * BATCH at a time in one "get k1 k2 ..." (memcached's multi-get) and
 * writes each key with its value, as cw-get - writes them. What it
 * stores is what it prints: it escapes nothing.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 100
#define LINE_MAX_BYTES (1 << 20)

static void
die(const char *what)
{
	fprintf(stderr, "mcget: %s\n", what);
	exit(70);
}

static int
dial(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
		.sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		die("cannot connect to memcached");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void
send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			die("write to memcached");
		p += w;
		n -= (size_t)w;
	}
}

/* The replies, read through one buffer. */
struct in {
	int fd;
	char *buf;
	size_t start, end, cap;
};

static void
fill_more(struct in *in)
{
	ssize_t r;

	if (in->start > 0) {
		memmove(in->buf, in->buf + in->start, in->end - in->start);
		in->end -= in->start;
		in->start = 0;
	}
	if (in->end == in->cap && (in->buf = realloc(in->buf,
	    in->cap *= 2)) == NULL)
		die("out of memory");
	if ((r = read(in->fd, in->buf + in->end, in->cap - in->end)) <= 0)
		die("read from memcached");
	in->end += (size_t)r;
}

/* The next reply line, without its \r\n, and its length. */
static char *
next_line(struct in *in, size_t *len)
{
	char *nl;

	while ((nl = memchr(in->buf + in->start, '\n', in->end -
	    in->start)) == NULL)
		fill_more(in);
	*len = (size_t)(nl - (in->buf + in->start)) - 1;
	nl = in->buf + in->start;
	in->start += *len + 2;
	return nl;
}

/* n bytes of data and their \r\n, at least until the next call. */
static char *
take(struct in *in, size_t n)
{
	char *p;

	while (in->end - in->start < n + 2)
		fill_more(in);
	p = in->buf + in->start;
	in->start += n + 2;
	return p;
}

static void
get_batch(int fd, struct in *in, char *req, size_t reqlen)
{
	size_t len;

	send_all(fd, req, reqlen);
	for (;;) {
		char *l = next_line(in, &len), key[256];
		unsigned flags;
		size_t bytes;
		int klen;

		if (len == 3 && memcmp(l, "END", 3) == 0)
			return;
		l[len] = '\0';
		if (sscanf(l, "VALUE %255s %u %zu", key, &flags, &bytes) != 3)
			die("unexpected reply");
		klen = (int)strlen(key);
		fwrite(key, 1, (size_t)klen, stdout);
		putchar('\t');
		fwrite(take(in, bytes), 1, bytes, stdout);
		putchar('\n');
	}
}

int
main(int argc, char *argv[])
{
	struct in in = { 0 };
	char *line = malloc(LINE_MAX_BYTES), *req;
	size_t reqlen = 0, reqcap = 1 << 16, len;
	int fd, n = 0;

	if (argc != 3 || line == NULL)
		die("usage: mcget PORT set|get");
	fd = dial(atoi(argv[1]));
	in.fd = fd;
	in.cap = 1 << 16;
	if ((in.buf = malloc(in.cap)) == NULL ||
	    (req = malloc(reqcap)) == NULL)
		die("out of memory");
	while (fgets(line, LINE_MAX_BYTES, stdin) != NULL) {
		if ((len = strlen(line)) > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (strcmp(argv[2], "set") == 0) {
			char *tab = strchr(line, '\t'), head[400];
			int h;

			if (tab == NULL)
				continue;
			*tab = '\0';
			h = snprintf(head, sizeof(head), "set %s 0 0 %zu\r\n",
			    line, len - (size_t)(tab + 1 - line));
			send_all(fd, head, (size_t)h);
			send_all(fd, tab + 1, len - (size_t)(tab + 1 - line));
			send_all(fd, "\r\n", 2);
			if (strncmp(next_line(&in, &len), "STORED", 6) != 0)
				die("not stored");
			continue;
		}
		if (reqlen + len + 8 > reqcap && (req = realloc(req,
		    reqcap = 2 * (reqlen + len + 8))) == NULL)
			die("out of memory");
		if (reqlen == 0) {
			memcpy(req, "get", 3);
			reqlen = 3;
		}
		req[reqlen++] = ' ';
		memcpy(req + reqlen, line, len);
		reqlen += len;
		if (++n == BATCH) {
			memcpy(req + reqlen, "\r\n", 2);
			get_batch(fd, &in, req, reqlen + 2);
			reqlen = 0;
			n = 0;
		}
	}
	if (n > 0) {
		memcpy(req + reqlen, "\r\n", 2);
		get_batch(fd, &in, req, reqlen + 2);
	}
	fflush(stdout);
	return ferror(stdout) ? 74 : 0;
}
