/* noop: the do-nothing C program, linked against libc alone: the floor
 * for the cost of starting a process. */
int
main(void)
{
	return 0;
}
