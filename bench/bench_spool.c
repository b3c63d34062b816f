/* bench_spool.c - what the durable spool costs: one synced append per event, replay at start. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "publish/spool.h"

#define APPENDS 200
#define REPLAY_RECORDS 20000

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* A payload of the size of a real event with five bands (about 600 bytes). */
static void event_payload(char *buf, size_t cap, int i)
{
	snprintf(
		buf, cap,
		"{\"id\":\"pump-%d\",\"type\":\"end\",\"monitor\":\"pump\",\"start\":\"2026-12-04T17:"
		"00:00.000Z\",\"end\":\"2026-12-04T17:00:15.000Z\",\"duration_s\":15,\"peak\":1.93,"
		"\"mean\":1.41,\"threshold\":1.05,\"bands\":[%s]}",
		i,
		"{\"band\":52,\"hz_low\":3093.75,\"hz_high\":3218.75,\"share\":0.4123},"
		"{\"band\":53,\"hz_low\":3218.75,\"hz_high\":3343.75,\"share\":0.2011},"
		"{\"band\":80,\"hz_low\":6250,\"hz_high\":6375,\"share\":0.1500},"
		"{\"band\":14,\"hz_low\":875,\"hz_high\":937.5,\"share\":0.0712},"
		"{\"band\":15,\"hz_low\":937.5,\"hz_high\":1000,\"share\":0.0503}");
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/bench_spool_XXXXXX";
	const char *dir = argc > 1 ? argv[1] : mkdtemp(tmpl);
	if (!dir) {
		perror("mkdtemp");
		return 1;
	}
	struct spool *s;
	struct auscult_err err;
	if (spool_open(&s, dir, (size_t)64 << 20, NULL, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	char payload[1024];
	static double ms[APPENDS];
	for (int i = 0; i < APPENDS; i++) {
		event_payload(payload, sizeof(payload), i);
		uint64_t id;
		double t0 = clock_mono_s();
		if (spool_append(s, MESSAGE_EVENT, "auscult/pump/event", payload, &id, NULL,
				 &err)) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		ms[i] = (clock_mono_s() - t0) * 1e3;
		spool_done(s, id, NULL);
	}
	qsort(ms, APPENDS, sizeof(ms[0]), cmp_double);
	printf("append+fdatasync of a %zu-byte event, %d times in %s: median %.3f ms, p90 %.3f ms, "
	       "max %.3f ms\n",
	       strlen(payload), APPENDS, dir, ms[APPENDS / 2], ms[APPENDS * 9 / 10],
	       ms[APPENDS - 1]);

	/* Replay: a spool left full of unacknowledged events by a long outage. */
	for (int i = 0; i < REPLAY_RECORDS; i++) {
		event_payload(payload, sizeof(payload), i);
		uint64_t id;
		if (spool_append(s, MESSAGE_EVENT, "auscult/pump/event", payload, &id, NULL,
				 &err)) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
	}
	size_t bytes = spool_file_bytes(s);
	spool_close(s);
	double t0 = clock_mono_s();
	struct spool_open_report rep;
	if (spool_open(&s, dir, (size_t)64 << 20, &rep, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	double open_ms = (clock_mono_s() - t0) * 1e3;
	printf("open+replay+rewrite of %zu records (%zu bytes): %.1f ms\n", rep.replayed, bytes,
	       open_ms);
	spool_close(s);
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, SPOOL_FILE_NAME);
	unlink(path);
	if (argc <= 1)
		rmdir(dir);
	return 0;
}
