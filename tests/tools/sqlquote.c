/*
 * sqlquote: each line of stdin as a SQL string literal, one per line.
 * Lets a CLI test send cw_sql_quote's output to a real ClickHouse and
 * check that every literal comes back as the bytes it was made from.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#include "cw.h"
#include "tmpl_int.h"

int
main(void)
{
	struct cw_buf b = { 0 };
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (line[n - 1] == '\n')
			n--;
		b.len = 0;
		if (cw_sql_quote(&b, line, (size_t)n, NULL) != CW_OK)
			return 1;
		printf("%.*s\n", (int)b.len, b.data);
	}
	free(line);
	cw_buf_free(&b);
	return ferror(stdin) || fflush(stdout) != 0;
}
