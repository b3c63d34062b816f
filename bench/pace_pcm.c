/* pace_pcm.c - writes raw PCM to stdout at the speed of real time, in small chunks, as `arecord` or a capture driver delivers it. */
#define _POSIX_C_SOURCE 200809L /* clock_nanosleep; the core library defines it for its users */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * usage: pace_pcm RATE_HZ CHANNELS FILE [CHUNK_MS]
 *
 * FILE holds raw signed 16-bit PCM (any byte order: it is passed through). It is written to
 * stdout in chunks of CHUNK_MS (default 10) at real time, from the start again at its end, until
 * the reader goes (exit 0) or the process is killed. bench/bench_daemon.sh (SOURCE=pipe) and
 * tests/daemon/paced_pipe.sh feed auscultd's stdin source with it, as a microphone would through
 * `arecord -t raw | auscultd`.
 */

#define CHUNK_MS_DEFAULT 10L

static long parse_positive(const char *text, const char *what, long max)
{
	char *end;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < 1 || v > max) {
		fprintf(stderr, "pace_pcm: %s '%s': expected a whole number in [1, %ld]\n", what,
			text, max);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: pace_pcm RATE_HZ CHANNELS FILE [CHUNK_MS]\n");
		return 2;
	}
	const long rate = parse_positive(argv[1], "RATE_HZ", 384000);
	const long channels = parse_positive(argv[2], "CHANNELS", 64);
	const long chunk_ms = argc == 5 ? parse_positive(argv[4], "CHUNK_MS", 1000)
					: CHUNK_MS_DEFAULT;
	FILE *f = fopen(argv[3], "rb");
	if (!f) {
		fprintf(stderr, "pace_pcm: %s: %s\n", argv[3], strerror(errno));
		return 1;
	}
	const size_t frame = 2u * (size_t)channels;
	const size_t chunk = (size_t)(rate * chunk_ms / 1000) * frame;
	size_t cap = 1u << 20, n = 0;
	unsigned char *pcm = malloc(cap);
	for (size_t got; pcm && (got = fread(pcm + n, 1, cap - n, f)) > 0;) {
		n += got;
		if (n == cap) {
			unsigned char *bigger = realloc(pcm, cap *= 2);
			if (!bigger)
				free(pcm);
			pcm = bigger;
		}
	}
	fclose(f);
	n -= n % frame;
	if (!pcm || n == 0 || chunk == 0) {
		fprintf(stderr, "pace_pcm: %s: %s\n", argv[3],
			pcm ? "no whole frame in it (or a chunk under one frame)"
			    : "out of memory");
		free(pcm);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN); /* a reader that goes is the end: write says EPIPE */

	struct timespec due;
	clock_gettime(CLOCK_MONOTONIC, &due);
	for (size_t at = 0;;) {
		for (size_t left = chunk; left > 0;) {
			size_t k = n - at < left ? n - at : left;
			ssize_t w = write(STDOUT_FILENO, pcm + at, k);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				free(pcm);
				return errno == EPIPE ? 0 : 1;
			}
			at = (at + (size_t)w) % n;
			left -= (size_t)w;
		}
		due.tv_nsec += chunk_ms * 1000000L;
		while (due.tv_nsec >= 1000000000L) {
			due.tv_sec++;
			due.tv_nsec -= 1000000000L;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) == EINTR)
			;
	}
}
