/* cmd_score.c - `auscult score` (being written). */
#include <stdio.h>

#include "tools/commands.h"

int cmd_score(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "auscult score: not built yet\n");
	return 1;
}
