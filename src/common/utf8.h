/* utf8.h - UTF-8 validity, for writers of text formats that must not carry invalid bytes. */
#ifndef AUSCULT_UTF8_H
#define AUSCULT_UTF8_H

#include <stddef.h>

/* The UTF-8 replacement character U+FFFD, for what is not valid. */
#define UTF8_REPLACEMENT "\xef\xbf\xbd"

/* Length of the valid UTF-8 sequence at s (n >= 1 bytes left), or 0 if it is not valid
 * (overlong forms, UTF-16 surrogates and code points past U+10FFFF included). Pure. */
size_t utf8_valid_len(const unsigned char *s, size_t n);

#endif
