/* broker_probe.c - why a connection to the broker failed, found by a connection of our own. */
#include "publish/broker_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define PROBE_WHY_MAX 400

struct broker_probe {
	pthread_mutex_t lock;
	int refs; /* the caller and the thread; the last one frees */
	bool done;
	double timeout_s;
	char why[PROBE_WHY_MAX];
	struct broker_probe_target t; /* its strings are the copies below */
	char *host, *ca_file, *cert_file, *key_file;
};

/* host without the brackets of an IPv6 literal */
static void bare_host(const char *host, char *out, size_t cap)
{
	size_t n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']')
		snprintf(out, cap, "%.*s", (int)(n - 2), host + 1);
	else
		snprintf(out, cap, "%s", host);
}

/* Connects within timeout_s; returns the socket (blocking, I/O bounded by timeout_s) or -1 with
 * the reason in why. */
static int tcp_connect(const struct broker_probe_target *t, const char *host, double timeout_s,
		       char *why, size_t cap)
{
	char port[16];
	snprintf(port, sizeof(port), "%d", t->port);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	int grc = getaddrinfo(host, port, &hints, &res);
	if (grc != 0) {
		snprintf(why, cap, "cannot resolve '%s' (%s); check the host in mqtt.uri", host,
			 gai_strerror(grc));
		return -1;
	}
	int fd = -1, last_errno = 0;
	int timeout_ms = (int)(timeout_s * 1000);
	for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0) {
			last_errno = errno;
			continue;
		}
		int flags = fcntl(fd, F_GETFL);
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
		int rc = connect(fd, a->ai_addr, a->ai_addrlen);
		if (rc != 0 && errno == EINPROGRESS) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			int soerr = 0;
			socklen_t len = sizeof(soerr);
			if (poll(&pfd, 1, timeout_ms) <= 0)
				soerr = ETIMEDOUT;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
				soerr = errno;
			rc = soerr ? -1 : 0;
			errno = soerr;
		}
		if (rc != 0) {
			last_errno = errno;
			close(fd);
			fd = -1;
			continue;
		}
		fcntl(fd, F_SETFL, flags);
		struct timeval tv = { .tv_sec = (time_t)timeout_s,
				      .tv_usec = (suseconds_t)((timeout_s - (time_t)timeout_s) *
							       1e6) };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	freeaddrinfo(res);
	if (fd >= 0)
		return fd;
	if (last_errno == ECONNREFUSED)
		snprintf(why, cap,
			 "nothing accepts connections on %s port %d (connection refused); is the "
			 "broker running, and is the port in mqtt.uri right?",
			 host, t->port);
	else if (last_errno == ETIMEDOUT)
		snprintf(why, cap,
			 "no answer from %s port %d within %.0f s; check the network, firewalls "
			 "and the host in mqtt.uri",
			 host, t->port, timeout_s);
	else
		snprintf(why, cap, "cannot reach %s port %d: %s", host, t->port,
			 strerror(last_errno));
	return -1;
}

/* The names a certificate is for: its subjectAltName entries, else its common name. */
static void cert_names(X509 *cert, char *out, size_t cap)
{
	out[0] = '\0';
	size_t used = 0;
	GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; names && i < sk_GENERAL_NAME_num(names) && used < cap; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		char one[64] = "";
		if (g->type == GEN_DNS)
			snprintf(one, sizeof(one), "%.*s", ASN1_STRING_length(g->d.dNSName),
				 (const char *)ASN1_STRING_get0_data(g->d.dNSName));
		else if (g->type == GEN_IPADD && ASN1_STRING_length(g->d.iPAddress) == 4) {
			const unsigned char *ip = ASN1_STRING_get0_data(g->d.iPAddress);
			snprintf(one, sizeof(one), "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
		} else if (g->type == GEN_IPADD)
			snprintf(one, sizeof(one), "an IPv6 address");
		if (one[0])
			used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? ", " : "",
						 one);
	}
	GENERAL_NAMES_free(names);
	if (!out[0]) {
		char cn[256] = "";
		X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn,
					  sizeof(cn));
		snprintf(out, cap, "%s", cn[0] ? cn : "no name");
	}
}

/* OpenSSL's reason for the error at the head of this thread's queue, "" if none. */
static const char *ssl_reason(void)
{
	const char *r = ERR_reason_error_string(ERR_peek_last_error());
	return r ? r : "";
}

/* A refusal by the broker, as TLS alerts say it (during or just after the handshake). */
static void explain_alert(const struct broker_probe_target *t, const char *reason, char *why,
			  size_t cap)
{
	bool no_cert = strstr(reason, "certificate required") ||
		       strstr(reason, "handshake failure");
	if (!t->cert_file && no_cert)
		snprintf(why, cap,
			 "TLS: the broker requires a client certificate (%s); set mqtt.cert_file "
			 "and mqtt.key_file to a certificate signed by a CA the broker trusts",
			 reason);
	else if (t->cert_file && strstr(reason, "alert"))
		snprintf(why, cap,
			 "TLS: the broker refused our client certificate (%s); mqtt.cert_file must "
			 "be signed by a CA the broker trusts (mosquitto: cafile) and be valid now",
			 reason);
	else if (!reason[0] || strstr(reason, "unexpected eof"))
		snprintf(why, cap,
			 "TLS: the broker closed the connection during the handshake; is port %d "
			 "its TLS listener? use mqtt:// for a plain listener",
			 t->port);
	else if (strstr(reason, "wrong version number") || strstr(reason, "packet length"))
		snprintf(why, cap,
			 "TLS: the broker does not speak TLS on port %d (%s); use mqtt:// for a "
			 "plain listener or the port of its TLS listener",
			 t->port, reason);
	else
		snprintf(why, cap, "TLS: the handshake failed: %s",
			 reason[0] ? reason : "no reason");
}

static SSL_CTX *make_ctx(const struct broker_probe_target *t, char *why, size_t cap)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		snprintf(why, cap, "TLS: cannot set up OpenSSL: %s", ssl_reason());
		return NULL;
	}
	/* Verification is judged after the handshake, so that it gets as far as Paho's did. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	int ok = t->ca_file ? SSL_CTX_load_verify_locations(ctx, t->ca_file, NULL)
			    : SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		snprintf(why, cap, "TLS: cannot load the CA file '%s' (mqtt.ca_file): %s",
			 t->ca_file ? t->ca_file : "(system)", ssl_reason());
	} else if (t->cert_file && SSL_CTX_use_certificate_chain_file(ctx, t->cert_file) != 1) {
		snprintf(why, cap,
			 "TLS: cannot load the client certificate '%s' (mqtt.cert_file): %s",
			 t->cert_file, ssl_reason());
		ok = 0;
	} else if (t->cert_file &&
		   SSL_CTX_use_PrivateKey_file(ctx, t->key_file ? t->key_file : t->cert_file,
					       SSL_FILETYPE_PEM) != 1) {
		snprintf(why, cap,
			 "TLS: cannot load the client key '%s' (mqtt.key_file), or it does not "
			 "match mqtt.cert_file: %s",
			 t->key_file ? t->key_file : t->cert_file, ssl_reason());
		ok = 0;
	}
	if (ok != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* After a completed handshake: the chain, the host name, then a refusal the broker sends once
 * it has seen our (missing) certificate. */
static void judge_session(const struct broker_probe_target *t, const char *host, SSL *ssl,
			  char *why, size_t cap)
{
	X509 *cert = SSL_get1_peer_certificate(ssl);
	long vr = SSL_get_verify_result(ssl);
	if (t->verify_server && cert && vr != X509_V_OK) {
		snprintf(why, cap,
			 "TLS: certificate verify failed (%s): the broker's certificate is not signed "
			 "by a CA in %s%s%s; set mqtt.ca_file to the CA that signed it",
			 X509_verify_cert_error_string(vr), t->ca_file ? "mqtt.ca_file '" : "",
			 t->ca_file ? t->ca_file : "the system's CA store", t->ca_file ? "'" : "");
	} else if (t->verify_server && cert && X509_check_host(cert, host, 0, 0, NULL) != 1 &&
		   X509_check_ip_asc(cert, host, 0) != 1) {
		char names[200];
		cert_names(cert, names, sizeof(names));
		snprintf(why, cap,
			 "TLS: host name mismatch: the broker's certificate is for %s, not for '%s' "
			 "in mqtt.uri; connect by a name in the certificate's subjectAltName, or "
			 "reissue the certificate with '%s' in it",
			 names, host, host);
	}
	X509_free(cert);
	if (why[0])
		return;
	char byte;
	ERR_clear_error();
	int n = SSL_read(ssl, &byte, 1);
	if (n <= 0 && SSL_get_error(ssl, n) == SSL_ERROR_SSL)
		explain_alert(t, ssl_reason(), why, cap);
}

void broker_probe_run(const struct broker_probe_target *t, double timeout_s, char *why,
		      size_t why_cap)
{
	why[0] = '\0';
	char host[256];
	bare_host(t->host, host, sizeof(host));
	int fd = tcp_connect(t, host, timeout_s, why, why_cap);
	if (fd < 0 || !t->tls) {
		if (fd >= 0)
			close(fd);
		return;
	}
	ERR_clear_error();
	SSL_CTX *ctx = make_ctx(t, why, why_cap);
	SSL *ssl = ctx ? SSL_new(ctx) : NULL;
	if (ssl && SSL_set_fd(ssl, fd) == 1) {
		/* Paho sends the name too (SNI), so a broker serving several names picks the same
		 * certificate; OpenSSL refuses IP literals here, as Paho's call does. */
		SSL_set_tlsext_host_name(ssl, host);
		ERR_clear_error();
		if (SSL_connect(ssl) == 1)
			judge_session(t, host, ssl, why, why_cap);
		else
			explain_alert(t, ssl_reason(), why, why_cap);
	} else if (ctx) {
		snprintf(why, why_cap, "TLS: cannot set up OpenSSL: %s", ssl_reason());
	}
	if (ssl) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	SSL_CTX_free(ctx);
	close(fd);
	ERR_clear_error();
}

static void probe_free(struct broker_probe *pr)
{
	free(pr->host);
	free(pr->ca_file);
	free(pr->cert_file);
	free(pr->key_file);
	free(pr);
}

static void probe_unref(struct broker_probe *pr)
{
	pthread_mutex_lock(&pr->lock);
	bool last = --pr->refs == 0;
	pthread_mutex_unlock(&pr->lock);
	if (last) {
		pthread_mutex_destroy(&pr->lock);
		probe_free(pr);
	}
}

static void *probe_thread(void *arg)
{
	struct broker_probe *pr = arg;
	char why[PROBE_WHY_MAX];
	broker_probe_run(&pr->t, pr->timeout_s, why, sizeof(why));
	pthread_mutex_lock(&pr->lock);
	memcpy(pr->why, why, sizeof(why));
	pr->done = true;
	pthread_mutex_unlock(&pr->lock);
	probe_unref(pr);
	return NULL;
}

int broker_probe_start(struct broker_probe **out, const struct broker_probe_target *t,
		       double timeout_s, struct auscult_err *err)
{
	*out = NULL;
	struct broker_probe *pr = calloc(1, sizeof(*pr));
	if (!pr)
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "mqtt: out of memory");
	bool nomem = false;
	pr->t = *t;
	const char *from[] = { t->host, t->ca_file, t->cert_file, t->key_file };
	char **to[] = { &pr->host, &pr->ca_file, &pr->cert_file, &pr->key_file };
	for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++)
		if (from[i] && !(*to[i] = strdup(from[i])))
			nomem = true;
	pr->t.host = pr->host;
	pr->t.ca_file = pr->ca_file;
	pr->t.cert_file = pr->cert_file;
	pr->t.key_file = pr->key_file;
	pr->timeout_s = timeout_s;
	pr->refs = 2;
	pthread_attr_t attr;
	bool attr_ok = !nomem && pthread_attr_init(&attr) == 0;
	bool started = false;
	if (attr_ok && pthread_mutex_init(&pr->lock, NULL) == 0) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_t th;
		started = pthread_create(&th, &attr, probe_thread, pr) == 0;
		if (!started)
			pthread_mutex_destroy(&pr->lock);
	}
	if (attr_ok)
		pthread_attr_destroy(&attr);
	if (!started) {
		probe_free(pr);
		return auscult_fail(err, AUSCULT_ERR_NOMEM,
				    "mqtt: cannot start a connection probe");
	}
	*out = pr;
	return AUSCULT_OK;
}

bool broker_probe_result(struct broker_probe *pr, char *why, size_t why_cap)
{
	pthread_mutex_lock(&pr->lock);
	bool done = pr->done;
	if (done)
		snprintf(why, why_cap, "%s", pr->why);
	pthread_mutex_unlock(&pr->lock);
	return done;
}

void broker_probe_release(struct broker_probe *pr)
{
	if (pr)
		probe_unref(pr);
}
