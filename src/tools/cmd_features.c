/* cmd_features.c - `auscult features` (being written). */
#include <stdio.h>

#include "tools/commands.h"

int cmd_features(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "auscult features: not built yet\n");
	return 1;
}
