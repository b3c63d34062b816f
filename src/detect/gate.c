/* gate.c - per-vector machine-off gate with a settle time after each start. */
#include "detect/gate.h"

#include <math.h>
#include <string.h>

void gate_config_defaults(struct gate_config *cfg)
{
	cfg->silence_dbfs = (float)GATE_SILENCE_DBFS_DEFAULT;
	cfg->off_vectors = 32;
	cfg->settle_vectors = 94;
}

int gate_init(struct gate *g, const struct gate_config *cfg, struct auscult_err *err)
{
	memset(g, 0, sizeof(*g));
	if (isnan(cfg->silence_dbfs) || cfg->silence_dbfs > 0.0f)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "gate: silence_dbfs %g is out of range [-inf, 0]",
				    (double)cfg->silence_dbfs);
	if (cfg->off_vectors < 1)
		return auscult_fail(err, AUSCULT_ERR_INVALID, "gate: off_vectors must be >= 1");
	g->cfg = *cfg;
	/* -inf dBFS gives 0: every level is at least that, so nothing is ever off. */
	g->silence_ms = pow(10.0, (double)cfg->silence_dbfs / 10.0);
	return AUSCULT_OK;
}

int gate_push(struct gate *g, double level_ms)
{
	if (level_ms < g->silence_ms) {
		if (g->off_run < g->cfg.off_vectors && ++g->off_run == g->cfg.off_vectors)
			g->stopped = 1;
		return 0;
	}
	g->off_run = 0;
	if (g->stopped) {
		g->stopped = 0;
		g->settle_left = g->cfg.settle_vectors;
	}
	if (g->settle_left > 0) {
		g->settle_left--;
		return 0;
	}
	return 1;
}

void gate_reset(struct gate *g)
{
	g->off_run = 0;
	g->settle_left = 0;
	g->stopped = 0;
}
