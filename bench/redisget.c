/*
 * redisget: a plain pipelined hiredis client, the peer that cw-get -
 * answered from L2 is measured beside in make bench.
 *
 * usage: redisget PORT PREFIX <KEYS >KEY<TAB>VALUE lines
 *
 * GET PREFIX+key for BATCH keys at a time, all sent before any reply is
 * read (one round trip a batch), and each key written with its value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#define BATCH 1000

static void
die(const char *what)
{
	fprintf(stderr, "redisget: %s\n", what);
	exit(70);
}

static void
answer(redisContext *c, char (*keys)[256], int n)
{
	for (int i = 0; i < n; i++) {
		redisReply *r;

		if (redisGetReply(c, (void **)&r) != REDIS_OK)
			die(c->errstr);
		if (r->type == REDIS_REPLY_STRING) {
			fputs(keys[i], stdout);
			putchar('\t');
			fwrite(r->str, 1, r->len, stdout);
			putchar('\n');
		}
		freeReplyObject(r);
	}
}

int
main(int argc, char *argv[])
{
	static char keys[BATCH][256];
	redisContext *c;
	int n = 0;

	if (argc != 3)
		die("usage: redisget PORT PREFIX");
	if ((c = redisConnect("127.0.0.1", atoi(argv[1]))) == NULL || c->err)
		die("cannot connect to redis-server");
	while (fgets(keys[n], sizeof(keys[n]), stdin) != NULL) {
		keys[n][strcspn(keys[n], "\n")] = '\0';
		redisAppendCommand(c, "GET %s%s", argv[2], keys[n]);
		if (++n == BATCH) {
			answer(c, keys, n);
			n = 0;
		}
	}
	answer(c, keys, n);
	redisFree(c);
	fflush(stdout);
	return ferror(stdout) ? 74 : 0;
}
