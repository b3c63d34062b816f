/* test_audio_file_io.c - a read that fails inside a file is an I/O error, not its end: the audio file backend reads through its own cache, which libsndfile cannot ask why a read came up short. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <cmocka.h>

#include "audio/audio_backend.h"
#include "audio/audio_source.h"

/* Reads reaching past this byte of a file fail with EIO (-1: none). */
static off_t fail_from = -1;

/*
 * In front of the C library's pread: the backend's reads come here (this program's definition
 * wins over the shared library's; under _FILE_OFFSET_BITS=64 both are named pread64).
 */
ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	static ssize_t (*real)(int, void *, size_t, off_t);
	if (!real) {
#if defined(_FILE_OFFSET_BITS) && _FILE_OFFSET_BITS == 64
		*(void **)&real = dlsym(RTLD_NEXT, "pread64");
#else
		*(void **)&real = dlsym(RTLD_NEXT, "pread");
#endif
	}
	if (fail_from >= 0 && off + (off_t)n > fail_from) {
		if (off >= fail_from) {
			errno = EIO;
			return -1;
		}
		n = (size_t)(fail_from - off);
	}
	return real(fd, buf, n, off);
}

/* Reads the whole file: the read's last status, the frames, and its message. */
static int read_all(long long *frames, char *msg, size_t msg_size)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/vectors/pump_normal.wav", AUSCULT_SHARED_DIR);
	struct audio_source_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.kind = AUDIO_SOURCE_FILE;
	cfg.path = path;
	struct audio_backend *b = NULL;
	struct auscult_err err;
	memset(&err, 0, sizeof(err));
	assert_int_equal(audio_file_open(&b, &cfg, &err), AUSCULT_OK);
	float buf[4096];
	size_t got;
	int rc;
	*frames = 0;
	while ((rc = b->ops->read(b, buf, sizeof(buf) / sizeof(buf[0]) / b->channels, &got, 0,
				  &err)) == AUSCULT_OK)
		*frames += (long long)got;
	snprintf(msg, msg_size, "%s", rc == AUSCULT_ERR_EOF ? "" : err.msg);
	b->ops->close(b);
	return rc;
}

static void test_whole_file_ends(void **state)
{
	(void)state;
	long long frames;
	char msg[512];
	fail_from = -1;
	assert_int_equal(read_all(&frames, msg, sizeof(msg)), AUSCULT_ERR_EOF);
	assert_int_equal(frames, 160000); /* 10 s at 16 kHz, 16-bit mono */
}

static void test_failed_read_is_an_error(void **state)
{
	(void)state;
	long long frames;
	char msg[512];
	fail_from = 200000; /* inside the samples: 44-byte header, 2 bytes a frame */
	int rc = read_all(&frames, msg, sizeof(msg));
	fail_from = -1;
	assert_int_equal(rc, AUSCULT_ERR_IO);
	assert_true(frames > 0 && frames < 100000);
	assert_non_null(strstr(msg, "pump_normal.wav: read failed after "));
	assert_non_null(strstr(msg, strerror(EIO)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_file_ends),
		cmocka_unit_test(test_failed_read_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
