/* crc32.c - table-driven CRC-32 (reflected polynomial 0xEDB88320). */
#include "model/crc32.h"

#include <pthread.h>

static uint32_t crc_table[256];
static pthread_once_t crc_table_once = PTHREAD_ONCE_INIT;

/* The table is built once, on first use, rather than written out: 256 hand-copied constants
 * are a worse place for a typo than eight shifts. */
static void crc_table_build(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int bit = 0; bit < 8; bit++)
			c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t crc32_update(uint32_t crc, const void *data, size_t n)
{
	pthread_once(&crc_table_once, crc_table_build);
	const unsigned char *p = data;
	uint32_t c = ~crc;
	for (size_t i = 0; i < n; i++)
		c = crc_table[(c ^ p[i]) & 0xffu] ^ (c >> 8);
	return ~c;
}

uint32_t crc32_compute(const void *data, size_t n)
{
	return crc32_update(0, data, n);
}
