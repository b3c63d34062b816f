/* auscultd_main.c - entry point of the auscultd daemon (being written). */
#include <stdio.h>

int main(void)
{
	fprintf(stderr, "auscultd: not built yet\n");
	return 1;
}
