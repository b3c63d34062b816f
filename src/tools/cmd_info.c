/* cmd_info.c - `auscult info` (being written). */
#include <stdio.h>

#include "tools/commands.h"

int cmd_info(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "auscult info: not built yet\n");
	return 1;
}
