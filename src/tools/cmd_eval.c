/* cmd_eval.c - `auscult eval` (being written). */
#include <stdio.h>

#include "tools/commands.h"

int cmd_eval(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "auscult eval: not built yet\n");
	return 1;
}
