/* gate.h - the machine-off gate: which model vectors count towards a window's score. */
#ifndef AUSCULT_GATE_H
#define AUSCULT_GATE_H

#include <stdint.h>

#include "common/status.h"

/*
 * A machine that is off says nothing about its health, and neither does the second after it
 * starts (spin-up, valves, and vectors that straddle the switch-on edge). The gate judges every
 * vector by its level: a vector quieter than silence_dbfs is `off` and does not count; a run of
 * off_vectors off vectors means the machine stopped; the first settle_vectors running vectors
 * after that do not count either (the settle time). A stream starts with the machine taken as
 * running: no settle at start-up.
 */
/* The level below which a machine is off, dBFS: a monitor's default silence_dbfs, and the level
 * under which `auscult score` calls a clip silent and `auscult record` warns. */
#define GATE_SILENCE_DBFS_DEFAULT -70

struct gate_config {
	float silence_dbfs;      /* below this level a vector is off; -INFINITY: never off */
	uint32_t off_vectors;    /* a run this long means the machine stopped, >= 1 */
	uint32_t settle_vectors; /* running vectors ignored after a stop, >= 0 */
};

struct gate {
	struct gate_config cfg;
	double silence_ms;    /* silence_dbfs as a mean square (full scale = 1.0) */
	uint32_t off_run;     /* consecutive off vectors */
	uint32_t settle_left; /* running vectors still to ignore */
	int stopped;          /* a run of off_vectors was seen and no vector ran since */
};

/* GATE_SILENCE_DBFS_DEFAULT, off after 32 vectors, settle 94 vectors (about 1 s and 3 s at
 * 32 ms a vector). */
void gate_config_defaults(struct gate_config *cfg);

/* Checks cfg. Returns AUSCULT_OK or AUSCULT_ERR_INVALID with err set. Allocates nothing. */
int gate_init(struct gate *g, const struct gate_config *cfg, struct auscult_err *err);

/*
 * Judges one vector by level_ms, the mean square of its quietest hop of samples (so a vector that
 * touches silence anywhere is off). Returns 1 when the vector counts. Never fails.
 */
int gate_push(struct gate *g, double level_ms);

/* A new stream: the machine is taken as running. */
void gate_reset(struct gate *g);

#endif
