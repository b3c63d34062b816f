/* cmd_devices.c - `auscult devices` (being written). */
#include <stdio.h>

#include "tools/commands.h"

int cmd_devices(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "auscult devices: not built yet\n");
	return 1;
}
