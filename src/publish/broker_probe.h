/* broker_probe.h - why a connection to the broker failed, found by a connection of our own. */
#ifndef AUSCULT_BROKER_PROBE_H
#define AUSCULT_BROKER_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/status.h"

/*
 * Paho reports every failed TCP or TLS connect as "TCP/TLS connect failure", and OpenSSL's text
 * only when the handshake itself fails: a certificate for another host name (Paho checks it after
 * the handshake) and a broker that wants a client certificate (TLS 1.3 says so after the
 * handshake) leave no word. The probe connects once more the same way, keeps looking where Paho
 * stops, and names the fault and the setting that fixes it.
 */
struct broker_probe_target {
	const char *host; /* as in the URI (IPv6 literals with their brackets) */
	int port;
	bool tls;
	bool verify_server; /* check the certificate chain and the host name */
	const char *ca_file, *cert_file, *key_file; /* NULL: none (the system's CA store) */
};

struct broker_probe; /* shared by its caller and its thread */

/*
 * Starts the probe on a thread of its own (the strings of t are copied), so the caller never
 * waits for DNS, the network or the broker. Each step is bounded by timeout_s. Returns
 * AUSCULT_OK or AUSCULT_ERR_NOMEM (no thread could be started). Any thread.
 */
int broker_probe_start(struct broker_probe **out, const struct broker_probe_target *t,
		       double timeout_s, struct auscult_err *err);

/*
 * True once the probe has finished; then copies its finding into why ("" when it found nothing
 * to add: the connection works now, or the failure is not one it knows). Never blocks.
 */
bool broker_probe_result(struct broker_probe *pr, char *why, size_t why_cap);

/* Lets go of the probe; its thread frees it if still running. NULL-safe, never blocks. */
void broker_probe_release(struct broker_probe *pr);

/* The probe's work, run in the calling thread (blocking, bounded by timeout_s per step): writes
 * the finding into why, "" when none. */
void broker_probe_run(const struct broker_probe_target *t, double timeout_s, char *why,
		      size_t why_cap);

#endif
