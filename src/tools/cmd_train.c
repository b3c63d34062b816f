/* cmd_train.c - `auscult train` (being written). */
#include <stdio.h>

#include "tools/commands.h"

int cmd_train(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "auscult train: not built yet\n");
	return 1;
}
