/* crc32.h - CRC-32 (IEEE 802.3, as in zlib and PNG) for checking model files. */
#ifndef AUSCULT_CRC32_H
#define AUSCULT_CRC32_H

#include <stddef.h>
#include <stdint.h>

/*
 * Continues a CRC over n more bytes: start with crc = 0, feed the data in any number of pieces,
 * the result after the last piece is the CRC of the whole. crc32_update(0, "123456789", 9) is
 * 0xCBF43926. Thread-safe; data may be NULL when n is 0.
 */
uint32_t crc32_update(uint32_t crc, const void *data, size_t n);

/* CRC-32 of one buffer: crc32_update(0, data, n). */
uint32_t crc32_compute(const void *data, size_t n);

#endif
